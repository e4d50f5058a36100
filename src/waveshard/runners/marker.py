"""Fingerprints and completion markers: resume, never redo.

A job's fingerprint hashes everything that decides its outputs: the shipped
code and configuration, the image, the nodes, the input locations (and a
partition's record list) and the runtime parameters. The container writes the
fingerprint into a completion marker under the output prefix as its very last
output; the driver skips a job whose marker carries the fingerprint it would submit.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from waveshard.runners import storage

MARKER_VERSION = 1


def fingerprint(
    *,
    artefacts_digest: str,
    image_uri: str | None,
    namespace: str,
    nodes: list[str],
    inputs: dict[str, str],
    params: dict[str, Any],
    environment: dict[str, str],
    entries: list[str] | None = None,
    isolation: str = "none",
) -> str:
    """Hex SHA-256 over every input of a job that can change its outputs.

    Args:
        entries: The record list of a job that reads one partition of its input.
        isolation: Where a local job ran (``image``: inside the job image); a job run
            one way does not stand in for the other, whose point is to prove the image.
    """
    payload = {
        "v": MARKER_VERSION,
        "entries": entries,
        "isolation": isolation,
        "code_and_conf": artefacts_digest,
        "image": image_uri or "",
        "namespace": namespace,
        "nodes": sorted(nodes),
        "inputs": inputs,
        "params": params,
        "environment": environment,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def read_marker(output_uri: str, marker_name: str) -> dict[str, Any] | None:
    """The completion marker under ``output_uri``, or ``None``."""
    text = storage.read_text(storage.join(output_uri, marker_name))
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


def is_complete(marker: dict[str, Any] | None, expected: str) -> bool:
    """True if ``marker`` was written by a job with fingerprint ``expected``."""
    return bool(marker) and marker.get("fingerprint") == expected
