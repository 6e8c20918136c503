"""Fixtures for build tests (helpers and data live in `lake.py`)."""

from pipeline.lake import any_platform, platform

__all__ = ["any_platform", "platform"]
