# Image for waveshard's SageMaker Processing jobs: Debian's Python + the locked
# dependencies only. The project's own code and conf are NOT baked in: ProcessingJobRunner
# ships them per run (wheel + conf archive input), so a code change needs no rebuild.
# Rebuild when pyproject.toml / uv.lock change.
#
#   docker build -t waveshard-processing .
#   see docs/sagemaker.md for the ECR push commands.
#
# This file is also the build script of the image's root file system without Docker
# (uv run python -m waveshard.runners.rootfs build; docs/sagemaker.md): that build
# debootstraps the same Debian release and runs these very instructions in it. It
# understands FROM debian:<release>-slim, ENV, WORKDIR, COPY, RUN and an exec-form
# ENTRYPOINT, and stops on anything else.
FROM debian:bookworm-slim

# UV_PYTHON*: the venv uses Debian's interpreter, never a downloaded one.
ENV UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON=/usr/bin/python3 \
    UV_PYTHON_DOWNLOADS=never \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH

# Debian's Python 3.11 (bookworm); python3-venv brings the pip that installs uv.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        python3 python3-venv ca-certificates \
    && rm -rf /var/lib/apt/lists/*

# uv from PyPI, the same version CI uses, in a venv of its own (Debian's Python is
# externally managed: no pip install into it).
RUN python3 -m venv /opt/uv \
    && /opt/uv/bin/pip install --no-cache-dir "uv==0.13.9" \
    && ln -s /opt/uv/bin/uv /usr/local/bin/uv

WORKDIR /opt/waveshard
COPY pyproject.toml uv.lock ./
# Exactly the locked runtime dependencies; not the project itself, no dev tools.
RUN uv sync --frozen --no-dev --no-install-project --no-cache \
    && python -c "import kedro, kedro_datasets, wfdb, joblib, pandas, pyarrow, s3fs"

# SageMaker overrides the entrypoint with the job's ContainerEntrypoint
# (python3 -m waveshard.runners.entrypoint, importable from the shipped wheel).
ENTRYPOINT ["python3"]
