"""The demo: a synthetic platform and the story of docs/concepts.md replayed on it."""

from consentry.demo.story import DemoResult, run_demo
from consentry.demo.synth import SyntheticPlatform, records_table

__all__ = ["DemoResult", "SyntheticPlatform", "records_table", "run_demo"]
