"""A mistyped setting or namespace is one clear line, with the likely meant name."""

from __future__ import annotations

from tests.support.runner import kedro_run, runner_args


def _error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("Error:")]


def test_a_misspelt_runner_parameter_names_the_one_meant() -> None:
    result = kedro_run([*runner_args(dryrun="true")], env={})
    assert result.code != 0
    assert "Traceback" not in result.output
    assert _error_lines(result.output) == [
        "Error: Unknown --runner-params: dryrun (did you mean dry_run?). Valid names are "
        "listed in conf/aws/processing.yml."
    ]


def test_a_group_id_given_as_a_namespace_names_the_namespace() -> None:
    result = kedro_run(["--namespaces", "30", "--params", "groups=30 31"], env={})
    assert result.code != 0
    assert "Traceback" not in result.output
    (line,) = _error_lines(result.output)
    assert line == (
        "Error: --namespaces 30 (did you mean group_30?): no such namespace; valid names: "
        'group_30, group_31. To run some groups end to end instead, use --params "groups=30".'
    )
