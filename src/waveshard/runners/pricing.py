"""Runtime and cost estimates for the plan and the summary."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Rate:
    """Measured (or configured) processing throughput of one instance type."""

    bytes_per_s: float
    source: str


def measured_rates(markers: list[dict[str, Any]]) -> dict[tuple[str, str, str], Rate]:
    """Throughput per (backend, instance type, input mode) from earlier jobs' markers.

    Each marker records the backend, instance type and input mode its job ran
    with, the bytes it read and the seconds its Kedro run took; a rate is their
    ratio over all markers of the same three. A laptop's timings under the local
    backend never stand for a SageMaker instance's, so markers without a backend
    (written before markers recorded it) count for none; those without an input
    mode were staged (``file``), the only mode there was.
    """
    totals: dict[tuple[str, str, str], list[float]] = {}
    for marker in markers:
        seconds = float(marker.get("seconds") or 0)
        size = float(marker.get("input_bytes") or 0)
        key = (
            marker.get("backend") or "",
            marker.get("instance_type") or "",
            marker.get("input_mode") or "file",
        )
        if all(key) and seconds > 0 and size > 0:
            acc = totals.setdefault(key, [0.0, 0.0, 0])
            acc[0] += size
            acc[1] += seconds
            acc[2] += 1
    return {
        key: Rate(
            size / seconds, f"measured over {int(n)} {key[0]} job(s) on {key[1]}, {key[2]} mode"
        )
        for key, (size, seconds, n) in totals.items()
    }


def measured_rate(
    rates: dict[tuple[str, str, str], Rate], settings, mode: str
) -> tuple[Rate | None, str]:
    """The rate earlier jobs of this run's backend, instance type and input mode measured.

    Returns:
        The rate, or ``None`` with the reason (and which other rates were not used).
    """
    measured = rates.get((settings.backend, settings.instance_type, mode))
    if measured:
        return measured, ""
    others = sorted(f"{b} on {t}, {m} mode" for b, t, m in rates)
    return None, (
        f"no completed {settings.backend} job on {settings.instance_type} in {mode} mode "
        "has measured one yet"
        + (f" (not used, other backend/instance/mode: {'; '.join(others)})" if others else "")
    )


def hourly_price(prices: dict[str, float], instance_type: str) -> float | None:
    """On-demand USD per instance-hour, or ``None`` when the table lacks the type."""
    value = prices.get(instance_type)
    return None if value is None else float(value)


def cost(prices: dict[str, float], instance_type: str, instance_seconds: float) -> float | None:
    price = hourly_price(prices, instance_type)
    return None if price is None else price * instance_seconds / 3600


def format_cost(value: float | None) -> str:
    return "n/a (add it to prices)" if value is None else f"${value:,.2f}"


def format_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def format_seconds(s: float) -> str:
    s = round(s)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}h{m:02d}m{sec:02d}s" if h else f"{m}m{sec:02d}s"
