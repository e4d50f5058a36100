"""Runner settings: one source of truth for defaults, coercion, validation."""

from __future__ import annotations

import re

import pytest
import yaml

from tests.support.paths import PROJECT_ROOT
from waveshard.runners.settings import ProcessingSettings, SettingsError, load_settings

PROCESSING_YML = PROJECT_ROOT / "conf" / "aws" / "processing.yml"
#: ``# name: value`` where name is a setting: the documented default.
_COMMENTED = re.compile(r"^# (?P<name>[a-z_]+): (?P<value>.*)$")


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
    assert settings.poll_initial_s == ProcessingSettings().poll_initial_s
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
    with pytest.raises(SettingsError, match="role_arn, image_uri"):
        ProcessingSettings.from_sources({"backend": "sagemaker"}).validate_for_submission()
