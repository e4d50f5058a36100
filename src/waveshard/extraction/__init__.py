"""Per-segment work over a group: shards balanced by bytes, run in parallel behind an
isolation boundary, with progress."""
