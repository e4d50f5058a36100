"""ProcessingJobRunner end to end against moto's server on 127.0.0.1 (no AWS).

(a) the sagemaker backend sends one CreateProcessingJob per group with the right
    request; (b) the local backend runs those requests on moto S3 and the combined
    outputs equal a plain local run; (c) a failing group leaves the others intact
    and the rerun command repeats only it; (d) a second run skips completed
    groups; (e) a dry run submits nothing and prints a plan.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from tests.support.runner import (
    IMAGE,
    OUT_BUCKET,
    RAW_BUCKET,
    RAW_PREFIX,
    ROLE,
    Moto,
    get_bytes,
    kedro_run,
    list_keys,
    make_buckets,
    runner_args,
    upload_tree,
)
from waveshard.runners.job_spec import JOB_NAME_RE

#: Group 33 has no folder: no job for it (its nodes run in the driver).
GROUPS = "groups=30 31 33"
FAST = {"poll_initial_s": 0.3, "poll_max_s": 1}


@pytest.fixture(scope="module")
def moto(moto_s3, tmp_path_factory: pytest.TempPathFactory):
    from waveshard.datatools.sample import write_sample_tree

    raw = tmp_path_factory.mktemp("runner") / "raw"
    write_sample_tree(raw, groups=["30", "31"], records_per_group=2)
    server = Moto.of(moto_s3)
    upload_tree(server, raw, RAW_BUCKET, RAW_PREFIX)
    make_buckets(server, OUT_BUCKET)
    server.raw = raw
    return server


def _env(moto, **extra: str) -> dict[str, str]:
    return {**moto.env, **extra}


def _out(root: str) -> list[str]:
    return ["--params", f"output_root=s3://{OUT_BUCKET}/{root},{GROUPS}"]


def _read(moto, key: str) -> pd.DataFrame:
    data = get_bytes(moto, OUT_BUCKET, key)
    return (
        pd.read_parquet(io.BytesIO(data))
        if key.endswith(".parquet")
        else pd.read_csv(io.BytesIO(data))
    )


@pytest.fixture(scope="module")
def local_run(moto, tmp_path_factory):
    """The local backend over moto S3 (output root ``b``), shared by (b) and (d)."""
    work = tmp_path_factory.mktemp("jobs")
    args = ["--env", "aws", *_out("b"), *runner_args(backend="local", local_work_dir=work, **FAST)]
    result = kedro_run(args, env=_env(moto))
    return result, work, args


def test_b_local_backend_equals_a_plain_local_run(moto, local_run, tmp_path: Path) -> None:
    result, work, _ = local_run
    assert result.code == 0, result.output[-4000:]
    plain = tmp_path / "plain"
    direct = kedro_run(["--params", f"raw_root={moto.raw},output_root={plain},{GROUPS}"], env={})
    assert direct.code == 0, direct.output[-4000:]
    for rel in (
        "04_feature/segment_features.parquet",
        "04_feature/record_features.parquet",
        "08_reporting/signal_stats.csv",
        "08_reporting/extraction_errors.csv",
    ):
        ours = _read(moto, f"b/{rel}")
        theirs = (pd.read_parquet if rel.endswith(".parquet") else pd.read_csv)(plain / rel)
        assert len(ours) > 0 or rel.endswith("errors.csv")
        pd.testing.assert_frame_equal(ours, theirs, check_dtype=False)
    # one job folder per group, each with the request it executed: the raw group is
    # streamed (no input copy), the job file says from where
    folders = sorted(work.glob("store-*/ws-*"))
    requests = [json.loads((f / "request.json").read_text()) for f in folders]
    assert [[i["InputName"] for i in r["ProcessingInputs"]] for r in requests] == [
        ["code", "job"],
        ["code", "job"],
    ]
    streamed = [
        json.loads((f / "processing/input/job/job.json").read_text())["params"]["waveshard_inputs"][
            "raw_records"
        ]["uri"]
        for f in folders
    ]
    assert streamed == [f"s3://{RAW_BUCKET}/{RAW_PREFIX}/30", f"s3://{RAW_BUCKET}/{RAW_PREFIX}/31"]
    keys = list_keys(moto, OUT_BUCKET, "b/02_intermediate/groups/30/")
    assert "b/02_intermediate/groups/30/_waveshard_complete_group_30.json" in keys
    # no job for the group without objects; its (empty) outputs come from the driver
    assert re.search(r"group_33\s+│\s+-\s+│\s+empty", result.output), result.output[-3000:]
    summary = json.loads(get_bytes(moto, OUT_BUCKET, "b/08_reporting/run_summary.json"))
    assert summary["missing_groups"] == ["33"]
    # the code follows the run's output root
    code = list_keys(moto, OUT_BUCKET, "b/_waveshard/code/")
    assert [k for k in code if k.endswith(".whl")] and [k for k in code if k.endswith(".tar.gz")]


def test_d_second_run_skips_completed_groups(moto, local_run) -> None:
    first, work, args = local_run
    assert first.code == 0
    before = sorted(p.name for p in work.glob("store-*/ws-*"))
    again = kedro_run(args, env=_env(moto))
    assert again.code == 0, again.output[-4000:]
    assert sorted(p.name for p in work.glob("store-*/ws-*")) == before  # no job ran
    assert len(re.findall(r"group_3[01]\s+│\s+-\s+│\s+skipped", again.output)) == 2
    # the combine step still ran (its summary; Kedro's own progress lines are not logged)
    assert "All groups: 4 records" in again.output


def test_e_dry_run_submits_nothing_and_prints_a_plan(moto, tmp_path: Path) -> None:
    moto.start_recording()
    result = kedro_run(
        [
            "--env",
            "aws",
            *_out("e"),
            *runner_args(
                backend="sagemaker",
                dry_run="true",
                role_arn=ROLE,
                image_uri=IMAGE,
                local_work_dir=tmp_path,
            ),
        ],
        env=_env(moto),
    )
    assert result.code == 0, result.output[-4000:]
    assert "Plan (dry run" in result.output
    assert f"backend=sagemaker  region=us-east-1  role={ROLE}  image={IMAGE}" in result.output
    for group in ("group_30", "group_31"):
        assert re.search(rf"{group}\s+│\s+run\s+│\s+2\s+│", result.output), result.output
    assert re.search(r"group_33\s+│\s+empty \(no job\)\s+│\s+0\s+│", result.output)
    assert "TOTAL" in result.output and "$" in result.output
    targets = [r.get("headers", {}).get("X-Amz-Target", "") for r in moto.recorded()]
    assert not [t for t in targets if "ProcessingJob" in t]
    assert not list_keys(moto, OUT_BUCKET, "e/")


def test_a_sagemaker_backend_sends_one_job_per_group(moto, tmp_path: Path) -> None:
    moto.start_recording()
    result = kedro_run(
        [
            "--env",
            "aws",
            *_out("a"),
            *runner_args(
                backend="sagemaker",
                role_arn=ROLE,
                image_uri=IMAGE,
                instance_type="ml.c5.2xlarge",
                max_concurrent_jobs=1,
                **FAST,
            ),
        ],
        env=_env(moto),
    )
    records = moto.recorded()
    creates = [
        json.loads(r["body"])
        for r in records
        if r.get("headers", {}).get("X-Amz-Target") == "SageMaker.CreateProcessingJob"
    ]
    targets = {r.get("headers", {}).get("X-Amz-Target") for r in records}
    assert "SageMaker.ListProcessingJobs" not in targets  # polling is by describe
    assert len(creates) == 2, result.output[-4000:]
    for group, request in zip(("30", "31"), creates, strict=True):
        assert JOB_NAME_RE.match(request["ProcessingJobName"])
        assert len(request["ProcessingJobName"]) <= 63
        assert f"group-{group}" in request["ProcessingJobName"]
        # streamed: no raw-data input, no volume sized to it; the job file names the group
        assert [i["InputName"] for i in request["ProcessingInputs"]] == ["code", "job"]
        job_uri = request["ProcessingInputs"][1]["S3Input"]["S3Uri"]
        assert job_uri.startswith(f"s3://{OUT_BUCKET}/a/_waveshard/jobs/group_{group}/")
        job = json.loads(get_bytes(moto, OUT_BUCKET, job_uri.split("/", 3)[3] + "job.json"))
        assert job["params"]["waveshard_inputs"] == {
            "raw_records": {"uri": f"s3://{RAW_BUCKET}/{RAW_PREFIX}/{group}"}
        }
        assert request["ProcessingResources"]["ClusterConfig"]["VolumeSizeInGB"] == 10
        assert max(len(a) for a in request["AppSpecification"]["ContainerArguments"]) <= 256
        output = request["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]
        assert output["S3Uri"] == f"s3://{OUT_BUCKET}/a/02_intermediate/groups/{group}/"
        assert request["ProcessingResources"]["ClusterConfig"]["InstanceType"] == "ml.c5.2xlarge"
        assert request["RoleArn"] == ROLE
        assert request["AppSpecification"]["ImageUri"] == IMAGE
        code = request["ProcessingInputs"][0]["S3Input"]["S3Uri"]
        assert code.startswith(f"s3://{OUT_BUCKET}/a/_waveshard/code/"), code
        assert "AWS_SECRET_ACCESS_KEY" not in json.dumps(request)
    # moto marks jobs Completed without running them: no marker, so no combine
    assert result.code != 0
    assert "wrote no completion marker" in result.output
    assert not list_keys(moto, OUT_BUCKET, "a/04_feature/")


def test_c_failed_group_keeps_the_others_and_prints_its_rerun(moto, tmp_path: Path) -> None:
    result = kedro_run(
        [
            "--env",
            "aws",
            *_out("c"),
            *runner_args(
                backend="local",
                local_work_dir=tmp_path,
                forward_env="WAVESHARD_FAIL_NAMESPACES",
                **FAST,
            ),
        ],
        env=_env(moto, WAVESHARD_FAIL_NAMESPACES="group_31"),
    )
    assert result.code != 0
    assert "group_31: RuntimeError: failure injected" in result.output
    kept = list_keys(moto, OUT_BUCKET, "c/02_intermediate/groups/30/")
    assert "c/02_intermediate/groups/30/segment_features.parquet" in kept
    assert not list_keys(moto, OUT_BUCKET, "c/02_intermediate/groups/31/")
    assert not list_keys(moto, OUT_BUCKET, "c/04_feature/")
    rerun = re.search(r"^RERUN \(failed namespaces only\): (kedro run .*)$", result.output, re.M)
    assert rerun, result.output[-3000:]
    command = rerun.group(1)
    assert command.endswith("--namespaces group_31")
    assert "group_30" not in command
    # The printed command, run once the cause is gone, runs group_31 only.
    import shlex

    args = shlex.split(command)[2:]
    fixed = kedro_run(args, env=_env(moto))
    assert fixed.code == 0, fixed.output[-3000:]
    assert "c/02_intermediate/groups/31/_waveshard_complete_group_31.json" in list_keys(
        moto, OUT_BUCKET, "c/02_intermediate/groups/31/"
    )
    assert len(list(tmp_path.glob("store-*/ws-group-30-*"))) == 1
    assert not list_keys(moto, OUT_BUCKET, "c/04_feature/")  # --namespaces: no combine
    # Outputs deleted to have them recomputed: the completed attempt is stale, not done.
    client = moto.s3.client()
    for key in list_keys(moto, OUT_BUCKET, "c/02_intermediate/groups/31/"):
        client.delete_object(Bucket=OUT_BUCKET, Key=key)
    before = {p.name for p in tmp_path.glob("store-*/ws-group-31-*")}
    again = kedro_run(args, env=_env(moto))
    assert again.code == 0, again.output[-3000:]
    assert "completed earlier but its completion marker is gone" in again.output
    (new,) = {p.name for p in tmp_path.glob("store-*/ws-group-31-*")} - before
    stem, attempt = new.rsplit("-", 1)
    assert attempt == "2" and f"{stem}-1" in before  # the next attempt of the same job
    assert "c/02_intermediate/groups/31/_waveshard_complete_group_31.json" in list_keys(
        moto, OUT_BUCKET, "c/02_intermediate/groups/31/"
    )


def test_f_allow_partial_combines_the_other_group_and_records_the_missing_one(
    moto, tmp_path: Path
) -> None:
    args = [
        "--env",
        "aws",
        *_out("f"),
        *runner_args(
            backend="local",
            local_work_dir=tmp_path,
            allow_partial="true",
            forward_env="WAVESHARD_FAIL_NAMESPACES",
            **FAST,
        ),
    ]
    result = kedro_run(args, env=_env(moto, WAVESHARD_FAIL_NAMESPACES="group_31"))
    assert result.code == 0, result.output[-4000:]
    assert "group_31: RuntimeError: failure injected" in result.output
    assert re.search(
        r"^RERUN \(failed namespaces only\): kedro run .*--namespaces group_31$",
        result.output,
        re.M,
    ), result.output[-3000:]
    assert not list_keys(moto, OUT_BUCKET, "f/02_intermediate/groups/31/")
    # combine ran on group 30 only
    group_30 = _read(moto, "f/02_intermediate/groups/30/segment_features.parquet")
    combined = _read(moto, "f/04_feature/segment_features.parquet")
    assert len(combined) > 0 and set(combined["group"].astype(str)) == {"30"}
    pd.testing.assert_frame_equal(
        combined.reset_index(drop=True), group_30.reset_index(drop=True), check_dtype=False
    )
    records = _read(moto, "f/04_feature/record_features.parquet")
    assert len(records) > 0 and set(records["group"].astype(str)) == {"30"}
    assert (_read(moto, "f/08_reporting/signal_stats.csv")["groups"] == 1).all()
    summary = json.loads(get_bytes(moto, OUT_BUCKET, "f/08_reporting/run_summary.json"))
    assert [g["group"] for g in summary["groups"]] == ["30", "33"]  # 33: empty, no job
    # what is missing, next to the first combined output
    partial_key = "f/08_reporting/_waveshard_partial.json"
    partial = json.loads(get_bytes(moto, OUT_BUCKET, partial_key))
    assert partial["missing_namespaces"] == ["group_31"]
    assert "group_31.segment_features" in partial["missing_datasets"]
    assert "failure injected" in partial["reasons"]["group_31"]
    # once the cause is gone, the same command completes and drops the stale record
    again = kedro_run(args, env=_env(moto))
    assert again.code == 0, again.output[-4000:]
    assert partial_key not in list_keys(moto, OUT_BUCKET, "f/08_reporting/")
    full = _read(moto, "f/04_feature/segment_features.parquet")
    assert set(full["group"].astype(str)) == {"30", "31"}


def test_g_combine_job_equals_the_driver_combine(moto, local_run, tmp_path: Path) -> None:
    driver, _, _ = local_run
    assert driver.code == 0, driver.output[-4000:]
    args = [
        "--env",
        "aws",
        *_out("g"),
        *runner_args(backend="local", local_work_dir=tmp_path, combine="job", **FAST),
    ]
    result = kedro_run(args, env=_env(moto))
    assert result.code == 0, result.output[-4000:]
    assert "Running node: combine_segment_features" not in result.output  # not in the driver
    for rel in (
        "04_feature/segment_features.parquet",
        "04_feature/record_features.parquet",
        "08_reporting/signal_stats.csv",
        "08_reporting/extraction_errors.csv",
    ):
        ours = _read(moto, f"g/{rel}")
        assert len(ours) > 0 or rel.endswith("errors.csv")
        pd.testing.assert_frame_equal(ours, _read(moto, f"b/{rel}"), check_dtype=False)
    ours = json.loads(get_bytes(moto, OUT_BUCKET, "g/08_reporting/run_summary.json"))
    theirs = json.loads(get_bytes(moto, OUT_BUCKET, "b/08_reporting/run_summary.json"))
    assert ours["totals"]["records"] == theirs["totals"]["records"] > 0
    # one more job, built like the groups' ones: the group outputs in, the output root out
    (folder,) = tmp_path.glob("store-*/ws-combine-*")
    request = json.loads((folder / "request.json").read_text())
    assert [i["S3Input"]["S3Uri"] for i in request["ProcessingInputs"][2:]] == [
        f"s3://{OUT_BUCKET}/g/02_intermediate/groups/"
    ]
    assert request["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"] == (
        f"s3://{OUT_BUCKET}/g/"
    )
    assert "g/_waveshard_complete_combine.json" in list_keys(moto, OUT_BUCKET, "g/")
    # a second run skips the groups and the combine job
    again = kedro_run(args, env=_env(moto))
    assert again.code == 0, again.output[-4000:]
    assert len(re.findall(r"(group_3[01]|combine)\s+│\s+-\s+│\s+skipped", again.output)) == 3
    assert len(list(tmp_path.glob("store-*/ws-*"))) == 3


def test_h_local_timings_do_not_feed_the_sagemaker_plan(moto, local_run) -> None:
    first, _, _ = local_run
    assert first.code == 0
    marker = json.loads(
        get_bytes(moto, OUT_BUCKET, "b/02_intermediate/groups/30/_waveshard_complete_group_30.json")
    )
    assert (marker["backend"], marker["instance_type"], marker["input_mode"]) == (
        "local",
        "ml.m5.xlarge",
        "stream",
    )
    plan = kedro_run(
        [
            "--env",
            "aws",
            *_out("b"),
            *runner_args(
                backend="sagemaker", dry_run="true", role_arn=ROLE, image_uri=IMAGE, force="true"
            ),
        ],
        env=_env(moto),
    )
    assert plan.code == 0, plan.output[-3000:]
    footer = " ".join(plan.output.split())
    assert "no completed sagemaker job on ml.m5.xlarge in stream mode has measured one" in footer
    assert "not used, other backend/instance/mode: local on ml.m5.xlarge, stream mode" in footer
    assert "reading (input_mode stream): S3 at 150 MB/s per ml.m5.xlarge" in footer


def test_i_missing_sagemaker_settings_stop_the_run_before_anything_is_skipped(
    moto, local_run
) -> None:
    first, _, _ = local_run
    assert first.code == 0
    keys = list_keys(moto, OUT_BUCKET)
    result = kedro_run(
        ["--env", "aws", *_out("b"), *runner_args(backend="sagemaker")], env=_env(moto)
    )
    assert result.code != 0
    assert "Error: Setting(s) role_arn, image_uri missing for backend=sagemaker" in result.output
    assert "skipped" not in result.output and "Traceback" not in result.output
    assert list_keys(moto, OUT_BUCKET) == keys


def test_j_a_job_that_fails_inside_a_node_uploads_nothing(moto, tmp_path: Path) -> None:
    """The jobs save the segment index, then a node fails: nothing of theirs reaches S3.

    ``signal_names.II=[ART]`` claims ART for lead II as well as for ABP, which the
    summarize node refuses (a setting, so it stops the job, loudly).
    """
    args = [
        "--env",
        "aws",
        "--params",
        f"output_root=s3://{OUT_BUCKET}/j,groups=30 31,signal_names.II=[ART]",
        *runner_args(backend="local", local_work_dir=tmp_path, **FAST),
    ]
    result = kedro_run(args, env=_env(moto))
    assert result.code != 0, result.output[-3000:]
    assert "is listed under both" in result.output
    # The failing jobs had written their segment index in their own output folder ...
    assert list(tmp_path.rglob("output/segment_index.parquet"))
    # ... and none of it was uploaded.
    assert not list_keys(moto, OUT_BUCKET, "j/02_intermediate/")
