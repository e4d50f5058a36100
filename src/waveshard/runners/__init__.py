"""Kedro runners that run each namespace as its own (SageMaker Processing) job."""

from waveshard.runners.runner import ProcessingJobRunner, ProcessingJobsFailed

__all__ = ["ProcessingJobRunner", "ProcessingJobsFailed"]
