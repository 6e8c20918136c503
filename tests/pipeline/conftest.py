"""Fixtures for build tests (helpers and data live in `lake.py`)."""

from pipeline.lake import platform

__all__ = ["platform"]
