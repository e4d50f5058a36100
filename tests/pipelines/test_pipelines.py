"""The Kedro way: registry, sliced pipeline with an in-memory catalog, session smoke test."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from tests.support.paths import PROJECT_ROOT
from waveshard.config import DEFAULT_GROUPS
from waveshard.contract import EXTRACTION_ERRORS, RECORD_FEATURES, SEGMENT_FEATURES, SIGNAL_STATS
from waveshard.datasets import WfdbGroupDataset
from waveshard.pipeline_registry import register_pipelines
from waveshard.pipelines import combine, profile
from waveshard.pipelines.profile.nodes import discover


def test_registry_has_one_namespace_per_configured_group(monkeypatch) -> None:
    monkeypatch.chdir(PROJECT_ROOT)
    pipelines = register_pipelines()
    namespaces = {n.namespace for n in pipelines["profile"].nodes}
    assert namespaces == {f"group_{g}" for g in DEFAULT_GROUPS}
    assert {n.namespace for n in pipelines["combine"].nodes} == {None}
    # profile (5 per group, 7 to combine) and clinical (3 per group, 4 to combine)
    assert len(pipelines["__default__"].nodes) == (5 + 3) * len(DEFAULT_GROUPS) + 7 + 4
    # parameters are shared, not namespaced
    params = {i for i in pipelines["profile"].inputs() if i.startswith("params:")}
    assert params == {
        "params:signal_names",
        "params:extraction.n_workers",
        "params:extraction.shards_per_worker",
        "params:extraction.progress_interval_s",
        "params:extraction.parallel_min_mb",
        "params:extraction.read_ahead_mb",
    }


class KeptDataset(MemoryDataset):
    """In-memory, but kept after its last reader so the test can look at it."""

    def _release(self) -> None:
        pass


def _memory_catalog(raw_root: Path, groups: list[str]) -> DataCatalog:
    outputs = [
        "segment_features",
        "record_features",
        "extraction_errors",
        "signal_stats",
        "run_summary",
        "group_30.segment_features",
    ]
    catalog = DataCatalog(
        {
            **{f"group_{g}.raw_records": WfdbGroupDataset(path=str(raw_root / g)) for g in groups},
            **{name: KeptDataset() for name in outputs},
        }
    )
    catalog["params:signal_names"] = {"ABP": ["ART"]}
    catalog["params:extraction.n_workers"] = 1
    catalog["params:extraction.shards_per_worker"] = 2
    catalog["params:extraction.progress_interval_s"] = 60
    catalog["params:extraction.parallel_min_mb"] = 0
    catalog["params:extraction.read_ahead_mb"] = 64
    return catalog


def test_sliced_pipeline_with_in_memory_catalog(physionet_tree: Path) -> None:
    groups = ["30", "32", "33"]  # 33 has no folder
    pipe = profile.create_pipeline(groups) + combine.create_pipeline(groups)
    catalog = _memory_catalog(physionet_tree, groups)
    SequentialRunner().run(
        pipe.only_nodes_with_namespaces(["group_30", "group_32", "group_33"])
        + combine.create_pipeline(groups),
        catalog,
    )
    segments = catalog.load("segment_features")
    records = catalog.load("record_features")
    errors = catalog.load("extraction_errors")
    stats = catalog.load("signal_stats")
    for table, schema in (
        (segments, SEGMENT_FEATURES),
        (records, RECORD_FEATURES),
        (errors, EXTRACTION_ERRORS),
        (stats, SIGNAL_STATS),
    ):
        assert table.dtypes.astype(str).to_dict() == {
            c: ("string" if d == "string" else d) for c, d in schema.dtypes.items()
        }
    assert set(segments["group"]) == {"30", "32"}
    assert (errors["error_type"] == "MissingSegment").sum() == 30
    summary = catalog.load("run_summary")
    assert summary["missing_groups"] == ["33"]
    assert summary["totals"]["segments_ok"] == segments["segment"].nunique()


def test_sliced_pipeline_from_plan_shards(physionet_tree: Path) -> None:
    """Run one group from its shard plan on, given its discovery."""
    folder = WfdbGroupDataset(path=str(physionet_tree / "30")).load()
    found, index = discover(folder)
    pipe = profile.create_pipeline(["30"]).from_nodes("group_30.plan_shards")
    catalog = _memory_catalog(physionet_tree, ["30"])
    catalog["group_30.discovery"] = found
    catalog["group_30.segment_index"] = index
    SequentialRunner().run(pipe, catalog)
    segments = catalog.load("group_30.segment_features")
    assert segments["segment"].tolist() == ["3000003_0003", "3000003_0003"]
    assert segments["signal"].tolist() == ["II", "V"]


def _every_segment_header(root: Path) -> set[tuple[str, str]]:
    """(group, stem) of each header that is neither a master nor a layout."""
    found = set()
    for path in root.rglob("*.hea"):
        first = path.read_text().splitlines()[0].split()[0]
        if "/" in first or path.stem.endswith("_layout"):
            continue
        found.add((path.relative_to(root).parts[0], path.stem))
    return found


@pytest.fixture(scope="module")
def session_run(physionet_tree: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("out")
    bootstrap_project(PROJECT_ROOT)
    with KedroSession.create(
        project_path=PROJECT_ROOT,
        runtime_params={"raw_root": str(physionet_tree), "output_root": str(out)},
    ) as session:
        session.run()
    return out


def test_session_writes_every_output_under_output_root(session_run: Path) -> None:
    for rel in [
        "04_feature/segment_features.parquet",
        "04_feature/record_features.parquet",
        "08_reporting/signal_stats.csv",
        "08_reporting/extraction_errors.csv",
        "08_reporting/run_summary.json",
    ]:
        assert (session_run / rel).is_file(), rel
    for group in DEFAULT_GROUPS:  # missing group folders still get (empty) outputs
        assert (
            session_run / "02_intermediate/groups" / group / "segment_features.parquet"
        ).is_file()


def test_session_loses_nothing(session_run: Path, physionet_tree: Path) -> None:
    segments = pd.read_parquet(session_run / "04_feature/segment_features.parquet")
    errors = pd.read_csv(session_run / "08_reporting/extraction_errors.csv", dtype=str)
    errors = errors[errors["severity"] == "error"]  # warnings are about extracted segments
    seen = set(zip(segments["group"], segments["segment"], strict=True))
    failed = set(zip(errors["group"], errors["segment"], strict=True))
    assert _every_segment_header(physionet_tree) <= seen | failed
    assert not seen & failed
    # every channel of every extracted segment is there
    per_segment = segments.groupby(["group", "segment"])["channel"].count()
    assert per_segment.loc[("39", "s00001-2896-10-10-00-31n")] == 10
    assert per_segment.loc[("32", "3234460_0018")] == 3


def test_signal_stats_count_hours_of_signal_from_the_headers(
    session_run: Path, physionet_tree: Path
) -> None:
    """total_hours of each signal equals its segments' length / rate, read by wfdb."""
    import wfdb

    segments = pd.read_parquet(session_run / "04_feature/segment_features.parquet")
    stats = pd.read_csv(session_run / "08_reporting/signal_stats.csv")
    headers = {p.stem: p for p in physionet_tree.rglob("*.hea")}
    seconds: dict[tuple[str, str], float] = {}
    for row in segments.itertuples(index=False):
        header = wfdb.rdheader(str(headers[row.segment].with_suffix("")))
        spf = (header.samps_per_frame or [1] * header.n_sig)[row.channel]
        key = (row.kind, row.signal)
        seconds[key] = seconds.get(key, 0.0) + header.sig_len / (header.fs * spf)
    got = {(r.kind, r.signal): r.total_hours for r in stats.itertuples(index=False)}
    assert got.keys() == seconds.keys()
    for key, value in seconds.items():
        assert got[key] == pytest.approx(value / 3600, rel=1e-9), key
    # the longest signal is ECG lead II: ~5 hours of s00001
    assert stats.iloc[0]["total_hours"] > 4
