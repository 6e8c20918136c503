"""A process for the fault suite to kill: prints "ready", waits for a line on stdin, then does one operation.

    python child.py OP URL [ARG…]

Operations, each printing one line per acknowledged write (flushed before the next begins), then
"done SECONDS": the CPU time the operation took, which the suite uses only to spread its kill points
(no wall clock is read; a kill point past the end of a run just lets it finish):
- `members FILE` / `events FILE`: one import, all-or-nothing.
- `choices MEMBER N`: N consent choices in a row (allow/deny alternating); prints "ack EVENT_ID CHOICE".
- `objections MEMBER N`: N objections filed and decided (upheld/rejected alternating); prints
  "ack CASE_ID OUTCOME".
- `build SRC OUT [ENGINE]`: a scrubbed build (local engine unless ENGINE) as of 2025-12-01 with a fixed key;
  prints "built BUILD_ID".
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path


def main() -> None:
    op, url, *args = sys.argv[1:]
    from consentry.store import NewEvent, open_store
    from consentry.vocab import CaseStatus, Choice, Source

    store = open_store(url)
    if op == "build":
        from consentry.pipeline import build
    print("ready", flush=True)
    sys.stdin.readline()
    started = time.process_time()
    if op == "members":
        store.import_members(Path(args[0]))
    elif op == "events":
        store.import_events(Path(args[0]))
    elif op == "choices":
        member, n = args[0], int(args[1])
        for i in range(n):
            choice = Choice.ALLOW if i % 2 else Choice.DENY
            e = store.record(NewEvent(member, "genai_training", choice, None, Source.SETTINGS))
            print(f"ack {e.event_id} {choice.value}", flush=True)
    elif op == "objections":
        member, n = args[0], int(args[1])
        for i in range(n):
            case = store.file_objection(member, ["personalization"], datetime.now(UTC))
            outcome = CaseStatus.UPHELD if i % 2 == 0 else CaseStatus.REJECTED
            store.decide_objection(case.case_id, outcome, None, grounds="grounds" if i % 2 else None)
            print(f"ack {case.case_id} {outcome.value}", flush=True)
    elif op == "build":
        result = build(
            store,
            "genai_training",
            [args[0]],
            args[1],
            as_of=datetime(2025, 12, 1, tzinfo=UTC),
            key=b"fault-suite-key",
            engine=args[2] if len(args) > 2 else "local",
        )
        print(f"built {result.build_id}", flush=True)
    else:
        raise SystemExit(f"unknown operation {op}")
    print(f"done {time.process_time() - started:.3f}", flush=True)


if __name__ == "__main__":
    main()
