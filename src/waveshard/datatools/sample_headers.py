"""Header text of the synthetic sample, spelt as MIMIC-III spells it.

wfdb writes most of the sample's headers; this module rewrites them into the
archive's own spelling and writes by hand the two kinds wfdb cannot: layout
headers (``~`` signal lines) and masters listing a zero-length segment.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path

import wfdb

# wfdb writes "29(0)/mV" and unsigned checksums; MIMIC-III headers omit a zero
# baseline ("29/mV") and store the checksum as a signed 16-bit number.
_SIGNAL_LINE = re.compile(
    r"^(?P<head>\S+ \d+) (?P<gain>[0-9.eE+-]+)\((?P<base>-?\d+)\)/(?P<units>\S+)"
    r" (?P<res>-?\d+) (?P<zero>-?\d+) (?P<init>-?\d+) (?P<cksum>-?\d+) (?P<tail>.*)$"
)


def format_gain(gain: float, baseline: int, units: str) -> str:
    text = f"{gain:g}" if float(gain) != int(gain) else str(int(gain))
    return f"{text}/{units}" if baseline == 0 else f"{text}({baseline})/{units}"


def to_mimic_header(path: Path) -> None:
    """Rewrite a header wfdb wrote in MIMIC-III's spelling (baselines, signed checksums)."""
    lines = path.read_text().splitlines()
    fixed = [lines[0]]
    for line in lines[1:]:
        m = _SIGNAL_LINE.match(line)
        if m is None:
            fixed.append(line)
            continue
        checksum = int(m["cksum"])
        if checksum >= 32768:
            checksum -= 65536
        gain = format_gain(float(m["gain"]), int(m["base"]), m["units"])
        fixed.append(
            f"{m['head']} {gain} {m['res']} {m['zero']} {m['init']} {checksum} {m['tail']}"
        )
    path.write_text("\n".join(fixed) + "\n")


def to_millisecond(moment: dt.datetime) -> dt.time:
    """The time of day of ``moment``, cut to whole milliseconds as headers store it."""
    return moment.time().replace(microsecond=moment.microsecond // 1000 * 1000)


def format_time(moment: dt.datetime) -> str:
    # Same spelling as wfdb's writer, so hand-written and wfdb-written headers agree.
    text = str(to_millisecond(moment))
    return text.rstrip("0") if "." in text else text


def write_layout(
    out: Path,
    record: str,
    *,
    start: dt.datetime,
    fs: float,
    channels: Sequence[tuple[str, float, int, str]],
) -> None:
    """Write ``<record>_layout.hea``: one ``~`` signal line per (name, gain, baseline, units)."""
    # Hand-written: wfdb cannot write "~" as a file name with format 0, which is
    # how every MIMIC-III layout header spells its signal lines.
    lines = [f"{record}_layout {len(channels)} {fs} 0 {format_time(start)}"]
    for name, gain, baseline, units in channels:
        lines.append(f"~ 0 {format_gain(gain, baseline, units)} 8 0 -128 0 0 {name}")
    (out / f"{record}_layout.hea").write_text("\n".join(lines) + "\n")


def write_master(
    out: Path,
    record: str,
    *,
    start: dt.datetime,
    fs: float,
    n_sig: int,
    segments: Sequence[tuple[str, int]],
    total: int,
) -> None:
    """Write the master header ``<record>.hea``: the layout, then each (segment, length)."""
    seg_name = [f"{record}_layout"] + [name for name, _ in segments]
    seg_len = [0] + [length for _, length in segments]
    if 0 in seg_len[1:]:
        # wfdb's MultiRecord check allows length 0 only for the layout segment, so a
        # master listing a zero-length segment is written by hand in the same shape.
        lines = [
            f"{record}/{len(seg_name)} {n_sig} {fs} {total} {format_time(start)} {start:%d/%m/%Y}"
        ]
        lines += [f"{name} {length}" for name, length in zip(seg_name, seg_len, strict=True)]
        (out / f"{record}.hea").write_text("\n".join(lines) + "\n")
        return
    master = wfdb.MultiRecord(
        record_name=record,
        n_sig=n_sig,
        fs=fs,
        sig_len=total,
        base_time=to_millisecond(start),
        base_date=start.date(),
        seg_name=seg_name,
        seg_len=seg_len,
    )
    # The constructor does not derive n_seg, which wrheader needs.
    master.n_seg = len(seg_name)
    master.wrheader(write_dir=str(out))
