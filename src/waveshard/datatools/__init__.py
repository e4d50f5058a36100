"""Data tools: move raw WFDB trees to S3 (``upload``) and from PhysioNet (``download``)."""
