"""Run `consentry consent set` on one member in N processes, W at a time, each wave released at once.

    python setters.py MEMBER N W OUTDIR

The `consentry` entry point is imported once, here; each process is then forked
from this one (starting 200 interpreters would cost ~0.7 CPU-seconds each) and
runs the real command line, `consentry consent set --member MEMBER --purpose
genai_training --choice allow|deny --actor setter-I`, with its own store
connection (CONSENTRY_DB). The processes of a wave wait on a pipe until all of
them are forked, then write at the same moment. Process I's stdout and stderr go
to OUTDIR/I.out and OUTDIR/I.err; the exit codes are printed as JSON at the end.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import traceback


def choice(i: int) -> str:
    """Irregular, so that no ordering by chance gives the right last answer."""
    return "deny" if (i * 7919) % 5 < 2 else "allow"


def _child(i: int, member: str, gate: int, outdir: str) -> None:
    from consentry.cli import main

    os.read(gate, 1)  # EOF once every process of the wave holds its place
    for fd, name in ((1, f"{i}.out"), (2, f"{i}.err")):
        target = os.open(os.path.join(outdir, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(target, fd)
        os.close(target)
    sys.argv = ["consentry", "consent", "set", "--member", member, "--purpose", "genai_training"]
    sys.argv += ["--choice", choice(i), "--actor", f"setter-{i}"]
    code = 0
    try:
        main()
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    except BaseException:
        traceback.print_exc()
        code = 99
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main() -> None:
    member, n, wave, outdir = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    for module in ("consentry.cli", "consentry.store"):  # the entry point and the store, once, before forking
        importlib.import_module(module)

    codes: dict[int, int] = {}
    for first in range(0, n, wave):
        gate, release = os.pipe()
        pids = {}
        for i in range(first, min(n, first + wave)):
            pid = os.fork()
            if pid == 0:
                os.close(release)
                _child(i, member, gate, outdir)
            pids[pid] = i
        os.close(gate)
        os.close(release)  # the wave writes now
        for pid, i in pids.items():
            _, status = os.waitpid(pid, 0)
            codes[i] = os.waitstatus_to_exitcode(status)
    print(json.dumps(codes), flush=True)


if __name__ == "__main__":
    main()
