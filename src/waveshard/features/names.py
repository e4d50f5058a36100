"""Normalization of signal names (``ART`` → ``ABP``, case and spacing variants)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

_SPACES = re.compile(r"\s+")


def _key(name: str) -> str:
    return _SPACES.sub(" ", name.strip()).upper()


class SignalNameMap:
    """Maps raw signal names to canonical ones.

    Matching ignores case and repeated or surrounding white space. A canonical
    name maps to itself; a name the mapping does not know is kept as written,
    with its white space tidied.

    Args:
        aliases: Canonical name → list of raw spellings, as in
            ``conf/base/parameters.yml`` (``signal_names``).

    Raises:
        ValueError: If one spelling is claimed by two canonical names.
    """

    def __init__(self, aliases: Mapping[str, Iterable[str]] | None = None) -> None:
        self._canonical: dict[str, str] = {}
        for canonical, spellings in (aliases or {}).items():
            for spelling in (canonical, *(spellings or ())):
                key = _key(str(spelling))
                claimed = self._canonical.setdefault(key, canonical)
                if claimed != canonical:
                    raise ValueError(
                        f"signal_names: {spelling!r} is listed under both {claimed!r} and "
                        f"{canonical!r}; keep it under one of them"
                    )

    def __call__(self, raw: str) -> str:
        return self._canonical.get(_key(raw), _SPACES.sub(" ", raw.strip()))
