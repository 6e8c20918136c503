"""Consentry: consent-aware training data, disclosed in advance, scrubbed, and provable."""

__version__ = "0.1.0"
