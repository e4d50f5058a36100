"""The clinical pipeline: registry, node functions, sliced runs, a KedroSession run."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from tests.support.paths import PROJECT_ROOT, SAMPLE_RAW
from waveshard.config import DEFAULT_GROUPS
from waveshard.contract import EXTRACTION_ERRORS, window_features_table
from waveshard.datasets import WfdbGroupDataset
from waveshard.pipeline_registry import register_pipelines
from waveshard.pipelines import clinical
from waveshard.pipelines.clinical.nodes import (
    combine_window_features,
    compute_windows,
    discover_records,
    plan_record_shards,
)

#: The defaults of conf/base/parameters_clinical.yml (read the way Kedro reads them).
PARAMS = {"window_s": 60, "hrv_window_s": 300, "hr_range_bpm": [30, 160]}
SIGNAL_NAMES = {"ABP": ["ART"], "PLETH": ["Pleth"]}


def _schema_dtypes() -> dict[str, str]:
    return dict(window_features_table().dtypes)


def test_registry_runs_clinical_next_to_profile(monkeypatch) -> None:
    monkeypatch.chdir(PROJECT_ROOT)
    pipelines = register_pipelines()
    per_group = {n.namespace for n in pipelines["clinical"].nodes} - {None}
    assert per_group == {f"group_{g}" for g in DEFAULT_GROUPS}  # the profile's namespaces
    default = {n.name for n in pipelines["__default__"].nodes}
    assert {n.name for n in pipelines["clinical"].nodes} <= default
    assert {n.name for n in pipelines["profile"].nodes} <= default
    assert "window_features" in pipelines["clinical"].all_outputs()
    assert not {n.name for n in pipelines["profile"].nodes} & {
        n.name for n in pipelines["clinical"].nodes
    }


def test_nodes_on_real_records(physionet_tree: Path) -> None:
    folder = WfdbGroupDataset(path=str(physionet_tree / "39")).load()
    found = discover_records(folder)
    assert sorted(p.record for p in found.records) == [
        "s00001-2896-10-09-01-56",
        "s00001-2896-10-10-00-31",
    ]
    assert {p.error_type for p in found.problems} == {"MissingDataFile"}
    plan = plan_record_shards(found, 2, 2, 0)
    assert sorted(i for shard in plan["shards"] for i in shard) == [0, 1]
    windows, errors, summary = compute_windows(folder, found, plan, PARAMS, SIGNAL_NAMES, 60)
    assert windows.dtypes.astype(str).to_dict() == _schema_dtypes()
    assert set(windows["record"]) == {"s00001-2896-10-09-01-56", "s00001-2896-10-10-00-31"}
    assert windows["window_start"].min() == pd.Timestamp("2896-10-09T01:56:25.894")
    assert list(errors.columns) == EXTRACTION_ERRORS.columns
    assert sorted(errors["segment"]) == ["3975656_0009", "3975656_0010", "3975656_0011"]
    assert summary["windows"] == len(windows) and summary["records_with_errors"] == 0
    # Two workers and one give the same table.
    one, _, _ = compute_windows(folder, found, {"workers": 1, "shards": [[0, 1]]}, PARAMS, {}, 60)
    pd.testing.assert_frame_equal(
        windows.sort_values(["record", "window_offset_s"]).reset_index(drop=True),
        one.sort_values(["record", "window_offset_s"]).reset_index(drop=True),
    )


def test_an_empty_or_missing_group_gives_typed_empty_tables(tmp_path: Path) -> None:
    folder = WfdbGroupDataset(path=str(tmp_path / "33")).load()
    found = discover_records(folder)
    windows, errors, summary = compute_windows(
        folder, found, plan_record_shards(found, 1, 1), PARAMS, {}, 60
    )
    assert windows.empty and errors.empty
    assert windows.dtypes.astype(str).to_dict() == _schema_dtypes()
    assert not summary["folder_exists"]
    combined = combine_window_features(PARAMS, windows, windows)
    assert combined.dtypes.astype(str).to_dict() == _schema_dtypes()


class KeptDataset(MemoryDataset):
    """In-memory, but kept after its last reader so the test can look at it."""

    def _release(self) -> None:
        pass


def _run_sliced(raw_root: Path, groups: list[str]) -> DataCatalog:
    pipe = clinical.create_pipeline(groups) + clinical.create_combine_pipeline(groups)
    catalog = DataCatalog(
        {
            **{f"group_{g}.raw_records": WfdbGroupDataset(path=str(raw_root / g)) for g in groups},
            **{
                n: KeptDataset() for n in ("window_features", "clinical_errors", "clinical_summary")
            },
        }
    )
    catalog["params:clinical"] = PARAMS
    catalog["params:signal_names"] = SIGNAL_NAMES
    catalog["params:extraction.n_workers"] = 1
    catalog["params:extraction.shards_per_worker"] = 2
    catalog["params:extraction.progress_interval_s"] = 60
    catalog["params:extraction.parallel_min_mb"] = 0
    SequentialRunner().run(pipe, catalog)
    return catalog


def test_sliced_pipeline_on_the_bundled_sample() -> None:
    groups = ["30", "39"]
    catalog = _run_sliced(SAMPLE_RAW, groups)
    windows = catalog.load("window_features")
    assert windows.dtypes.astype(str).to_dict() == _schema_dtypes()
    assert set(windows["group"]) == {"30", "39"}
    # The synthetic sample's ART and Pleth channels are found through signal_names.
    assert windows["abp_valid_fraction"].gt(0).any()
    assert windows["pleth_valid_fraction"].gt(0).any()
    assert catalog.load("clinical_summary")["totals"]["windows"] == len(windows)


def test_sliced_pipeline_on_real_records(physionet_tree: Path) -> None:
    catalog = _run_sliced(physionet_tree, ["30", "32", "33", "39"])
    windows = catalog.load("window_features")
    errors = catalog.load("clinical_errors")
    assert windows.groupby("record").size().to_dict() == {
        "3000003": 1,
        "p000878-2137-10-26-16-57": 1,
        "s25047-2704-05-04-10-44": 73,
        "s00001-2896-10-09-01-56": 1,
        "s00001-2896-10-10-00-31": 1936,
    }
    assert (errors["error_type"] == "MissingSegment").sum() == 30
    assert catalog.load("clinical_summary")["missing_groups"] == ["33"]


@pytest.fixture(scope="module")
def clinical_session(physionet_tree: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("clinical-out")
    bootstrap_project(PROJECT_ROOT)
    with KedroSession.create(
        project_path=PROJECT_ROOT,
        runtime_params={"raw_root": str(physionet_tree), "output_root": str(out)},
    ) as session:
        session.run(pipeline_names=["clinical"])
    return out


def test_session_runs_the_clinical_pipeline_alone(clinical_session: Path) -> None:
    windows = pd.read_parquet(clinical_session / "04_feature/window_features.parquet")
    assert windows.dtypes.astype(str).to_dict() == _schema_dtypes()
    assert str(windows["window_start"].dtype) == "datetime64[ms]"
    assert windows["window_start"].max() > pd.Timestamp("2896-10-11")
    assert (clinical_session / "08_reporting/clinical_errors.csv").is_file()
    assert (clinical_session / "08_reporting/clinical_summary.json").is_file()
    assert not (clinical_session / "04_feature/segment_features.parquet").exists()
    for group in DEFAULT_GROUPS:
        assert (
            clinical_session / "02_intermediate/groups" / group / "window_features.parquet"
        ).is_file()
