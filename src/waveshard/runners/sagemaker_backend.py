"""Jobs on Amazon SageMaker, through the SageMaker Python SDK v3 core (sagemaker-core).

Requests are turned into sagemaker-core's pydantic shapes, which validates them
before anything is sent. Only ``sagemaker.core.resources`` is used: it carries
no telemetry emitter (that lives in ``sagemaker.core.processing``, never
imported here). The region and role ARN are always explicit, so the SDK never
asks STS who we are.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from waveshard.runners.backends import JobState


class SageMakerBackend:
    """Processing jobs on SageMaker.

    Args:
        region: AWS region of the jobs.
        boto_session: boto3 session to use (tests register request hooks on it).
    """

    name = "sagemaker"

    def __init__(self, *, region: str | None, boto_session: Any | None = None) -> None:
        import boto3

        self._session = boto_session or boto3.Session(region_name=region)
        self.region = region or self._session.region_name
        if not self.region:
            raise ValueError(
                "No AWS region for SageMaker: set region in conf/aws/processing.yml, "
                "--runner-params region=eu-west-1 or AWS_DEFAULT_REGION."
            )

    @staticmethod
    def validate(request: dict[str, Any]) -> dict[str, Any]:
        """sagemaker-core keyword arguments for ``request``, validated by its shapes.

        Raises:
            pydantic.ValidationError: The request does not fit the API's shapes.
        """
        from sagemaker.core import shapes
        from sagemaker.core.utils.code_injection.codec import transform

        kwargs = transform(request, "CreateProcessingJobRequest")
        # Build every nested shape now, so a bad value fails before any request.
        typed = {
            "processing_resources": shapes.ProcessingResources(**kwargs["processing_resources"]),
            "app_specification": shapes.AppSpecification(**kwargs["app_specification"]),
            "processing_inputs": [shapes.ProcessingInput(**i) for i in kwargs["processing_inputs"]],
            "processing_output_config": shapes.ProcessingOutputConfig(
                **kwargs["processing_output_config"]
            ),
            "stopping_condition": shapes.ProcessingStoppingCondition(
                **kwargs["stopping_condition"]
            ),
            "tags": [shapes.Tag(**t) for t in kwargs.get("tags", [])],
        }
        if "network_config" in kwargs:
            typed["network_config"] = shapes.NetworkConfig(**kwargs["network_config"])
        return {**kwargs, **typed}

    def create(self, request: dict[str, Any]) -> None:
        from sagemaker.core.resources import ProcessingJob

        ProcessingJob.create(**self.validate(request), session=self._session, region=self.region)

    def describe(self, job_name: str) -> JobState | None:
        from botocore.exceptions import ClientError
        from sagemaker.core.resources import ProcessingJob

        try:
            job = ProcessingJob.get(
                processing_job_name=job_name, session=self._session, region=self.region
            )
        except ClientError as exc:
            error = exc.response.get("Error", {})
            if error.get("Code") in ("ValidationException", "ResourceNotFound") and (
                "Could not find" in error.get("Message", "")
                or "not found" in error.get("Message", "").lower()
            ):
                return None
            raise
        return JobState(
            status=str(job.processing_job_status),
            failure_reason=_value(job.failure_reason),
            exit_message=_value(job.exit_message),
            started=_value(job.processing_start_time),
            ended=_value(job.processing_end_time),
        )

    def stop(self, job_name: str) -> None:
        from sagemaker.core.resources import ProcessingJob

        ProcessingJob.get(
            processing_job_name=job_name, session=self._session, region=self.region
        ).stop()

    def log_link(self, job_name: str) -> str:
        # The console's own encoding: "/" inside the group name is "$252F", "?" "$3F".
        group = quote(quote("/aws/sagemaker/ProcessingJobs", safe=""), safe="").replace("%", "$")
        query = quote(f"?logStreamNameFilter={job_name}", safe="").replace("%", "$")
        return (
            f"https://{self.region}.console.aws.amazon.com/cloudwatch/home?region={self.region}"
            f"#logsV2:log-groups/log-group/{group}{query}"
        )


def _value(value: Any) -> Any:
    return None if type(value).__name__ == "Unassigned" else value
