"""Refresh the screenshots in docs/screenshots/ (README and docs/service.md show them).

Runs the browser tests, which drive Debian's Chromium through Playwright against
a live service and save a screenshot of each page they check; with
CONSENTRY_SCREENSHOTS=1 those land in docs/screenshots/ instead of a temporary
directory. `make screenshots` installs what this needs first.

    python scripts/screenshots.py
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    """Run the browser tests with screenshots going to docs/screenshots/; their exit status."""
    env = {**os.environ, "CONSENTRY_SCREENSHOTS": "1"}
    command = [
        sys.executable,
        "-m",
        "pytest",
        "tests/service/test_browser.py",
        "-m",
        "browser",
        "-q",
        "-p",
        "no:cacheprovider",
    ]
    done = subprocess.run(command, cwd=ROOT, env=env, check=False)
    if done.returncode == 0:
        shots = sorted(p.name for p in (ROOT / "docs" / "screenshots").glob("*.png"))
        print(f"{len(shots)} screenshots in docs/screenshots/: {', '.join(shots)}")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
