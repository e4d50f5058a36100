"""Jobs inside the job image (backend=local, isolation=image) against moto's S3 on loopback.

The image is the Dockerfile's, built without Docker (tests/support/image.py). A group
job and the combine job run in it and give what a plain ``kedro run`` gives; an image
or project that would break on SageMaker makes the job fail with the reason: a runtime
dependency moved to the dev group, a module only the development venv has, a file read
from outside the container.
"""

from __future__ import annotations

import io
import json
import subprocess
import time
import uuid
from pathlib import Path

import pandas as pd
import pytest

from tests.support.image import (
    built_image,
    image_with_dependency_in_dev_group,
    patched_project,
    venv_packages,
)
from tests.support.paths import PROJECT_ROOT, arrange_physionet
from tests.support.runner import (
    OUT_BUCKET,
    RAW_BUCKET,
    RAW_PREFIX,
    Moto,
    get_bytes,
    kedro_run,
    list_keys,
    make_buckets,
    runner_args,
    upload_tree,
)
from waveshard.runners import isolation

#: A group of real records (tests/data/physionet): p000878 and s25047.
GROUP = "32"
FAST = {"poll_initial_s": 0.3, "poll_max_s": 1}
TABLES = (
    "04_feature/segment_features.parquet",
    "04_feature/record_features.parquet",
    "08_reporting/signal_stats.csv",
    "08_reporting/extraction_errors.csv",
)


@pytest.fixture(scope="module")
def image():
    return built_image()


@pytest.fixture(scope="module")
def moto(moto_s3, tmp_path_factory: pytest.TempPathFactory):
    raw = arrange_physionet(tmp_path_factory.mktemp("image-runner") / "raw")
    server = Moto.of(moto_s3)
    upload_tree(server, raw / GROUP, RAW_BUCKET, f"{RAW_PREFIX}/{GROUP}")
    make_buckets(server, OUT_BUCKET)
    server.raw = raw
    return server


def _run_jobs(
    moto, root: str, work: Path, cwd: Path | None = None, group_only: bool = False, **params
):
    """``kedro run --env aws`` with the local backend, combine=job, output under ``root``."""
    args = [
        "--env",
        "aws",
        "--params",
        f"output_root=s3://{OUT_BUCKET}/{root},groups={GROUP}",
        *runner_args(backend="local", local_work_dir=work, combine="job", **FAST, **params),
        *(["--namespaces", f"group_{GROUP}"] if group_only else []),
    ]
    extra = {"cwd": cwd} if cwd else {}
    return kedro_run(args, env=moto.env, **extra)


def _below(paths: pd.Series, prefix: str) -> pd.Series:
    assert paths.str.startswith(prefix).all(), (prefix, paths.head().tolist())
    return paths.str.slice(len(prefix))


def _read(moto, key: str) -> pd.DataFrame:
    data = get_bytes(moto, OUT_BUCKET, key)
    reader = pd.read_parquet if key.endswith(".parquet") else pd.read_csv
    return reader(io.BytesIO(data))


def test_group_and_combine_jobs_in_the_image_equal_a_plain_run(image, moto, tmp_path) -> None:
    work = tmp_path / "jobs"
    # input_mode=file: the group's input is staged into the container's input channel
    result = _run_jobs(moto, "image", work, isolation="image", input_mode="file")
    assert result.code == 0, result.output[-4000:]
    plain = tmp_path / "plain"
    direct = kedro_run(
        ["--params", f"raw_root={moto.raw},output_root={plain},groups={GROUP}"],
        env={},
    )
    assert direct.code == 0, direct.output[-4000:]
    for rel in TABLES:
        ours = _read(moto, f"image/{rel}")
        theirs = (pd.read_parquet if rel.endswith(".parquet") else pd.read_csv)(plain / rel)
        assert len(ours) > 0, rel  # the real records have damage: errors.csv has rows too
        if "path" in ours.columns:
            # Where each job found the file: the container's input channel, the plain
            # run's raw folder; the same file below them.
            ours["path"] = _below(ours["path"], "/opt/ml/processing/input/raw_records/")
            theirs["path"] = _below(theirs["path"], f"{moto.raw}/{GROUP}/")
        pd.testing.assert_frame_equal(ours, theirs, check_dtype=False)
    ours = json.loads(get_bytes(moto, OUT_BUCKET, "image/08_reporting/run_summary.json"))
    theirs = json.loads((plain / "08_reporting/run_summary.json").read_text())
    assert ours["totals"]["records"] == theirs["totals"]["records"] == 2
    # Both jobs ran inside the image: what they wrote is in their own writable layer,
    # their inputs and outputs under the literal /opt/ml paths.
    # (job folders are kept per S3 store: <work>/<store>/<job>)
    (group_job,) = work.glob(f"*/ws-group-{GROUP}-*")
    (combine_job,) = work.glob("*/ws-combine-*")
    for job in (group_job, combine_job):
        layer = job / "layer" / "opt" / "ml" / "processing"
        assert list((layer / "input" / "code").glob("waveshard-*.whl")), job
        assert list((layer / "output").glob("_waveshard_complete_*.json")), job
        # the entrypoint unpacked the conf into the container's /tmp
        assert list((job / "layer" / "tmp").glob("waveshard-job-*/conf/container")), job
        assert "sending anonymous usage data" not in (job / "logs.txt").read_text()
        assert not list((job / "root").iterdir())  # the mount point is empty again
    assert (group_job / "layer/opt/ml/processing/input/raw_records/p000878").is_dir()
    assert list_keys(moto, OUT_BUCKET, f"image/02_intermediate/groups/{GROUP}/")
    assert isolation.mounts_under(tmp_path) == []
    assert isolation.mounts_under(image.root) == []


def test_a_runtime_dependency_in_the_dev_group_fails_the_job(image, moto, tmp_path) -> None:
    variant = image_with_dependency_in_dev_group(image, "joblib==1.6.0", tmp_path)
    assert "joblib" not in venv_packages(variant / "rootfs")
    assert "joblib" in venv_packages(image.root)  # the cached image is untouched
    result = _run_jobs(moto, "dev-group", tmp_path / "jobs", isolation="image", image_root=variant)
    assert result.code != 0
    assert f"group_{GROUP}: ModuleNotFoundError: No module named 'joblib'" in result.output, (
        result.output[-4000:]
    )
    # only the code and the job's own files went up before it ran; no table, no marker
    uploaded = list_keys(moto, OUT_BUCKET, "dev-group/")
    assert uploaded
    assert all(key.startswith("dev-group/_waveshard/") for key in uploaded), uploaded


#: Appended to pipeline_registry.py of a project copy: imports a module only the
#: development venv has (moto is a dev dependency).
IMPORT_FROM_DEV_VENV = "import moto  # noqa: E402, F401"


def _read_host_file(path: Path) -> str:
    """Appended to pipeline_registry.py: reads a file of this machine, outside /opt/ml."""
    return f"__import__('pathlib').Path({str(path)!r}).read_text()"


def test_a_module_only_the_project_venv_has_fails_the_job(image, moto, tmp_path) -> None:
    project = patched_project(tmp_path, IMPORT_FROM_DEV_VENV)
    result = _run_jobs(
        moto, "dev-venv", tmp_path / "jobs", cwd=project, isolation="image", image_root=image.folder
    )
    assert result.code != 0
    assert f"group_{GROUP}: ModuleNotFoundError: No module named 'moto'" in result.output, (
        result.output[-4000:]
    )


def test_a_file_read_outside_opt_ml_fails_the_job(image, moto, tmp_path) -> None:
    host_file = tmp_path / "host-only.txt"
    host_file.write_text("on the driver's machine only")
    project = patched_project(tmp_path, _read_host_file(host_file))
    result = _run_jobs(
        moto,
        "host-file",
        tmp_path / "jobs",
        cwd=project,
        isolation="image",
        image_root=image.folder,
    )
    assert result.code != 0
    assert f"group_{GROUP}: FileNotFoundError: [Errno 2] No such file or directory: " in (
        result.output
    ), result.output[-4000:]
    assert str(host_file) in result.output


def test_without_the_image_the_same_mistakes_go_unnoticed(moto, tmp_path) -> None:
    """Why isolation=image exists: the development interpreter hides both mistakes."""
    host_file = tmp_path / "host-only.txt"
    host_file.write_text("on the driver's machine only")
    project = patched_project(tmp_path, f"{IMPORT_FROM_DEV_VENV}\n{_read_host_file(host_file)}")
    result = _run_jobs(
        moto, "no-image", tmp_path / "jobs", cwd=project, isolation="none", group_only=True
    )
    assert result.code == 0, result.output[-4000:]
    assert f"no-image/02_intermediate/groups/{GROUP}/_waveshard_complete_group_{GROUP}.json" in (
        list_keys(moto, OUT_BUCKET, "no-image/")
    )


def test_inside_the_image_only_the_image_is_seen_and_loopback_is_reached(
    image, moto, tmp_path
) -> None:
    overlay = isolation.Overlay(
        lower=image.root,
        upper=tmp_path / "layer",
        work=tmp_path / "work",
        mountpoint=tmp_path / "root",
    )
    for folder in (overlay.upper, overlay.work, overlay.mountpoint):
        folder.mkdir()
    probe = (
        "import importlib.util, json, os, sys, urllib.request\n"
        f"with urllib.request.urlopen({moto.url + '/moto-api/data.json'!r}) as r:\n"
        "    status = r.status\n"
        "print(json.dumps({'status': status, 'prefix': sys.prefix, 'cwd': os.getcwd(),\n"
        f"    'project': os.path.exists({str(PROJECT_ROOT)!r}),\n"
        "    'waveshard': importlib.util.find_spec('waveshard') is not None,\n"
        "    'moto': importlib.util.find_spec('moto') is not None,\n"
        "    'env': sorted(os.environ)}))\n"
    )
    command = isolation.chroot_command(
        ["python3", "-c", probe],
        overlay=overlay,
        env=image.container_env({"ONLY_THIS": "1"}),
        workdir=image.workdir,
    )
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.splitlines()[-1])
    assert seen["status"] == 200  # moto's server on this machine's 127.0.0.1
    assert seen["prefix"] == "/opt/venv" and seen["cwd"] == "/opt/waveshard"
    assert not seen["project"] and not seen["waveshard"] and not seen["moto"]
    # nothing of this process's environment; LC_CTYPE is Python's C-locale coercion (PEP 538)
    assert set(seen["env"]) - {"LC_CTYPE"} == {*image.env, "HOME", "ONLY_THIS"}
    assert isolation.mounts_under(tmp_path) == []
    assert not list(overlay.mountpoint.iterdir())


def _processes_with(marker: str) -> list[int]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if marker.encode() in cmdline.read_bytes():
                found.append(int(cmdline.parent.name))
        except OSError:
            continue  # ended while we looked
    return found


@pytest.mark.parametrize("how", ["stop", "timeout"])
def test_a_stopped_or_timed_out_job_leaves_no_process_and_no_mount(image, tmp_path, how) -> None:
    from waveshard.runners.image_jobs import ImageJobs
    from waveshard.runners.local_backend import LocalBackend

    marker = f"waveshard-probe-{uuid.uuid4().hex}"
    backend = LocalBackend(work_dir=tmp_path / "jobs", image=ImageJobs(image))
    name = f"probe-{how}"
    backend.create(
        {
            "ProcessingJobName": name,
            "AppSpecification": {
                "ContainerEntrypoint": [
                    "python3",
                    "-c",
                    f"import time; time.sleep(120)  # {marker}",
                ]
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": 2 if how == "timeout" else 600},
            "Environment": {},
        }
    )
    deadline = time.monotonic() + 60
    while not _processes_with(marker):
        assert time.monotonic() < deadline, backend.job_dir(name).joinpath("logs.txt").read_text()
        time.sleep(0.1)
    if how == "stop":
        backend.stop(name)
    backend.wait(60)
    state = backend.describe(name)
    assert state.status == ("Stopped" if how == "stop" else "Failed"), state
    assert _processes_with(marker) == []
    assert isolation.mounts_under(tmp_path) == []
