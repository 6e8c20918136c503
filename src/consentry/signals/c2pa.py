"""The CAWG training-and-data-mining assertion of a C2PA manifest, as a training state.

A C2PA manifest store (as ``c2pa-python``'s ``Reader.json()`` gives it, or read
here from a media file with ``c2pa.Reader``) may hold, in any of its
manifests, an assertion labelled ``cawg.training-mining`` (CAWG Training and
Data Mining Assertion 1.1; ``c2pa.training-mining`` in C2PA 1.x) whose
``entries`` map a use to ``allowed``, ``notAllowed`` or ``constrained``. For
training, the entries ``ai_generative_training``, ``ai_training`` and
``data_mining`` count (``cawg.`` or ``c2pa.`` prefix); ``constrained`` counts
as not allowed, as the specification says absent further information; the
most restrictive entry of every manifest wins. A use other than those three
words, an entry map that is not a map, or a manifest store whose validation
state is ``Invalid`` (a tampered or broken manifest) is unreadable. A media
file without a manifest says nothing; one that cannot be read is unreadable.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from consentry.rules.reservations import ABSENT, ALLOWS, RESERVES, UNREADABLE
from consentry.signals.parse import combine

__all__ = ["TRAINING_ENTRIES", "cawg_state", "manifest_store_of_file"]

_LABELS = ("cawg.training-mining", "c2pa.training-mining")
#: The entries that cover training (without their `cawg.` / `c2pa.` prefix).
TRAINING_ENTRIES = ("ai_generative_training", "ai_training", "data_mining")
_USES = {"allowed": ALLOWS, "notAllowed": RESERVES, "constrained": RESERVES}


def _assertions(store: Mapping[str, Any]) -> Iterator[Any]:
    manifests = store.get("manifests")
    if not isinstance(manifests, Mapping):
        return
    for manifest in manifests.values():
        assertions = manifest.get("assertions") if isinstance(manifest, Mapping) else None
        if isinstance(assertions, list):
            yield from assertions


def _is_training_mining(label: object) -> bool:
    return isinstance(label, str) and any(label == b or label.startswith(b + ".v") for b in _LABELS)


def cawg_state(store: object) -> str:
    """The training state of a manifest store (parsed JSON): see the module docstring."""
    if not isinstance(store, Mapping) or not isinstance(store.get("manifests", {}), Mapping):
        return UNREADABLE
    if str(store.get("validation_state", "")).lower() == "invalid":
        return UNREADABLE
    states: list[str] = []
    for assertion in _assertions(store):
        if not isinstance(assertion, Mapping) or not _is_training_mining(assertion.get("label")):
            continue
        data = assertion.get("data")
        entries = data.get("entries") if isinstance(data, Mapping) else None
        if not isinstance(entries, Mapping):
            return UNREADABLE
        for key, entry in entries.items():
            prefix, _, name = str(key).partition(".")
            if prefix not in ("cawg", "c2pa") or name not in TRAINING_ENTRIES:
                continue  # inference, or a claim generator's own entry
            use = entry.get("use") if isinstance(entry, Mapping) else None
            states.append(_USES.get(use, UNREADABLE) if isinstance(use, str) else UNREADABLE)
    return combine(states) if states else ABSENT


def manifest_store_of_file(path: Path) -> dict[str, Any] | None:
    """The C2PA manifest store of a media file with its validation state (None: the file has no manifest).

    Raises OSError when the file cannot be read, ValueError when its manifest cannot.
    """
    import c2pa

    if not path.is_file():
        raise OSError(f"no such media file: {path}")
    try:
        reader = c2pa.Reader(str(path))
    except c2pa.C2paError as e:
        if "ManifestNotFound" in type(e).__name__ or "not found" in str(e).lower():
            return None
        raise ValueError(f"its C2PA manifest cannot be read ({type(e).__name__})") from None
    try:
        store: dict[str, Any] = json.loads(reader.json())
        store["validation_state"] = reader.get_validation_state()
    finally:
        reader.close()
    return store
