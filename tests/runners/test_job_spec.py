"""The job request shape, names, settings, shipped artefacts and helpers (no I/O)."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.support.paths import PROJECT_ROOT
from waveshard.runners.backends import AdaptiveThrottle
from waveshard.runners.job_spec import (
    JOB_NAME_RE,
    MAX_JOB_NAME,
    JobInput,
    JobSpec,
    build_request,
    job_name,
)
from waveshard.runners.packaging import build_conf_archive, build_wheel
from waveshard.runners.runner import rerun_command
from waveshard.runners.settings import ProcessingSettings, SettingsError

SPEC = JobSpec(
    namespace="group_30",
    nodes=("group_30.discover", "group_30.extract"),
    inputs=(
        JobInput(
            dataset="group_30.raw_records", channel="raw_records", uri="s3://raw/mimic3wdb/30"
        ),
    ),
    output_uri="s3://out/w/02_intermediate/groups/30",
    outputs={"group_30.segment_index": "segment_index.parquet"},
    fingerprint="0123456789abcdef" * 4,
)


@pytest.mark.parametrize(
    "namespace", ["group_30", "g", "group_" + "x" * 80, "a.b__c", "group_" + "x" * 80 + "y"]
)
def test_job_names_are_valid_and_deterministic(namespace: str) -> None:
    name = job_name("ws", namespace, SPEC.fingerprint, 12)
    assert len(name) <= MAX_JOB_NAME
    assert JOB_NAME_RE.match(name)
    assert name == job_name("ws", namespace, SPEC.fingerprint, 12)
    assert name != job_name("ws", namespace, SPEC.fingerprint, 13)


def test_long_namespaces_sharing_a_beginning_get_different_names() -> None:
    a = job_name("ws", "group_" + "x" * 80 + "a", SPEC.fingerprint, 1)
    b = job_name("ws", "group_" + "x" * 80 + "b", SPEC.fingerprint, 1)
    assert a != b


def test_request_shape() -> None:
    settings = ProcessingSettings.from_sources(
        {
            "role_arn": "arn:aws:iam::1:role/r",
            "image_uri": "img",
            "instance_type": "ml.c5.xlarge",
            "volume_size_gb": 50,
            "security_group_ids": ["sg-1"],
            "subnets": ["subnet-1"],
            "volume_kms_key_id": "kms-v",
            "output_kms_key_id": "kms-o",
            "tags": {"team": "ml"},
        }
    )
    request = build_request(
        SPEC,
        settings,
        name="ws-group-30-x-1",
        package="waveshard",
        code_uri="s3://out/_code/abc",
        wheel="w.whl",
        conf_archive="conf.tar.gz",
        environment={"WAVESHARD_EXAMPLE": "30"},
    )
    raw = request["ProcessingInputs"][1]
    assert raw["InputName"] == "raw_records"
    assert raw["S3Input"] == {
        "S3Uri": "s3://raw/mimic3wdb/30/",
        "LocalPath": "/opt/ml/processing/input/raw_records",
        "S3DataType": "S3Prefix",
        "S3InputMode": "File",
        "S3DataDistributionType": "FullyReplicated",
    }
    assert request["ProcessingInputs"][0]["S3Input"]["S3Uri"] == "s3://out/_code/abc/"
    out = request["ProcessingOutputConfig"]
    assert out["Outputs"][0]["S3Output"]["S3Uri"] == "s3://out/w/02_intermediate/groups/30/"
    assert out["Outputs"][0]["S3Output"]["LocalPath"] == "/opt/ml/processing/output"
    assert out["KmsKeyId"] == "kms-o"
    assert request["ProcessingResources"]["ClusterConfig"] == {
        "InstanceCount": 1,
        "InstanceType": "ml.c5.xlarge",
        "VolumeSizeInGB": 50,
        "VolumeKmsKeyId": "kms-v",
    }
    assert request["NetworkConfig"]["VpcConfig"] == {
        "SecurityGroupIds": ["sg-1"],
        "Subnets": ["subnet-1"],
    }
    assert {"Key": "team", "Value": "ml"} in request["Tags"]
    args = request["AppSpecification"]["ContainerArguments"]
    assert args[args.index("--nodes") + 1] == "group_30.discover,group_30.extract"
    assert request["Environment"]["PYTHONPATH"] == "/opt/ml/processing/input/code/w.whl"
    assert request["Environment"]["WAVESHARD_EXAMPLE"] == "30"


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


def test_wheel_is_reproducible_and_importable(tmp_path: Path) -> None:
    name, first = build_wheel(PROJECT_ROOT / "src", "waveshard", "0.1.0")
    _, second = build_wheel(PROJECT_ROOT / "src", "waveshard", "0.1.0")
    assert first == second
    files = zipfile.ZipFile(io.BytesIO(first)).namelist()
    assert "waveshard/runners/entrypoint.py" in files
    assert not [f for f in files if "__pycache__" in f or f.endswith(".pyc")]
    assert name == "waveshard-0.1.0-py3-none-any.whl"


def test_conf_archive_never_ships_credentials_or_local(tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    for rel in (
        "base/catalog.yml",
        "base/credentials.yml",
        "local/credentials.yml",
        "local/catalog.yml",
        "container/catalog.yml",
    ):
        (conf / rel).parent.mkdir(parents=True, exist_ok=True)
        (conf / rel).write_text("a: 1\n")
    _, data = build_conf_archive(conf, ["base", "local", "container"], "waveshard")
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        names = tar.getnames()
    assert names == ["conf/base/catalog.yml", "conf/container/catalog.yml"]
    assert data == build_conf_archive(conf, ["base", "local", "container"], "waveshard")[1]


def test_rerun_command_replaces_namespaces() -> None:
    argv = [
        "/venv/bin/kedro",
        "run",
        "--env",
        "aws",
        "--namespaces",
        "group_1,group_2",
        "--runner-params",
        "backend=local,force=true",
    ]
    assert rerun_command(argv, ["group_2"]) == (
        "kedro run --env aws --runner-params backend=local,force=true --namespaces group_2"
    )


def test_adaptive_throttle_retries_and_slows_down() -> None:
    from botocore.exceptions import ClientError

    sleeps: list[float] = []
    throttle = AdaptiveThrottle(sleep=sleeps.append)
    calls = iter([ClientError({"Error": {"Code": "ThrottlingException"}}, "Describe")] * 3)

    def flaky() -> str:
        error = next(calls, None)
        if error:
            raise error
        return "ok"

    assert throttle.call(flaky) == "ok"
    assert throttle.throttled == 3
    assert len(sleeps) == 3 and sleeps[-1] > sleeps[0]
    with pytest.raises(ClientError):
        throttle.call(
            lambda: (_ for _ in ()).throw(
                ClientError({"Error": {"Code": "AccessDenied"}}, "Describe")
            )
        )


def test_volume_is_sized_from_the_input_unless_set() -> None:
    from waveshard.runners.job_spec import MAX_VOLUME_GB, volume_for
    from waveshard.runners.runner import JobRun, ProcessingJobRunner

    assert volume_for(0) == 10
    assert volume_for(670 * 10**9) == 814  # a MIMIC-III group: 670 GB + 20 % + 10 GB
    assert volume_for(10**15) == MAX_VOLUME_GB
    job = JobRun(spec=JobSpec(namespace="group_30", nodes=(), inputs=(), output_uri="s3://b/o"))
    job.input_bytes = 670 * 10**9
    assert ProcessingJobRunner._volume(job, ProcessingSettings()) == 814
    assert ProcessingJobRunner._volume(job, ProcessingSettings(volume_size_gb=900)) == 900
    with pytest.raises(SettingsError, match=r"volume_size_gb=30 cannot hold the 670\.0 GB"):
        ProcessingJobRunner._volume(job, ProcessingSettings(volume_size_gb=30))
