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
from waveshard.runners.partial import rerun_command
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
            "role_arn": "arn:aws:iam::123456789012:role/r",
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
        job_uri="s3://out/_waveshard/jobs/group_30/0123456789abcdef",
        wheel="w.whl",
        conf_archive="conf.tar.gz",
        environment={"WAVESHARD_EXAMPLE": "30"},
    )
    job = request["ProcessingInputs"][1]["S3Input"]
    assert (job["S3Uri"], job["LocalPath"]) == (
        "s3://out/_waveshard/jobs/group_30/0123456789abcdef/",
        "/opt/ml/processing/input/job",
    )
    raw = request["ProcessingInputs"][2]
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
    assert args[args.index("--job-file") + 1] == "/opt/ml/processing/input/job/job.json"
    # SageMaker takes at most 256 characters per argument: nodes and parameters travel
    # in the job file
    assert max(len(a) for a in args) <= 256
    assert request["Environment"]["PYTHONPATH"] == "/opt/ml/processing/input/code/w.whl"
    assert request["Environment"]["WAVESHARD_EXAMPLE"] == "30"


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
    from waveshard.runners.planning import volume_size

    assert volume_for(0) == 10
    assert volume_for(670 * 10**9) == 814  # a MIMIC-III group: 670 GB + 20 % + 10 GB
    assert volume_for(10**15) == MAX_VOLUME_GB
    group = 670 * 10**9
    assert volume_size(group, "group_30", ProcessingSettings()) == 814
    assert volume_size(group, "group_30", ProcessingSettings(volume_size_gb=900)) == 900
    with pytest.raises(SettingsError, match=r"volume_size_gb=30 cannot hold the 670\.0 GB"):
        volume_size(group, "group_30", ProcessingSettings(volume_size_gb=30))


def _partitioned(mode: str) -> list[JobSpec]:
    import dataclasses

    from waveshard.runners.partitions import Inventory, split

    files = [
        ("3000003/3000003.hea", 300),
        ("3000003/3000003_0001.hea", 100),
        ("3000003/3000003_0001.dat", 9000),
        ("3000003/3000003n.dat", 500),
        ("3000004/3000004.hea", 300),
        ("3000004/3000004_0001.dat", 9000),
        ("RECORDS", 16),
    ]
    parts = split(Inventory.of("s3://raw/mimic3wdb/30", files), max_bytes=12_000)
    raw = dataclasses.replace(SPEC.inputs[0], mode=mode)
    return [dataclasses.replace(SPEC, inputs=(raw,), partition=p) for p in parts]


def test_a_partition_read_in_file_mode_stages_exactly_its_records_from_a_manifest() -> None:
    import json

    from waveshard.runners.job_spec import job_files

    first, second = _partitioned("file")
    assert (first.key, second.key) == ("group_30-part-0000", "group_30-part-0001")
    files = job_files(second, input_bytes=9300, input_mode="file")
    manifest = json.loads(files["manifest.json"])
    assert manifest == [
        {"prefix": "s3://raw/mimic3wdb/30/"},
        "3000004/3000004.hea",
        "3000004/3000004_0001.dat",
    ]
    assert files["entries.txt"] == "3000004\n"
    request = build_request(
        second,
        ProcessingSettings(),
        name="ws-x-1",
        package="waveshard",
        code_uri="s3://out/code",
        job_uri="s3://out/jobs/x",
        wheel="w.whl",
        conf_archive="c.tar.gz",
        environment={},
    )
    raw = request["ProcessingInputs"][2]["S3Input"]
    assert (raw["S3Uri"], raw["S3DataType"]) == ("s3://out/jobs/x/manifest.json", "ManifestFile")
    assert {"Key": "waveshard:partition", "Value": "2/2"} in request["Tags"]
    # the loose files of the group travel with the first partition, records whole
    assert first.partition.entries == ["RECORDS", "3000003"]


def test_a_streaming_job_has_no_raw_input_and_its_record_list_in_the_job_file() -> None:
    import json

    from waveshard.runners.job_spec import job_files

    first, _ = _partitioned("stream")
    request = build_request(
        first,
        ProcessingSettings(),
        name="ws-x-1",
        package="waveshard",
        code_uri="s3://out/code",
        job_uri="s3://out/jobs/x",
        wheel="w.whl",
        conf_archive="c.tar.gz",
        environment={},
    )
    assert [i["InputName"] for i in request["ProcessingInputs"]] == ["code", "job"]
    files = job_files(first, input_bytes=9916, input_mode="stream")
    assert "manifest.json" not in files
    assert files["entries.txt"] == "RECORDS\n3000003\n"
    job = json.loads(files["job.json"])
    assert job["nodes"] == list(SPEC.nodes) and job["partition"] == "part-0000"
