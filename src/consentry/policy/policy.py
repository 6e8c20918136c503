"""The resolved policy: versions in effect over time, modes per country, the disclosure gate."""

from __future__ import annotations

import bisect
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from consentry.errors import NotFoundError, PolicyIssue
from consentry.policy.countries import expand, is_country
from consentry.policy.models import PolicyDocument, PurposeRule, PurposeText, VersionSpec
from consentry.vocab import Mode

__all__ = ["Policy", "PolicyVersion"]


@dataclass(frozen=True)
class PolicyVersion:
    """One immutable version: its rules with every region expanded to country codes."""

    policy: str
    spec: VersionSpec
    # purpose -> country -> mode, for the countries a region rule names
    region_modes: Mapping[str, Mapping[str, Mode]]
    canonical_json: str
    sha256: str

    @property
    def version(self) -> str:
        return self.spec.version

    @property
    def published_at(self) -> datetime:
        return self.spec.published_at.astimezone(UTC)

    @property
    def effective_at(self) -> datetime:
        return self.spec.effective_at.astimezone(UTC)

    @property
    def notice_days(self) -> int:
        return self.spec.notice_days

    @property
    def notice_ends_at(self) -> datetime:
        """published_at + notice_days: the earliest moment a purpose it brings in may run."""
        return self.published_at + timedelta(days=self.notice_days)

    @property
    def terms_url(self) -> str:
        return self.spec.terms_url

    @property
    def purposes(self) -> Mapping[str, PurposeRule]:
        return self.spec.purposes

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages this version has texts in besides its plain strings."""
        return tuple(self.spec.translations)

    def label(self, purpose: str, language: str | None = None) -> str:
        """The purpose's label in `language` when the version has it, else the plain one."""
        rule = self.spec.purposes[purpose]
        text = self._text(purpose, language)
        return (text.label if text is not None else None) or rule.label

    def description(self, purpose: str, language: str | None = None) -> str | None:
        """The purpose's description in `language` when the version has it, else the plain one."""
        rule = self.spec.purposes[purpose]
        text = self._text(purpose, language)
        return (text.description if text is not None else None) or rule.description

    def notice(self, language: str | None = None) -> str | None:
        """What the version's notice-period banner says, in `language` when the version has it."""
        texts = self.spec.translations.get(language or "")
        return (texts.notice if texts is not None else None) or self.spec.notice

    def _text(self, purpose: str, language: str | None) -> PurposeText | None:
        texts = self.spec.translations.get(language or "")
        return texts.purposes.get(purpose) if texts is not None else None

    def discloses(self, purpose: str) -> bool:
        """True if this version names the purpose."""
        return purpose in self.spec.purposes

    def purpose(self, purpose: str) -> PurposeRule | None:
        """The purpose's rule in this version, or None when not disclosed."""
        return self.spec.purposes.get(purpose)

    def mode_for(self, purpose: str, country: str | None) -> Mode | None:
        """The mode for a member in `country`; None if the purpose is not disclosed.

        A missing or unknown country gets the strictest mode the purpose has anywhere.
        """
        rule = self.spec.purposes.get(purpose)
        if rule is None:
            return None
        modes = self.region_modes[purpose]
        if country and country in modes:
            return modes[country]
        if country and is_country(country):
            return rule.mode
        return self.strictest_mode(purpose)

    def strictest_mode(self, purpose: str) -> Mode:
        """The strictest mode of the purpose over its default and every region rule."""
        rule = self.spec.purposes[purpose]
        return max([rule.mode, *self.region_modes[purpose].values()], key=lambda m: m.strictness)

    def countries_with_rules(self, purpose: str) -> Mapping[str, Mode]:
        """Countries a region rule of `purpose` names, with their mode."""
        return self.region_modes.get(purpose, {})


@dataclass(frozen=True)
class Policy:
    """A policy's whole history, ordered by `effective_at`."""

    name: str
    versions: tuple[PolicyVersion, ...]
    groups: Mapping[str, frozenset[str]]
    source: Path | None = None
    warnings: tuple[PolicyIssue, ...] = ()
    _starts: list[datetime] = field(default_factory=list, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._starts.extend(v.effective_at for v in self.versions)

    @classmethod
    def from_document(
        cls,
        doc: PolicyDocument,
        groups: Mapping[str, frozenset[str]],
        *,
        source: Path | None = None,
        warnings: tuple[PolicyIssue, ...] = (),
    ) -> Policy:
        """Build from a validated document and its resolved country groups."""
        versions = sorted(
            (_resolve_version(doc.policy, spec, groups) for spec in doc.versions),
            key=lambda v: v.effective_at,
        )
        return cls(doc.policy, tuple(versions), groups, source, warnings)

    @classmethod
    def from_canonical(cls, name: str, canonical_jsons: Iterable[str]) -> Policy:
        """Rebuild a policy from stored canonical versions (as `PolicyVersion.canonical_json`)."""
        specs = [VersionSpec.model_validate_json(text) for text in canonical_jsons]
        doc = PolicyDocument(policy=name, country_groups={}, versions=specs)
        return cls.from_document(doc, {})

    def version(self, version_id: str) -> PolicyVersion:
        """The version with this id; NotFoundError if there is none."""
        for v in self.versions:
            if v.version == version_id:
                return v
        known = ", ".join(v.version for v in self.versions)
        raise NotFoundError(f"policy {self.name!r} has no version {version_id!r} (has: {known})")

    def version_at(self, at: datetime) -> PolicyVersion | None:
        """The version in effect at `at`: the latest with effective_at <= at."""
        i = bisect.bisect_right(self._starts, _utc(at))
        return self.versions[i - 1] if i else None

    def purposes(self) -> list[str]:
        """Every purpose any version discloses, sorted."""
        return sorted({p for v in self.versions for p in v.purposes})

    def processing_starts(self, purpose: str, country: str | None, at: datetime) -> datetime | None:
        """When processing `purpose` for a member in `country` became allowed, as seen at `at`.

        None when the version in effect at `at` does not permit it (not disclosed,
        or excluded for the country). Otherwise V0.published_at + V0.notice_days,
        where V0 is the earliest version of the unbroken run, ending with the
        version in effect, that discloses and permits the purpose for `country`.
        """
        i = bisect.bisect_right(self._starts, _utc(at))
        if i == 0:
            return None
        first = None
        for v in reversed(self.versions[:i]):
            mode = v.mode_for(purpose, country)
            if mode is None or mode is Mode.EXCLUDED:
                break
            first = v
        return first.notice_ends_at if first is not None else None

    def gate_windows(self, purpose: str, country: str | None) -> list[tuple[datetime, datetime]]:
        """Intervals [start, end) in which `purpose` may run for `country` (end may be datetime.max)."""
        windows: list[tuple[datetime, datetime]] = []
        run_start: PolicyVersion | None = None
        for k, v in enumerate(self.versions):
            mode = v.mode_for(purpose, country)
            permitted = mode is not None and mode is not Mode.EXCLUDED
            end = self.versions[k + 1].effective_at if k + 1 < len(self.versions) else _MAX
            if permitted:
                run_start = run_start or v
                start = max(v.effective_at, run_start.notice_ends_at)
                if start < end:
                    windows.append((start, end))
            else:
                run_start = None
        return windows


_MAX = datetime.max.replace(tzinfo=UTC)


def _utc(t: datetime) -> datetime:
    if t.tzinfo is None:
        raise ValueError("naive datetime: give a time zone (e.g. 2025-01-01T00:00:00Z)")
    return t.astimezone(UTC)


def _resolve_version(policy: str, spec: VersionSpec, groups: Mapping[str, frozenset[str]]) -> PolicyVersion:
    region_modes: dict[str, dict[str, Mode]] = {}
    for name, rule in spec.purposes.items():
        modes: dict[str, Mode] = {}
        for region in rule.regions:
            for code in expand(region.countries, groups):
                modes[code] = region.mode
        region_modes[name] = modes
    if spec.receipts is not None:
        # Authorities name groups: store their countries, as regions do, so a stored policy needs no groups.
        spec = spec.model_copy(update={"receipts": spec.receipts.with_countries_expanded(groups)})
    canonical = _canonical(spec, region_modes)
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return PolicyVersion(policy, spec, region_modes, canonical, digest)


#: optional version blocks left out of the canonical form when absent
_OPTIONAL_BLOCKS = ("datasets", "notice", "receipts")
#: Optional purpose blocks added after versions were first published: left out of the canonical
#: form while empty, so a version that does not use them keeps its SHA-256.
_OPTIONAL_PURPOSE_BLOCKS = ("signals", "forget_within_days", "web_content", "audit")


def _canonical(spec: VersionSpec, region_modes: Mapping[str, Mapping[str, Mode]]) -> str:
    """A stable JSON encoding: times in UTC, regions as sorted country codes per mode."""
    data: dict[str, Any] = spec.model_dump(mode="json")
    for block in _OPTIONAL_BLOCKS:  # versions written before a block existed keep their SHA-256
        if data.get(block) is None:
            data.pop(block, None)
    if not data.get("translations"):  # likewise the member-facing texts
        data.pop("translations", None)
    data["published_at"] = spec.published_at.astimezone(UTC).isoformat()
    data["effective_at"] = spec.effective_at.astimezone(UTC).isoformat()
    for name, purpose in data["purposes"].items():
        for block in _OPTIONAL_PURPOSE_BLOCKS:
            if not purpose.get(block):  # absent or empty: hashed as before the block existed
                purpose.pop(block, None)
        by_mode: dict[str, list[str]] = {}
        for code, mode in region_modes[name].items():
            by_mode.setdefault(mode.value, []).append(code)
        purpose["regions"] = [{"countries": sorted(codes), "mode": mode} for mode, codes in sorted(by_mode.items())]
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
