"""Kedro runners that run each namespace as its own (SageMaker Processing) job."""

from waveshard.runners.partial import ProcessingJobsFailed
from waveshard.runners.runner import ProcessingJobRunner

__all__ = ["ProcessingJobRunner", "ProcessingJobsFailed"]
