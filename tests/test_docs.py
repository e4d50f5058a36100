"""The README's and the docs' commands, run as written.

Every command of every ``bash`` block in README.md, docs/s3.md and
docs/sagemaker.md is either run here — in order, in a copy of the project
(``tests/support/docs.py``), the S3 ones against moto and the downloads against
a PhysioNet-shaped mirror, both on 127.0.0.1 — or matches an entry of
``NOT_RUN``, which says why it cannot run here. A command added to the docs, or
changed, fails ``test_every_documented_command_is_run_or_excused`` until it is
registered below: the docs cannot drift from what the project does unnoticed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from tests.support.docs import Block, Command, ProjectCopy, blocks, doc_commands
from tests.support.mirror import serve, write_mirror
from tests.support.paths import PHYSIONET, PROJECT_ROOT, SAMPLE_RAW
from tests.support.s3 import MotoS3

DOCS = ("README.md", "docs/s3.md", "docs/sagemaker.md")

#: Commands that cannot run here (pattern over the command line) and why.
NOT_RUN = {
    r"^uv run pytest\b": "the test suite itself, of which this test is part "
    "(test_named_test_files_exist checks the files it names)",
    r"^uv run python -m benchmarks\.": "a benchmark: a minute of CPU on 255 MB of generated "
    "data, measured by hand for the README's Speed section",
    r"^(nice -n \d+ )?uv run mutmut\b": "mutation testing: most of an hour of CPU, run by "
    "hand for the README's Mutation testing section",
    r"^uv run kedro viz run\b": "starts a web server that runs until it is stopped",
    r"^uv run kedro viz build\b": "tests/pipelines/test_viz.py runs it",
    r"^python -m http\.server -d build\b": "starts a web server that runs until it is "
    "stopped; tests/pipelines/test_viz.py serves the built site on 127.0.0.1 and opens it "
    "in Chromium",
    r"^uv run --with jupyterlab jupyter lab\b": "starts JupyterLab, which runs until it is "
    "stopped; tests/notebooks/test_tour.py executes the notebook",
    r"--runner waveshard\.runners\.ProcessingJobRunner\b": "backend=sagemaker needs an AWS "
    "account, an IAM role and an ECR image; the local backend runs against moto in "
    "tests/runners/test_moto.py",
    r"^(aws ecr|docker) ": "needs Docker and an AWS account (ECR); the suite does not build "
    "the image",
    r"^apt-get install -y debootstrap$": "installs a system package (as root); .ci/run does "
    "the same before building the job image",
    r"^uv run python -m waveshard\.runners\.rootfs (build|path|prune)\b": "the job image: "
    ".ci/run builds it before the suite (minutes, as root), tests/runners/test_image_build.py "
    "and tests/runners/test_image_jobs.py test it",
    r"^uv run waveshard make-listing --out mimic3wdb-listing\.csv$": "writes the whole "
    "archive's listing (4.1 million rows); tests/datatools/test_listing.py runs the command "
    "on a fraction of it (--scale)",
    r"^([A-Z_]+=(\$\([^)]*\)|\S+)\s*)+$": "only sets shell variables for the commands after it",
}

#: Test files a doc names that do not exist, known and tolerated (none).
KNOWN_STALE_PATHS: dict[str, set[str]] = {}


@dataclass
class Context:
    """What a documented command runs with."""

    tmp: Path
    project: ProjectCopy
    moto: MotoS3 | None = None
    mirror: str = ""
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Run:
    """How a documented command runs here and what it must print.

    Attributes:
        expect: Substrings of its output (``{tmp}`` is the test's folder).
        substitute: Example values of the docs → values of this machine.
        prepare: What a reader would have done before (e.g. filled a bucket).
        stdin: Type the README's next ``python`` block into it (``kedro ipython``).
    """

    expect: tuple[str, ...] = ()
    substitute: dict[str, str] = field(default_factory=dict)
    prepare: Callable[[Context], None] | None = None
    stdin: bool = False


def sample_at(rel: str) -> Callable[[Context], None]:
    def prepare(ctx: Context) -> None:
        shutil.copytree(SAMPLE_RAW, ctx.tmp / rel)

    return prepare


def sample_in_bucket(bucket: str, prefix: str) -> Callable[[Context], None]:
    def prepare(ctx: Context) -> None:
        from waveshard.datatools.upload import upload_tree

        make_buckets(ctx, bucket)
        upload_tree(source=SAMPLE_RAW, dest=f"s3://{bucket}/{prefix}", storage_options={})

    return prepare


def make_buckets(ctx: Context, *names: str) -> None:
    client = ctx.moto.client()
    existing = {b["Name"] for b in client.list_buckets()["Buckets"]}
    for name in names:
        if name not in existing:
            client.create_bucket(Bucket=name)


SAMPLE_DONE = "All groups: 20 records, 78 segments ok, 0 failed, 0 problems"

#: Per doc, each runnable command (exactly as the doc writes it, comment dropped).
RUN: dict[str, dict[str, Run]] = {
    "README.md": {
        "uv run kedro run": Run(expect=(SAMPLE_DONE, "Results under data:")),
        'uv run kedro run --params "raw_root=/data/mimic3wdb,output_root=/data/waveshard-out"': Run(
            expect=(SAMPLE_DONE, "Results under {tmp}/waveshard-out"),
            substitute={
                "/data/mimic3wdb": "{tmp}/mimic3wdb",
                "/data/waveshard-out": "{tmp}/waveshard-out",
            },
            prepare=sample_at("mimic3wdb"),
        ),
        'uv run kedro run --params "groups=30 31"': Run(
            expect=("All groups: 4 records", "Results under data:")
        ),
        "uv run kedro run --pipelines clinical": Run(
            expect=(
                "All groups (clinical): 20 records",
                "Results under data: 04_feature/ (window_features) and 08_reporting/ "
                "(clinical_errors, clinical_summary)",
            )
        ),
        "KEDRO_LOGGING_CONFIG=conf/logging_verbose.yml uv run kedro run": Run(
            expect=(SAMPLE_DONE, "kedro.runner", "Running node: combine_segment_features")
        ),
        "uv run kedro ipython": Run(expect=("Name: duration_s",), stdin=True),
        "uv run waveshard make-sample --out data/01_raw": Run(
            expect=("Wrote 20 records, 78 segments",)
        ),
        "uv run waveshard upload --from data/01_raw": Run(
            expect=("to s3://waveshard-raw/mimic3wdb/1.0",)
        ),
        "uv run kedro run --env aws": Run(
            expect=(SAMPLE_DONE, "Results under s3://waveshard-features/waveshard")
        ),
        "uv run ruff check . && uv run ruff format --check .": Run(),
    },
    "docs/s3.md": {
        (
            "uv run kedro run --env aws --params "
            '"raw_root=s3://other-bucket/tree,output_root=s3://other-bucket/out"'
        ): Run(
            expect=(SAMPLE_DONE, "Results under s3://other-bucket/out"),
            prepare=sample_in_bucket("other-bucket", "tree"),
        ),
        "cp conf/local/credentials.yml.example conf/local/credentials.yml": Run(),
        "uv run waveshard make-sample --out data/01_raw": Run(
            expect=("Wrote 20 records, 78 segments",)
        ),
        "uv run waveshard upload --from data/01_raw": Run(
            expect=("to s3://waveshard-raw/mimic3wdb/1.0",)
        ),
        "uv run waveshard upload --from data/01_raw --to s3://other-bucket/tree --workers 16": Run(
            expect=("Uploaded 0 files", "to s3://other-bucket/tree")
        ),
        "uv run waveshard download --groups 30 --out data/physionet": Run(
            expect=("Downloaded 4 records",)
        ),
        'uv run waveshard download --records "30/3000003 30/3000063" --out data/physionet': Run(
            expect=("Downloaded 2 records",)
        ),
        (
            "uv run waveshard download --database mimic3wdb-matched --groups p00 "
            "--out data/physionet-matched"
        ): Run(expect=("Downloaded 1 records", "of mimic3wdb-matched/1.0")),
        (
            "uv run waveshard download --base-url http://mirror.example/files/ --groups 30 "
            "--out data/physionet"
        ): Run(
            expect=("Downloaded 4 records",),
            substitute={"http://mirror.example/files/": "{mirror}"},
        ),
        'uv run kedro run --params "raw_root=data/physionet,groups=30"': Run(
            expect=("All groups: 4 records",)
        ),
        "uv run kedro run --env aws": Run(expect=(SAMPLE_DONE,)),
        'uv run kedro run --env aws --params "groups=30 31"': Run(
            expect=("All groups: 4 records",)
        ),
    },
    "docs/sagemaker.md": {
        "uv run kedro run --params raw_root=data/01_raw,output_root=data": Run(
            expect=(SAMPLE_DONE,)
        ),
    },
}


def excuse(command: Command) -> str | None:
    """Why ``command`` is not run here, or None."""
    for pattern, reason in NOT_RUN.items():
        if re.search(pattern, command.text):
            return reason
    return None


@pytest.mark.parametrize("doc", DOCS)
def test_every_documented_command_is_run_or_excused(doc: str) -> None:
    found = doc_commands(doc)
    neither = [str(c) for c in found if c.text not in RUN[doc] and excuse(c) is None]
    assert neither == [], "register these commands in RUN or NOT_RUN of tests/test_docs.py"
    stale = set(RUN[doc]) - {c.text for c in found}
    assert stale == set(), f"RUN lists commands {doc} no longer has"


@pytest.mark.parametrize("doc", DOCS)
def test_documented_commands_are_valid_shell(doc: str) -> None:
    """Even the commands not run here must paste into a shell (no `<placeholder>`)."""
    for command in doc_commands(doc):
        check = subprocess.run(
            ["bash", "-n", "-c", command.text], capture_output=True, text=True, check=False
        )
        assert check.returncode == 0, f"{command}: {check.stderr}"


def run_doc(doc: str, ctx: Context) -> None:
    """Run ``doc``'s registered commands in order, then its Python blocks."""
    pending_python: list[Block] = [b for b in blocks(doc) if b.language == "python"]
    ordered = sorted(
        [*doc_commands(doc), *pending_python], key=lambda item: (item.line, isinstance(item, Block))
    )
    fed: set[int] = set()
    for i, item in enumerate(ordered):
        if isinstance(item, Block) or item.text not in RUN[doc]:
            continue
        spec = RUN[doc][item.text]
        text = item.text
        for example, value in spec.substitute.items():
            text = text.replace(example, value.format(tmp=ctx.tmp, mirror=ctx.mirror))
        if spec.prepare is not None:
            spec.prepare(ctx)
        stdin = None
        if spec.stdin:
            block = next(b for b in ordered[i + 1 :] if isinstance(b, Block))
            stdin = block.text
            fed.add(block.line)
        result = ctx.project.run(text, env=ctx.env, stdin=stdin)
        output = result.output
        assert result.code == 0, f"{item}\n{output}"
        assert "Traceback" not in output, f"{item}\n{output}"
        for expected in spec.expect:
            assert expected.format(tmp=ctx.tmp) in output, f"{item}: no {expected!r} in\n{output}"
    for block in pending_python:
        if block.line in fed:
            continue
        result = ctx.project.python(block.text, env=ctx.env)
        assert result.code == 0, f"{doc}:{block.line} (python)\n{result.output}"


def test_readme_as_written(tmp_path: Path, s3_env: dict[str, str], moto_s3: MotoS3) -> None:
    ctx = Context(tmp_path, ProjectCopy(tmp_path / "project"), moto_s3, env=s3_env)
    # What the reader did first (README, "On S3"): buckets named in conf/aws/globals.yml.
    make_buckets(ctx, "waveshard-raw", "waveshard-features")
    run_doc("README.md", ctx)


def _renamed_record(source: Path, old: str, new: str, dest: Path) -> None:
    """A copy of record folder ``source`` whose names say ``new`` instead of ``old``."""
    dest.mkdir(parents=True)
    for path in source.iterdir():
        target = dest / path.name.replace(old, new)
        if path.suffix == ".hea":
            target.write_text(path.read_text().replace(old, new))
        else:
            shutil.copyfile(path, target)


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory):
    """PhysioNet-shaped: mimic3wdb group 30 holds the records the docs name, the matched
    subset group p00 a real record."""
    src = tmp_path_factory.mktemp("mirror-src")
    wdb, matched = src / "mimic3wdb", src / "matched"
    for record in ("3000001", "3000002"):
        shutil.copytree(SAMPLE_RAW / "30" / record, wdb / "30" / record)
    (wdb / "30" / "3000003").mkdir()
    for name in ("3000003_0003.hea", "3000003_0003.dat"):  # the real one
        shutil.copyfile(PHYSIONET / name, wdb / "30" / "3000003" / name)
    _renamed_record(SAMPLE_RAW / "30" / "3000002", "3000002", "3000063", wdb / "30" / "3000063")
    shutil.copytree(PHYSIONET / "s25047", matched / "p00" / "s25047")
    site = tmp_path_factory.mktemp("mirror-site")
    write_mirror(wdb, site, "mimic3wdb", "1.0")
    write_mirror(matched, site, "mimic3wdb-matched", "1.0")
    with serve(site) as url:
        yield url


def test_s3_doc_as_written(
    tmp_path: Path, s3_env: dict[str, str], moto_s3: MotoS3, mirror: str
) -> None:
    env = {**s3_env, "WAVESHARD_PHYSIONET_URL": mirror}
    ctx = Context(tmp_path, ProjectCopy(tmp_path / "project"), moto_s3, mirror, env)
    make_buckets(ctx, "waveshard-raw", "waveshard-features")
    run_doc("docs/s3.md", ctx)
    fetched = ctx.project.root / "data" / "physionet" / "30"
    assert sorted(p.name for p in fetched.iterdir()) == ["3000001", "3000002", "3000003", "3000063"]


def test_sagemaker_doc_runnable_commands(tmp_path: Path) -> None:
    run_doc("docs/sagemaker.md", Context(tmp_path, ProjectCopy(tmp_path / "project")))


def test_s3_doc_shows_the_shipped_globals() -> None:
    shipped = yaml.safe_load((PROJECT_ROOT / "conf/aws/globals.yml").read_text())
    shown = [yaml.safe_load(b.text) for b in blocks("docs/s3.md") if b.language == "yaml"]
    assert shown, "docs/s3.md shows conf/aws/globals.yml"
    for block in shown:
        for key, value in block.items():
            assert shipped.get(key) == value, f"docs/s3.md shows {key}: {value!r}"


@pytest.mark.parametrize("doc", DOCS)
def test_named_test_files_exist(doc: str) -> None:
    named = set(re.findall(r"\btests/[\w/.-]*\.py\b", (PROJECT_ROOT / doc).read_text()))
    missing = {p for p in named if not (PROJECT_ROOT / p).is_file()}
    assert missing <= KNOWN_STALE_PATHS.get(doc, set()), f"{doc} names missing files"


def test_list_separators_are_documented_one_way() -> None:
    """Lists in --params, --runner-params and the data tools: "space- or ;-separated"."""
    files = [
        *(PROJECT_ROOT / d for d in DOCS),
        *(PROJECT_ROOT / "conf").rglob("*.yml"),
        *(PROJECT_ROOT / "src" / "waveshard").rglob("*.py"),
    ]
    other = []
    for path in files:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for match in re.finditer(r"separated", line, re.IGNORECASE):
                before = line[: match.start()]
                if not re.search(r"space- or `{0,2};`{0,2}-$", before):
                    other.append(f"{path.relative_to(PROJECT_ROOT)}:{number}: {line.strip()}")
    assert other == []
