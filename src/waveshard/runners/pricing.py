"""Runtime and cost estimates for the plan and the summary."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Rate:
    """Measured (or configured) processing throughput of one instance type."""

    bytes_per_s: float
    source: str


def measured_rates(markers: list[dict[str, Any]]) -> dict[str, Rate]:
    """Throughput per instance type from earlier jobs' completion markers.

    Each marker records the bytes its job read and the seconds its Kedro run
    took; the rate of an instance type is their ratio over all markers.
    """
    totals: dict[str, list[float]] = {}
    for marker in markers:
        seconds = float(marker.get("seconds") or 0)
        size = float(marker.get("input_bytes") or 0)
        kind = marker.get("instance_type")
        if kind and seconds > 0 and size > 0:
            acc = totals.setdefault(kind, [0.0, 0.0, 0])
            acc[0] += size
            acc[1] += seconds
            acc[2] += 1
    return {
        kind: Rate(size / seconds, f"measured over {int(n)} job(s)")
        for kind, (size, seconds, n) in totals.items()
    }


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


def estimate_seconds(nbytes: int, settings, rates: dict[str, Rate]) -> float:
    """A job's runtime: start-up, then its input at the measured (or configured) rate."""
    rate = rates.get(settings.instance_type)
    per_s = rate.bytes_per_s if rate else settings.throughput_mb_s * 1e6
    return settings.startup_s + nbytes / max(per_s, 1.0)
