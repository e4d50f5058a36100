"""Runner settings: one source of truth for defaults, coercion, validation."""

from __future__ import annotations

import re

import pytest
import yaml

from tests.support.paths import PROJECT_ROOT
from waveshard.runners.settings import ProcessingSettings, SettingsError, load_settings

PROCESSING_YML = PROJECT_ROOT / "conf" / "aws" / "processing.yml"
#: ``# name: value`` where name is a setting: the documented default.
_COMMENTED = re.compile(r"^# (?P<name>[a-z0-9_]+): (?P<value>.*)$")


def _documented_defaults() -> dict[str, list[object]]:
    found: dict[str, list[object]] = {}
    names = set(ProcessingSettings.names())
    for line in PROCESSING_YML.read_text().splitlines():
        match = _COMMENTED.match(line)
        if match and match["name"] in names:
            found.setdefault(match["name"], []).append(yaml.safe_load(match["value"]))
    return found


def test_processing_yml_documents_every_default_exactly_as_the_code_has_it() -> None:
    documented = _documented_defaults()
    defaults = ProcessingSettings.defaults()
    assert sorted(documented) == sorted(defaults), "document every setting once"
    assert {k: v for k, v in documented.items() if len(v) != 1} == {}
    wrong = {k: (v[0], defaults[k]) for k, v in documented.items() if v[0] != defaults[k]}
    assert wrong == {}, "processing.yml comment (documented, code default) disagree"


def test_the_aws_environment_sets_only_what_it_changes() -> None:
    active = yaml.safe_load(PROCESSING_YML.read_text()) or {}
    defaults = ProcessingSettings.defaults()
    assert set(active) <= set(defaults)
    assert {k: v for k, v in active.items() if v == defaults[k]} == {}
    settings = load_settings(env="aws", conf_source=PROJECT_ROOT / "conf", overrides={})
    assert settings.tags == {"project": "waveshard"}
    # what the file leaves commented is the code's default
    assert settings.max_concurrent_jobs == ProcessingSettings().max_concurrent_jobs
    assert settings.prices["ml.m5.xlarge"] > 0  # from conf/base/instance_prices.yml


def test_settings_coerce_command_line_strings_and_reject_unknown_names() -> None:
    s = ProcessingSettings.from_sources(
        {"max_concurrent_jobs": 4},
        {"max_concurrent_jobs": "2", "dry_run": "true", "force": None, "forward_env": "A;B"},
    )
    assert (s.max_concurrent_jobs, s.dry_run, s.force, s.forward_env) == (
        2,
        True,
        False,
        ["A", "B"],
    )
    with pytest.raises(SettingsError, match="instance_typ"):
        ProcessingSettings.from_sources({"instance_typ": "ml.m5.large"})
    with pytest.raises(SettingsError, match="dry_run"):
        ProcessingSettings.from_sources({"dry_run": "maybe"})
    assert ProcessingSettings.from_sources({"combine": "job"}).combine == "job"
    with pytest.raises(SettingsError, match="combine='jbo' is not supported"):
        ProcessingSettings.from_sources({"combine": "jbo"})


def test_misspelt_names_get_a_suggestion() -> None:
    with pytest.raises(SettingsError, match=r"dryrun \(did you mean dry_run\?\)"):
        ProcessingSettings.from_sources({"dryrun": "true"})
    from waveshard.runners import ProcessingJobRunner

    with pytest.raises(SettingsError, match=r"max_concurent_jobs \(did you mean max_concurrent"):
        ProcessingJobRunner(max_concurent_jobs=2)
    # one line for the user: click prints a ClickException as "Error: <message>"
    import click

    assert issubclass(SettingsError, click.ClickException)


ROLE = "arn:aws:iam::123456789012:role/waveshard-processing"
IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/waveshard-processing:abc123"


def _checked(default_region: str | None = None, submitting: bool = True, **values):
    return ProcessingSettings.from_sources({"code_uri": "s3://b/code", **values}).checked(
        default_region=default_region, submitting=submitting
    )


def test_sagemaker_settings_are_checked_before_anything_is_sent() -> None:
    assert _checked(role_arn=ROLE, image_uri=IMAGE).region == "eu-west-1"  # the image's
    with pytest.raises(SettingsError, match="role_arn, image_uri missing"):
        _checked()
    # a dry run shows what is missing instead
    assert _checked(submitting=False).role_arn is None
    with pytest.raises(SettingsError, match="is not an IAM role ARN"):
        _checked(role_arn="waveshard-processing", image_uri=IMAGE)
    with pytest.raises(SettingsError, match="is not an image reference"):
        _checked(role_arn=ROLE, image_uri="<ecr image>")
    with pytest.raises(SettingsError, match="is not an AWS region"):
        _checked(role_arn=ROLE, image_uri=IMAGE, region="Ireland")
    # the local backend needs none of them
    assert _checked(backend="local").backend == "local"


def test_jobs_never_start_in_another_region_than_their_image() -> None:
    with pytest.raises(SettingsError, match="image_uri is in eu-west-1 but region=us-east-1"):
        _checked(role_arn=ROLE, image_uri=IMAGE, region="us-east-1")
    with pytest.raises(SettingsError, match=r"start in us-east-1 .* pass region=eu-west-1"):
        _checked(default_region="us-east-1", role_arn=ROLE, image_uri=IMAGE)
    assert _checked("us-east-1", role_arn=ROLE, image_uri=IMAGE, region="eu-west-1").region == (
        "eu-west-1"
    )
    other = "registry.example.com/waveshard:1"
    assert _checked("us-east-1", role_arn=ROLE, image_uri=other).region == "us-east-1"
    with pytest.raises(SettingsError, match="No AWS region"):
        _checked(role_arn=ROLE, image_uri=other)


def test_local_jobs_are_polled_closely_and_sagemaker_ones_gently() -> None:
    local = ProcessingSettings.from_sources({"backend": "local"})
    sagemaker = ProcessingSettings.from_sources({"backend": "sagemaker"})
    assert local.poll_initial_s <= 0.5 and local.poll_max_s <= 2
    assert (sagemaker.poll_initial_s, sagemaker.poll_max_s) == (15.0, 120.0)
    assert ProcessingSettings.from_sources({"backend": "local", "poll_max_s": 7}).poll_max_s == 7
