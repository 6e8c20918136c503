"""Signed ledger checkpoints taken on a schedule while the service runs (`consentry serve --checkpoint-every`).

One thread in the serving process (not in each worker) opens its own store,
takes a checkpoint every interval and hands it on (directory and/or witness
command, as `consentry ledger checkpoint` does). A failure is reported on
stderr as one line and retried at the next interval: the service keeps
answering, and the missing checkpoint shows as a gap in the directory.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from consentry.errors import ConsentryError
from consentry.store.protocol import Store
from consentry.timeutil import utcnow

__all__ = ["CheckpointSchedule"]


class CheckpointSchedule:
    """Takes a checkpoint every `every_s` seconds on a daemon thread, from `start()` until `stop()`."""

    def __init__(
        self,
        open_store: Callable[[], Store],
        private_key: Any,
        every_s: float,
        directory: Path | None,
        witness: str | None,
        report: Callable[[str], None] | None = None,
    ) -> None:
        self._open_store = open_store
        self._key = private_key
        self._every = every_s
        self._directory = directory
        self._witness = witness
        self._report = report or (lambda line: print(line, file=sys.stderr, flush=True))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="consentry-checkpoints", daemon=True)
        self.taken = 0

    def start(self) -> None:
        """Start taking checkpoints (the first one after one interval)."""
        self._thread.start()

    def stop(self) -> None:
        """Stop, and wait for a checkpoint under way to finish."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        from consentry.store.anchors import checkpoint_to

        store = self._open_store()
        while not self._stop.wait(self._every):
            try:
                done = checkpoint_to(store, self._key, utcnow(), self._directory, self._witness)
            except ConsentryError as e:
                self._report(f"checkpoint failed (retried in {self._every:g} s): {e}")
                continue
            self.taken += 1
            self._report(f"checkpoint: {done['events']} events, head {str(done['head_hash'])[:12]}…")
