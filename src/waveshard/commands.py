"""``waveshard`` data tools (not Kedro commands: they prepare or move raw trees).

Run ``uv run waveshard --help``.
"""

from __future__ import annotations

from pathlib import Path

import click


@click.group()
def main() -> None:
    """waveshard data tools."""


@main.command("make-sample")
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("data/01_raw"),
    show_default=True,
    help="Folder to write the MIMIC-III-layout tree into (group folders 30..39).",
)
@click.option(
    "--groups",
    default="30,31,32,33,34,35,36,37,38,39",
    show_default=True,
    help="Comma-separated group ids.",
)
@click.option("--records-per-group", default=2, show_default=True, type=click.IntRange(1))
@click.option("--seed", default=20261127, show_default=True, type=int)
def make_sample(out: Path, groups: str, records_per_group: int, seed: int) -> None:
    """Write the small synthetic sample tree (the one bundled under data/01_raw)."""
    from waveshard.sample import write_sample_tree

    summary = write_sample_tree(
        out,
        groups=[g.strip() for g in groups.split(",") if g.strip()],
        records_per_group=records_per_group,
        seed=seed,
    )
    click.echo(
        f"Wrote {summary.records} records, {summary.segments} segments "
        f"({summary.dat_bytes / 1e6:.2f} MB of .dat) in {len(summary.groups)} groups to {out}"
    )
