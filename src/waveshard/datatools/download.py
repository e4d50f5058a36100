"""``waveshard download``: chosen records or groups of a PhysioNet WFDB database.

Files are found the way ``wfdb.dl_database`` finds them: the database's
``RECORDS`` file lists record folders (``30/3000003/``), each folder's
``RECORDS`` lists its records (``3000003``, ``3000003n``), and the headers name
the segments and data files. Every file goes through wfdb's own downloader
(``wfdb.io.download.dl_pn_file``), which skips a local file of the remote size
and appends the rest of a shorter one, so an interrupted download resumes.
``wfdb.dl_database`` itself is not used: it checks a hard-coded
``physionet.org/content`` URL first, so it cannot use a mirror.
"""

from __future__ import annotations

import posixpath
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import wfdb
from wfdb.io import download as wfdb_download

from waveshard.datatools.sample import SAMPLE_MARKER, holds_sample

#: PhysioNet's file index; ``--base-url`` points at a mirror instead.
PHYSIONET_URL = wfdb_download.PN_INDEX_URL

#: Sizes of whole databases as PhysioNet lists them, shown before a whole-database download.
KNOWN_SIZES = {("mimic3wdb", "1.0"): "~6.7 TB in 67,830 records"}


class DownloadError(RuntimeError):
    """A download that cannot start or finish; the message names the option to fix."""


@dataclass(frozen=True, kw_only=True)
class DownloadReport:
    """What one download did.

    Attributes:
        records: Record folders (``<group>/<record>``) selected.
        files: Files the records consist of (headers and data files), fetched
            now or found complete from an earlier run.
        seconds: Wall time.
    """

    records: tuple[str, ...]
    files: int
    seconds: float


@contextmanager
def physionet_index(base_url: str) -> Iterator[None]:
    """Point wfdb's downloader at ``base_url`` for the duration of the block."""
    previous = wfdb_download.config.db_index_url
    wfdb_download.set_db_index_url(base_url.rstrip("/") + "/")
    try:
        yield
    finally:
        wfdb_download.set_db_index_url(previous)


def whole_database(database: str, version: str) -> str:
    """``database/version``, with its size where known, for messages."""
    size = KNOWN_SIZES.get((database, version))
    return f"{database}/{version}" + (f" ({size})" if size else "")


def check_selection(
    database: str,
    version: str,
    groups: Sequence[str],
    records: Sequence[str],
    *,
    everything: bool,
) -> None:
    """Refuse a whole-database download nobody asked for.

    Raises:
        DownloadError: Neither groups nor records are chosen and ``everything`` is not set.
    """
    if not groups and not records and not everything:
        raise DownloadError(
            f"download: no --groups or --records, which means all of "
            f"{whole_database(database, version)}. Choose some, e.g. --groups 30 or "
            "--records 30/3000003, or pass --all to download the whole database"
        )


def check_destination(out: Path, *, into_sample: bool = False) -> None:
    """Refuse to put real records into the synthetic sample tree.

    Raises:
        DownloadError: ``out`` holds the sample and ``into_sample`` is not set.
    """
    if holds_sample(out) and not into_sample:
        raise DownloadError(
            f"download: {out} holds waveshard's synthetic sample ({out / SAMPLE_MARKER}); "
            "real records would be mixed into it. Download somewhere else, e.g. "
            "--out data/physionet (then: kedro run --params raw_root=data/physionet), "
            "or pass --into-sample to mix them on purpose"
        )


def select_record_dirs(
    listed: Sequence[str], groups: Sequence[str] = (), records: Sequence[str] = ()
) -> list[str]:
    """Record folders of the top ``RECORDS`` file chosen by group or record.

    Args:
        listed: Lines of the database's ``RECORDS`` (``30/3000003/``).
        groups: Group folders to take whole (``30``, ``p00``).
        records: Records as ``30/3000003`` or just ``3000003``.

    Returns:
        Chosen folders without the trailing slash, in ``RECORDS`` order; all
        of them when neither groups nor records are given.

    Raises:
        DownloadError: A requested group or record is not in ``RECORDS``.
    """
    dirs = [line.strip().strip("/") for line in listed if line.strip()]
    if not groups and not records:
        return dirs
    wanted_groups = {g.strip("/") for g in groups}
    wanted = {r.strip("/") for r in records}
    chosen = [
        d
        for d in dirs
        if d.split("/", 1)[0] in wanted_groups or d in wanted or d.rsplit("/", 1)[-1] in wanted
    ]
    known_groups = {d.split("/", 1)[0] for d in dirs}
    known = set(dirs) | {d.rsplit("/", 1)[-1] for d in dirs}
    missing = sorted(wanted_groups - known_groups) + sorted(wanted - known)
    if missing:
        raise DownloadError(
            f"download: not listed in the database's RECORDS file: {', '.join(missing)} — "
            "check --groups/--records (records are <group>/<record>, e.g. 30/3000003)"
        )
    return chosen


def _fetch(db_dir: str, rel: str, out: Path) -> Path:
    subdir, name = posixpath.split(rel)
    wfdb_download.dl_pn_file((name, subdir, db_dir, str(out), True, False))
    return out / rel


def _read_header(db_dir: str, rel: str, out: Path) -> wfdb.Record | wfdb.MultiRecord:
    return wfdb.rdheader(str(_fetch(db_dir, rel, out))[: -len(".hea")])


def _record_files(db_dir: str, record_dir: str, out: Path) -> tuple[int, list[str]]:
    """Fetch a record folder's headers (resumably); count them and list its data files."""
    names = wfdb_download.get_record_list(f"{db_dir}/{record_dir}")
    (out / record_dir).mkdir(parents=True, exist_ok=True)
    headers, data = 0, []
    for name in names:
        header = _read_header(db_dir, f"{record_dir}/{name}.hea", out)
        headers += 1
        singles = [header]
        if isinstance(header, wfdb.MultiRecord):
            singles = []
            for seg in header.seg_name:
                if seg != "~":
                    singles.append(_read_header(db_dir, f"{record_dir}/{seg}.hea", out))
                    headers += 1
        for single in singles:
            data.extend(
                f"{record_dir}/{f}" for f in dict.fromkeys(single.file_name or []) if f != "~"
            )
    return headers, data


def download_records(
    *,
    out: Path,
    database: str = "mimic3wdb",
    version: str = "1.0",
    groups: Sequence[str] = (),
    records: Sequence[str] = (),
    everything: bool = False,
    into_sample: bool = False,
    base_url: str = PHYSIONET_URL,
    workers: int = 2,
    on_record: Callable[[str], None] | None = None,
    on_plan: Callable[[int], None] | None = None,
    on_file: Callable[[str], None] | None = None,
) -> DownloadReport:
    """Download records of ``<database>/<version>`` into ``out/<group>/<record>/``.

    Args:
        out: The raw root to fill (the layout the pipeline reads).
        database: PhysioNet slug: ``mimic3wdb`` or ``mimic3wdb-matched``.
        version: Database version folder.
        groups: Whole groups to fetch (``30``; ``p00`` for the matched subset).
        records: Single records (``30/3000003``).
        everything: Fetch the whole database; required when neither
            ``groups`` nor ``records`` is given (mimic3wdb is ~6.7 TB).
        into_sample: Allow ``out`` to be the synthetic sample tree.
        base_url: File index URL (PhysioNet's, or a mirror's).
        workers: Files fetched at once (wfdb keeps at most 2 connections open).
        on_record: Called as each record folder's headers are in.
        on_plan: Called once with the number of data files to fetch.
        on_file: Called as each data file is in.

    Returns:
        The chosen records and file count.

    Raises:
        DownloadError: The database or a requested record cannot be found,
            nothing was chosen without ``everything``, or ``out`` is the sample.
    """
    started = time.perf_counter()
    db_dir = f"{database}/{version}"
    out = Path(out)
    check_selection(database, version, groups, records, everything=everything)
    check_destination(out, into_sample=into_sample)
    with physionet_index(base_url):
        try:
            listed = wfdb_download.get_record_list(db_dir)
        except (ValueError, OSError) as exc:
            raise DownloadError(
                f"download: cannot read {base_url.rstrip('/')}/{db_dir}/RECORDS ({exc}) — "
                "check --database/--version and --base-url"
            ) from None
        chosen = select_record_dirs(listed, groups, records)
        headers, data = 0, []
        for record_dir in chosen:
            try:
                n_headers, files = _record_files(db_dir, record_dir, out)
            except OSError as exc:  # wfdb's NetFile errors are OSErrors (404, 403...)
                raise DownloadError(
                    f"download: record {record_dir} of {db_dir} is incomplete on the server "
                    f"({exc}) — leave it out of --groups/--records or check --base-url"
                ) from None
            headers += n_headers
            data.extend(files)
            if on_record is not None:
                on_record(record_dir)
        if on_plan is not None:
            on_plan(len(data))
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            for rel in pool.map(lambda rel: (_fetch(db_dir, rel, out), rel)[1], data):
                if on_file is not None:
                    on_file(rel)
    return DownloadReport(
        records=tuple(chosen),
        files=len(data) + headers,
        seconds=time.perf_counter() - started,
    )
