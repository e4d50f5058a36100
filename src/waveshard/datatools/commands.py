"""``waveshard`` data tools (not Kedro commands: they prepare or move raw trees).

Run ``uv run waveshard --help``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click


def split_list(text: str) -> list[str]:
    """Items of a list option: space- or ;-separated (commas work as well)."""
    return [part for part in re.split(r"[\s;,]+", text) if part]


@click.group()
def main() -> None:
    """waveshard data tools."""


@main.command("make-sample")
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("data/01_raw"),
    show_default=True,
    help="Folder to write the MIMIC-III-layout tree into (group folders 30..39).",
)
@click.option(
    "--groups",
    default="30 31 32 33 34 35 36 37 38 39",
    show_default=True,
    help="Group ids, space- or ;-separated.",
)
@click.option("--records-per-group", default=2, show_default=True, type=click.IntRange(1))
@click.option("--seed", default=20261127, show_default=True, type=int)
def make_sample(out: Path, groups: str, records_per_group: int, seed: int) -> None:
    """Write the small synthetic sample tree (the one bundled under data/01_raw)."""
    from waveshard.datatools.sample import write_sample_tree

    summary = write_sample_tree(
        out,
        groups=split_list(groups),
        records_per_group=records_per_group,
        seed=seed,
    )
    click.echo(
        f"Wrote {summary.records} records, {summary.segments} segments "
        f"({summary.dat_bytes / 1e6:.2f} MB of .dat) in {summary.groups} groups to {out}"
    )


@main.command("make-listing")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("mimic3wdb-listing.csv"),
    show_default=True,
    help="CSV file to write (key,size; keys relative to the archive's root).",
)
@click.option(
    "--scale",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0, 1, min_open=True),
    help="Fraction of the archive (records and bytes).",
)
@click.option("--seed", default=0, show_default=True, type=int)
def make_listing(out: Path, scale: float, seed: int) -> None:
    """Write a synthetic listing of MIMIC-III's published shape (67,830 records, 6.7 TB).

    Plan a run from it before uploading anything:
    kedro run --runner waveshard.runners.ProcessingJobRunner
    --runner-params dry_run=true,listing=<file>
    """
    from waveshard.datatools.listing import write_listing

    summary = write_listing(out, scale=scale, seed=seed)
    click.echo(
        f"Wrote {summary.files:,} objects ({summary.bytes / 1e12:.2f} TB) of {summary.records:,} "
        f"records in {summary.groups} groups to {out}"
    )


def _progress():
    """A rich progress bar on stderr (stdout stays for the summary line)."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    )


def _fail(exc: Exception) -> None:
    raise click.ClickException(str(exc)) from None


@main.command("upload")
@click.option(
    "--from",
    "source",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=Path("data/01_raw"),
    show_default=True,
    help="Local raw root (holding <group>/<record>/ folders).",
)
@click.option(
    "--to",
    "dest",
    default=None,
    help="Destination, s3://bucket/prefix. Default: raw_root of the --env environment "
    "(conf/aws/globals.yml: s3://<raw_bucket>/<raw_prefix>).",
)
@click.option("--env", "env", default="aws", show_default=True, help="Kedro environment to read.")
@click.option(
    "--endpoint-url",
    default=None,
    help="S3-compatible endpoint. Default: s3.endpoint_url of the environment, else "
    "AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, else AWS.",
)
@click.option("--workers", default=8, show_default=True, type=click.IntRange(1, 64))
def upload(
    *, source: Path, dest: str | None, env: str, endpoint_url: str | None, workers: int
) -> None:
    """Upload a local WFDB tree to S3, keeping <group>/<record>/ keys.

    Objects already there with the same size are skipped, so rerunning resumes an
    interrupted upload. Credentials: the `s3` entry of conf/local/credentials.yml,
    else the standard AWS chain (AWS_ACCESS_KEY_ID..., AWS_PROFILE, instance role).
    """
    from waveshard.config import storage_settings
    from waveshard.datatools.s3check import StorageSettingError
    from waveshard.datatools.upload import upload_tree

    settings = storage_settings(env)
    dest = dest or settings.raw_root
    if not dest:
        raise click.UsageError("no destination: pass --to s3://bucket/prefix")
    options = dict(settings.storage_options)
    if endpoint_url:
        options["endpoint_url"] = endpoint_url
    with _progress() as progress:
        task = progress.add_task(f"upload → {dest}", total=None)

        def plan(files: int, n_bytes: int, skipped: int) -> None:
            progress.update(task, total=n_bytes)
            progress.console.print(
                f"{files} files to upload ({n_bytes / 1e6:.1f} MB), {skipped} already there"
            )

        try:
            report = upload_tree(
                source=source,
                dest=dest,
                storage_options=options,
                workers=workers,
                on_plan=plan,
                on_progress=lambda _files, n: progress.advance(task, n),
            )
        except (StorageSettingError, FileNotFoundError) as exc:
            _fail(exc)
    rate = report.bytes_uploaded / 1e6 / max(report.seconds, 1e-9)
    click.echo(
        f"Uploaded {report.uploaded} files ({report.bytes_uploaded / 1e6:.1f} MB, "
        f"{rate:.1f} MB/s), skipped {report.skipped} already present, to {dest}"
    )


def _interactive() -> bool:
    """Whether a person can answer a question (stdin and stdout are a terminal)."""
    return sys.stdin.isatty() and sys.stdout.isatty()


@main.command("download")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("data/physionet"),
    show_default=True,
    help="Local raw root to fill (<group>/<record>/ folders); then run "
    "`kedro run --params raw_root=<out>`. Not the synthetic sample's folder (data/01_raw).",
)
@click.option(
    "--database",
    default="mimic3wdb",
    show_default=True,
    help="PhysioNet database: mimic3wdb, or mimic3wdb-matched (the matched subset).",
)
@click.option("--version", "version", default="1.0", show_default=True)
@click.option(
    "--groups", default="", help="Groups to fetch whole, space- or ;-separated, e.g. '30 31'."
)
@click.option(
    "--records",
    default="",
    help="Records, space- or ;-separated, e.g. '30/3000003 30/3000063'.",
)
@click.option(
    "--all",
    "everything",
    is_flag=True,
    help="Fetch the whole database (mimic3wdb 1.0: ~6.7 TB in 67,830 records).",
)
@click.option(
    "--into-sample",
    is_flag=True,
    help="Allow --out to be the synthetic sample tree (mixes real records into it).",
)
@click.option(
    "--base-url",
    envvar="WAVESHARD_PHYSIONET_URL",
    default="https://physionet.org/files/",
    show_default=True,
    help="File index of PhysioNet or a mirror (env WAVESHARD_PHYSIONET_URL).",
)
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 8))
def download(
    *,
    out: Path,
    database: str,
    version: str,
    groups: str,
    records: str,
    everything: bool,
    into_sample: bool,
    base_url: str,
    workers: int,
) -> None:
    """Download records or groups of a PhysioNet WFDB database with wfdb's downloader.

    Complete local files are kept and partial ones are completed, so rerunning
    resumes. The whole database needs --all (or a yes at the prompt in a terminal).
    """
    from waveshard.datatools.download import (
        DownloadError,
        check_destination,
        check_selection,
        download_records,
        whole_database,
    )

    chosen_groups, chosen_records = split_list(groups), split_list(records)
    try:
        check_destination(out, into_sample=into_sample)
        if not chosen_groups and not chosen_records and not everything and _interactive():
            everything = click.confirm(
                f"No --groups or --records: download all of "
                f"{whole_database(database, version)} into {out}?",
                default=False,
            )
            if not everything:
                raise click.Abort()
        check_selection(database, version, chosen_groups, chosen_records, everything=everything)
    except DownloadError as exc:
        _fail(exc)
    with _progress() as progress:
        listing = progress.add_task("headers", total=None)
        fetching = progress.add_task("data files", total=None, visible=False)
        try:
            report = download_records(
                out=out,
                database=database,
                version=version,
                groups=chosen_groups,
                records=chosen_records,
                everything=everything,
                into_sample=into_sample,
                base_url=base_url,
                workers=workers,
                on_record=lambda _rec: progress.advance(listing),
                on_plan=lambda n: progress.update(fetching, total=n, visible=True),
                on_file=lambda _rel: progress.advance(fetching),
            )
        except DownloadError as exc:
            _fail(exc)
    click.echo(
        f"Downloaded {len(report.records)} records ({report.files} files) of "
        f"{database}/{version} into {out} in {report.seconds:.1f} s"
    )
