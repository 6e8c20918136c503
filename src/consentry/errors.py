"""The exceptions Consentry raises, all under one root.

    ConsentryError
     ├── ConfigError              bad or missing configuration (environment, settings)
     ├── InputError               a user-supplied file or value is wrong (names file, line, field)
     │    └── PolicyValidationError   the policy file is invalid (one or more PolicyIssue)
     ├── PolicyConflictError      a published policy version would be changed
     ├── NotFoundError            a member, case, build or version does not exist
     ├── StoreError               the store cannot be reached or answered unexpectedly
     │    └── LedgerIntegrityError    the hash chain does not verify
     ├── ObjectionError           an objection-case transition the workflow forbids
     ├── BuildError               a training-data build cannot run or complete
     ├── ModelError               a model registration or obligation change is refused
     ├── ScrubError               the PII scrubber is misconfigured or cannot run
     └── ScorerError              a model scorer cannot be loaded or gave unusable scores

Every message is meant for a person: it says what is wrong, where, and what to do,
and never carries personal data beyond ids.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "BuildError",
    "ConfigError",
    "ConsentryError",
    "InputError",
    "LedgerIntegrityError",
    "ModelError",
    "NotFoundError",
    "ObjectionError",
    "PolicyConflictError",
    "PolicyIssue",
    "PolicyValidationError",
    "ScorerError",
    "ScrubError",
    "StoreError",
]


class ConsentryError(Exception):
    """Root of every error Consentry raises on purpose."""


class ConfigError(ConsentryError):
    """Configuration is missing or invalid."""


class InputError(ConsentryError):
    """A user-supplied file or value is invalid.

    `where` is a location prefix such as ``members.jsonl:12`` and `field` the
    offending field, both optional; str() renders ``where: field: message``.
    """

    def __init__(self, message: str, *, where: str | None = None, field: str | None = None):
        self.message = message
        self.where = where
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = [p for p in (self.where, self.field) if p]
        return ": ".join([*parts, self.message])


@dataclass(frozen=True)
class PolicyIssue:
    """One problem found in a policy file: where it is and what to do about it."""

    file: str
    line: int | None
    field: str
    message: str
    severity: str = "error"  # "error" | "warning"

    def __str__(self) -> str:
        loc = f"{self.file}:{self.line}" if self.line is not None else self.file
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{loc}: {self.field}: {prefix}{self.message}"


class PolicyValidationError(InputError):
    """The policy file has one or more errors; `issues` lists them all."""

    def __init__(self, issues: list[PolicyIssue]):
        self.issues = issues
        first = issues[0]
        super().__init__(
            first.message,
            where=f"{first.file}:{first.line}" if first.line is not None else first.file,
            field=first.field,
        )

    def __str__(self) -> str:
        return "\n".join(str(i) for i in self.issues)


class PolicyConflictError(ConsentryError):
    """A version id that is already published would get different content."""


class NotFoundError(ConsentryError):
    """The thing asked for does not exist."""


class StoreError(ConsentryError):
    """The store cannot be reached or is not in the expected state."""


class LedgerIntegrityError(StoreError):
    """The consent ledger's hash chain does not verify."""


class ObjectionError(ConsentryError):
    """An objection-case transition the workflow does not allow."""


class BuildError(ConsentryError):
    """A training-data build cannot run or cannot complete."""


class ScrubError(ConsentryError):
    """The PII scrubber is misconfigured or cannot run."""


class ModelError(ConsentryError):
    """A model registration or an obligation change is refused (conflicting builds, nothing to waive, …)."""


class ScorerError(ConsentryError):
    """A model scorer cannot be loaded, failed, timed out, or returned scores that are not finite numbers."""
