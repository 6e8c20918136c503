"""Auditing trained models: canaries planted in builds, and measuring what a model memorised.

`consentry.audit.canaries` holds the canary format, their generation from a
secret seed, the commitment a build's manifest carries, and the exposure
arithmetic (pure functions over log-likelihoods).
"""

from __future__ import annotations

__all__: list[str] = []
