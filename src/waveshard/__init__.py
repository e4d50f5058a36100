"""waveshard: exact, parallel feature extraction from MIMIC-III-layout WFDB archives."""

__version__ = "0.1.0"
