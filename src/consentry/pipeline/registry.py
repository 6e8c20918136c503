"""The pipeline's side of the builds registry: listing builds, registering one beside its write, reconciling.

The rows themselves are the store's (`Store.builds`, `consentry.store.builds`).
A build is registered *pending* before its output is renamed into place and
*complete* after. A build killed between the rename and the second step leaves
a pending row whose OUT holds a manifest with the same digest: `reconcile`
completes it. Reconciling reads output files and writes rows, so it runs only
when asked (at the start of every build, and by `builds stale`); listing builds
reads the store alone and writes nothing.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa

from consentry.errors import NotFoundError
from consentry.pipeline.manifest import MANIFEST_NAME, members_digest
from consentry.pipeline.writer import recover_output
from consentry.store.builds import BuildRecord
from consentry.store.protocol import Store

__all__ = [
    "BuildRecord",
    "EarlyRegistration",
    "build_members",
    "builds_for_member",
    "get_build",
    "list_builds",
    "reconcile",
    "shards_for_member",
]


def list_builds(store: Store) -> list[BuildRecord]:
    """Every complete build, oldest first."""
    return store.builds.complete()


def get_build(store: Store, build_id: str) -> BuildRecord:
    """The complete build with this id (NotFoundError otherwise)."""
    record = store.builds.get(build_id)
    if record is None:
        raise NotFoundError(f"no build {build_id!r}; `consentry builds list` shows the registered builds")
    return record


def builds_for_member(store: Store, member_id: str) -> list[BuildRecord]:
    """The complete builds that include records of `member_id`, oldest first."""
    return store.builds.for_member(member_id)


def shards_for_member(store: Store, member_id: str) -> list[tuple[BuildRecord, int]]:
    """The complete builds that include records of `member_id`, each with its shard (0 if unsharded), oldest first."""
    return store.builds.shards_for_member(member_id)


def build_members(store: Store, build_id: str) -> pa.Table:
    """The members of a build: member_id, records (sorted by member_id; empty for an unknown build)."""
    return store.builds.members(build_id)


def reconcile(store: Store) -> list[str]:
    """Complete pending builds whose OUT is in place with the registered manifest; their ids.

    A replacement of OUT cut short between its two renames is finished first
    (`recover_output`), unless a build is writing that OUT now.
    """
    completed = []
    for record in store.builds.pending():
        if record.manifest_sha256 is None:  # registered early, killed before its manifest
            continue
        recover_output(Path(record.out_dir))
        try:
            actual = hashlib.sha256((Path(record.out_dir) / MANIFEST_NAME).read_bytes()).hexdigest()
        except OSError:
            continue
        if actual == record.manifest_sha256:
            store.builds.mark_complete(record.build_id)
            completed.append(record.build_id)
    return completed


class EarlyRegistration:
    """Register a build as pending, and digest its member set, on threads beside the write.

    For builds whose member set is final once decided (nothing downstream can
    drop rows). The pending row has no manifest digest, so it is never shown
    nor completed by `reconcile`; `finish` fills it in, `abandon` removes it.
    """

    def __init__(self, store: Store, record: BuildRecord, members: pa.Table):
        self.store = store
        self.build_id = record.build_id
        pool = ThreadPoolExecutor(2, thread_name_prefix="consentry-register")
        member_set = members.select(["member_id", "records"])
        self._registered = pool.submit(store.builds.register_pending, record, member_set)
        self._digest = pool.submit(members_digest, members.column("member_key"))
        pool.shutdown(wait=False)

    def members_digest(self) -> str:
        """The digest of the member set (waits for it)."""
        return self._digest.result()

    def finish(self, record: BuildRecord) -> None:
        """Wait for the registration, then set the build's final figures (still pending)."""
        self._registered.result()
        self.store.builds.update_pending(record)

    def abandon(self) -> None:
        """Wait for the registration to end, then remove whatever it registered."""
        try:
            self._registered.result()
        except Exception:  # nothing registered, or a partial insert rolled back
            return
        self.store.builds.discard_pending(self.build_id)
