"""What a build reports while it runs: the stage, and rows done out of a total."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["BuildProgress", "BuildStage"]


class BuildStage(StrEnum):
    """The stages a build reports progress for."""

    READ = "read"
    DECIDE = "decide"
    WRITE = "write"
    COMMIT = "commit"


@dataclass(frozen=True)
class BuildProgress:
    """A progress report: the stage, and rows done out of a total (0 when unknown)."""

    stage: BuildStage
    done: int = 0
    total: int = 0
