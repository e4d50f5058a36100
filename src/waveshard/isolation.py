"""The isolation boundary: whatever one segment's input does, it becomes that segment's row.

Every per-segment step (reading and parsing its header, checking its data files,
decoding, statistics, duration, signal names, the merge into its record) runs
through :func:`isolate`. A step that raises gives a :class:`~waveshard.contract.Problem`
for the segment it was working on instead of an exception, in this process and in
worker processes alike, so no input can stop a group or a run. Only ``Exception``
is caught: ``KeyboardInterrupt`` and ``SystemExit`` still stop the run.

Specific damage is recognized earlier, with its own ``error_type`` and a message
naming the fix; this boundary is what catches the damage nobody foresaw.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from waveshard.contract import ERROR, Problem

T = TypeVar("T")


class Refused(Exception):
    """Nothing of a segment can be extracted, for a reason that was recognized.

    Raised by a step; the boundary turns it into an error row with this
    ``error_type`` and message (and ``path``, if the cause is another file than
    the one the step works on), without the step's name in front.
    """

    def __init__(self, error_type: str, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.error_type, self.message, self.path = error_type, message, path


@dataclass(frozen=True)
class Where:
    """The segment a step works on, as its problem row names it."""

    group: str
    record: str
    segment: str
    path: str

    def problem(
        self, error_type: str, message: str, severity: str = ERROR, path: str | None = None
    ) -> Problem:
        """A problem row about this segment (``path``: the file concerned, if not its own)."""
        return Problem(
            self.group, self.record, self.segment, path or self.path, error_type, message, severity
        )


def problem_from(exc: Exception, where: Where, step: str = "") -> Problem:
    """The error row of a segment whose ``step`` raised ``exc``.

    ``error_type`` is the exception's class name; the message says which step
    failed and what the exception said (bounded by :class:`Problem`). A
    :class:`Refused` keeps its own type, message and path.
    """
    if isinstance(exc, Refused):
        return where.problem(exc.error_type, exc.message, path=exc.path)
    text = str(exc) or repr(exc)
    message = f"{step}: {text}" if step else text
    return where.problem(type(exc).__name__, message)


def isolate(step: Callable[[], T], where: Where, name: str = "") -> T | Problem:
    """``step()``, or the error row of ``where`` if it raises.

    Args:
        step: One per-segment step, without arguments (close over what it needs).
        where: The segment it works on.
        name: What the step does, for the message (e.g. ``"merging the record"``).

    Returns:
        What ``step`` returned, or a :class:`Problem` (severity ``error``).
    """
    try:
        return step()
    except Exception as exc:  # the boundary: one segment's failure is that segment's row
        return problem_from(exc, where, name)
