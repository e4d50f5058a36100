"""The isolation boundary: any exception of a step becomes that segment's error row."""

from __future__ import annotations

import pytest

from waveshard.contract import ERROR, MESSAGE_LIMIT, Problem
from waveshard.isolation import Refused, Where, isolate

WHERE = Where("30", "3000001", "3000001_0001", "data/01_raw/30/3000001/3000001_0001.hea")


def test_a_step_that_succeeds_gives_its_result() -> None:
    assert isolate(lambda: 42, WHERE) == 42


def test_an_exception_becomes_the_segments_error_row() -> None:
    problem = isolate(lambda: 1 / 0, WHERE, "computing the duration")
    assert isinstance(problem, Problem)
    assert (problem.group, problem.record, problem.segment) == ("30", "3000001", "3000001_0001")
    assert problem.path == WHERE.path
    assert problem.error_type == "ZeroDivisionError"
    assert problem.severity == ERROR
    assert problem.message == "computing the duration: division by zero"


def test_a_recognized_refusal_keeps_its_type_message_and_path() -> None:
    def step() -> None:
        raise Refused("MissingDataFile", "the header names x.dat, which does not exist", "x.dat")

    problem = isolate(step, WHERE, "checking the data files")
    assert (problem.error_type, problem.path) == ("MissingDataFile", "x.dat")
    assert problem.message == "the header names x.dat, which does not exist"


def test_messages_stay_bounded_and_printable_whatever_the_exception_says() -> None:
    garbage = bytes(range(256)).decode("latin-1") * 4096  # a megabyte of every byte

    def step() -> None:
        raise ValueError(garbage)

    problem = isolate(step, WHERE)
    assert len(problem.message) <= MESSAGE_LIMIT and problem.message.endswith("…")
    assert problem.message.isprintable()


def test_interrupts_are_not_swallowed() -> None:
    def step() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        isolate(step, WHERE)
