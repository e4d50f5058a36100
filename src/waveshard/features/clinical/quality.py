"""Per-window signal quality: valid, flat-line, clipped and out-of-range samples.

Counts, not fractions, are returned so that a window that straddles two
pieces of a record (two segments) adds up exactly; :mod:`windows` divides by
the window's length at the end.

Definitions (each a count of samples of one channel inside one window):

- ``present``: samples the record has there at all, valid or not;
- ``valid``: finite samples (not the format's invalid-sample value);
- ``flat``: samples in blocks of ``flat_block_s`` seconds (aligned to the
  piece's first sample) whose samples are all valid and all equal: a lead
  that is off, a transducer that is disconnected or a line held at one value;
- ``clipped``: valid samples at the lowest or highest value the ADC can
  represent (saturation);
- ``out_of_range``: valid samples outside the signal's physiological range.
"""

from __future__ import annotations

import numpy as np

QUALITY_COUNTS = ("present", "valid", "flat", "clipped", "out_of_range")


def window_quality_counts(
    x: np.ndarray,
    bounds: np.ndarray,
    fs: float,
    *,
    adc_range: tuple[float, float] | None,
    physiological_range: tuple[float, float] | None,
    flat_block_s: float,
) -> np.ndarray:
    """Quality counts of one channel for consecutive windows.

    Args:
        x: Physical samples, NaN = invalid.
        bounds: Index of the first sample of each window in ``x``, strictly
            increasing, starting at 0; the last window runs to the end of ``x``.
        fs: Sampling frequency in Hz.
        adc_range: Physical values of the lowest and highest valid digital
            value, or None when unknown (then nothing counts as clipped).
        physiological_range: Plausible physical range, or None (nothing is
            out of range).
        flat_block_s: Block length of the flat-line test.

    Returns:
        An ``(len(bounds), 5)`` int64 array in :data:`QUALITY_COUNTS` order.
    """
    n = len(x)
    counts = np.zeros((len(bounds), len(QUALITY_COUNTS)), dtype=np.int64)
    if n == 0 or len(bounds) == 0:
        return counts
    counts[:, 0] = np.diff(np.append(bounds, n))

    def per_window(mask: np.ndarray) -> np.ndarray:
        return np.add.reduceat(mask.view(np.int8), bounds, dtype=np.int64)

    counts[:, 1] = per_window(np.isfinite(x))
    block = max(2, round(flat_block_s * fs))
    n_blocks = n // block
    if n_blocks:
        blocks = x[: n_blocks * block].reshape(n_blocks, block)
        # NaN makes max - min NaN, so a block with an invalid sample is not flat.
        flat_blocks = blocks.max(axis=1) == blocks.min(axis=1)
        if flat_blocks.any():
            flat = np.zeros(n, dtype=bool)
            flat[: n_blocks * block] = np.repeat(flat_blocks, block)
            counts[:, 2] = per_window(flat)
    with np.errstate(invalid="ignore"):
        if adc_range is not None:
            low, high = adc_range
            tolerance = 1e-9 * max(abs(high - low), 1.0)
            counts[:, 3] = per_window((x <= low + tolerance) | (x >= high - tolerance))
        if physiological_range is not None:
            low, high = physiological_range
            counts[:, 4] = per_window((x < low) | (x > high))
    return counts
