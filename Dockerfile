# Image for waveshard's SageMaker Processing jobs: Python + the locked dependencies
# only. The project's own code and conf are NOT baked in: ProcessingJobRunner ships
# them per run (wheel + conf archive input), so a code change needs no rebuild.
# Rebuild when pyproject.toml / uv.lock change. The test suite does not build it.
#
#   docker build -t waveshard-processing .
#   see docs/sagemaker.md for the ECR push commands.
FROM python:3.11-slim

# uv from PyPI, the same version CI uses.
RUN pip install --no-cache-dir "uv==0.13.9"

ENV UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH

WORKDIR /opt/waveshard
COPY pyproject.toml uv.lock ./
# Exactly the locked runtime dependencies; not the project itself, no dev tools.
RUN uv sync --frozen --no-dev --no-install-project \
    && python -c "import kedro, kedro_datasets, wfdb, joblib, pandas, pyarrow, s3fs"

# SageMaker overrides the entrypoint with the job's ContainerEntrypoint
# (python3 -m waveshard.runners.entrypoint, importable from the shipped wheel).
ENTRYPOINT ["python3"]
