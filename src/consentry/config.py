"""Settings, built from an injectable environment mapping (never read globally)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from consentry.errors import ConfigError

__all__ = ["DEFAULT_DB_DIR", "Settings"]

DEFAULT_DB_DIR = Path(".consentry")


@dataclass(frozen=True)
class Settings:
    """Runtime configuration.

    `db_url` is a SQLAlchemy URL (default: a SQLite file under ./.consentry/);
    `policy_path` the policy file used where a command needs one;
    `pseudonym_key` the secret for keyed member pseudonyms in build outputs;
    `lineage` where builds send OpenLineage events (none, console, file:PATH or a URL),
    `lineage_namespace` their job namespace, `lineage_api_key` the HTTP endpoint's API key.
    """

    db_url: str
    policy_path: Path | None = None
    pseudonym_key: bytes | None = None
    lineage: str | None = None
    lineage_namespace: str | None = None
    lineage_api_key: str | None = field(default=None, repr=False)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read CONSENTRY_DB, CONSENTRY_POLICY, CONSENTRY_PSEUDONYM_KEY and CONSENTRY_LINEAGE(_NAMESPACE, _API_KEY)."""
        env = os.environ if environ is None else environ
        db_url = env.get("CONSENTRY_DB") or f"sqlite:///{DEFAULT_DB_DIR / 'consentry.db'}"
        if "://" not in db_url:
            raise ConfigError(
                f"CONSENTRY_DB: {db_url!r} is not a database URL; "
                "use e.g. sqlite:///path/to/file.db or postgresql+psycopg://user@host/db"
            )
        policy = env.get("CONSENTRY_POLICY")
        key = env.get("CONSENTRY_PSEUDONYM_KEY")
        return cls(
            db_url=db_url,
            policy_path=Path(policy) if policy else None,
            pseudonym_key=key.encode() if key else None,
            lineage=env.get("CONSENTRY_LINEAGE") or None,
            lineage_namespace=env.get("CONSENTRY_LINEAGE_NAMESPACE") or None,
            lineage_api_key=env.get("CONSENTRY_LINEAGE_API_KEY") or None,
        )
