"""Does a raw root name any patient group? One line naming the setting if it does not.

A ``raw_root`` that names nothing (a folder that does not exist, a path without
``s3://`` under ``--env aws``, a tree of other group folders such as a matched
subset's ``p00/``) would otherwise run every group as "missing" and replace good
outputs with empty ones. This check asks the storage once per configured group
whether its folder holds anything, and stops the run before any output is written.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from waveshard import uris
from waveshard.datatools.s3check import StorageSettingError, fail_fast, s3_filesystem

#: Entries of the raw root named in the message when no group is found there.
_SHOWN = 5


#: A name in a folder, and whether it is a folder itself.
Entry = tuple[str, bool]


def _local_entries(path: str, limit: int) -> list[Entry] | None:
    """Up to ``limit`` entries of a local folder (sorted), or None if it is no folder."""
    try:
        with os.scandir(path) as entries:
            found = []
            for entry in entries:
                found.append((entry.name, entry.is_dir()))
                if len(found) >= limit:
                    break
    except OSError:
        return None
    return sorted(found)


def _s3_entries(probe: Any, url: str, limit: int) -> list[Entry]:
    """Up to ``limit`` entries directly under an S3 prefix (folders and objects)."""
    bucket, prefix = uris.split(url)
    listing = probe.call_s3(
        "list_objects_v2",
        Bucket=bucket,
        Prefix=f"{prefix}/" if prefix else "",
        Delimiter="/",
        MaxKeys=limit,
    )
    start = len(prefix) + 1 if prefix else 0
    folders = [(p["Prefix"][start:].rstrip("/"), True) for p in listing.get("CommonPrefixes", [])]
    files = [(o["Key"][start:], False) for o in listing.get("Contents", [])]
    return sorted(folders + files)[:limit]


def _setting_hint(setting: str, globals_file: str, from_params: bool) -> str:
    if from_params:
        return f"--params {setting}=..."
    return f"{setting} in {globals_file} or --params {setting}=..."


def check_groups_present(
    *,
    raw_root: str,
    root_path: str,
    groups: Sequence[str],
    group_urls: Sequence[str],
    storage_options: dict[str, Any] | None,
    globals_file: str,
    from_params: bool,
    remote_env: bool,
) -> None:
    """Fail unless at least one configured group folder under ``raw_root`` holds anything.

    Args:
        raw_root: The raw root as set, normalized (local path or ``s3://`` URL).
        root_path: Where it is: ``raw_root``, or a relative local path made absolute.
        groups: The run's group ids.
        group_urls: The folder of each group (``raw_root/<group>``).
        storage_options: Options of the raw datasets' filesystem (S3 credentials).
        globals_file: Where ``raw_root`` is set for this environment, for the message.
        from_params: Whether ``raw_root`` came from ``--params``.
        remote_env: Whether the environment is meant for S3 (a local path there is
            worth pointing out).

    Raises:
        StorageSettingError: No group folder holds anything; the one-line message
            names ``raw_root`` and ``groups`` and what the root holds instead.
    """
    shown = ", ".join(groups[:_SHOWN]) + (", …" if len(groups) > _SHOWN else "")
    fix_root = _setting_hint("raw_root", globals_file, from_params)
    if uris.is_s3(raw_root):
        probe = fail_fast(s3_filesystem(raw_root, storage_options))
        for url in group_urls:
            if _s3_entries(probe, url, 1):
                return
        present = _s3_entries(probe, raw_root, _SHOWN + 1)
    else:
        for url in group_urls:
            if _local_entries(url, 1):
                return
        present = _local_entries(root_path, _SHOWN + 1)
        if present is None:
            local = " is read as a local path (it has no s3:// scheme) and" if remote_env else ""
            raise StorageSettingError(
                f"raw_root {raw_root}{local} does not exist — set {fix_root} to the folder "
                "that holds the patient-group folders"
            )
    names = [name + ("/" if folder else "") for name, folder in present[:_SHOWN]]
    holds = (
        f"it holds {', '.join(names)}{', …' if len(present) > _SHOWN else ''}"
        if present
        else "it is empty"
    )
    folders = [name for name, folder in present if folder][:2]
    suggestion = f' (e.g. --params "groups={" ".join(folders)}")' if folders else ""
    raise StorageSettingError(
        f"raw_root {raw_root} holds none of the configured groups ({shown}): no "
        f"<raw_root>/<group> folder has any file, {holds} — set {fix_root} to the folder "
        f"that holds the group folders, or groups to the folders it holds{suggestion}"
    )
