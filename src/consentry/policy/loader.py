"""Read a policy file, validate it whole, and report every problem with file, line and field."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from consentry.errors import InputError, PolicyIssue, PolicyValidationError
from consentry.policy.countries import GroupCycleError, expand, is_country, resolve_groups
from consentry.policy.models import PolicyDocument
from consentry.policy.policy import Policy
from consentry.policy.receipt_terms import check_receipt_terms
from consentry.policy.yaml_reader import MAX_POLICY_BYTES, read_yaml, too_large
from consentry.vocab import LegalBasis, Mode

__all__ = ["RESERVED_COLUMNS", "check_policy", "load_policy", "load_policy_text"]

Path_ = tuple[str | int, ...]

# Columns with a fixed meaning in the records contract or the build output;
# `member_id` above all must never be passed through to a training set.
RESERVED_COLUMNS = frozenset(
    {"record_id", "member_id", "member_key", "kind", "visibility", "created_at", "deleted_at", "text", "origin"}
)


def load_policy(path: str | Path) -> Policy:
    """Load and validate a policy file; PolicyValidationError lists every error found."""
    policy, issues = check_policy(path)
    errors = [i for i in issues if i.severity == "error"]
    if errors or policy is None:
        raise PolicyValidationError(errors)
    return policy


def check_policy(path: str | Path) -> tuple[Policy | None, list[PolicyIssue]]:
    """Validate a policy file; return the policy (None on errors) and all issues, warnings too."""
    p = Path(path)
    try:
        with p.open("rb") as f:
            raw = f.read(MAX_POLICY_BYTES + 1)  # a larger file is refused without reading it whole
        if len(raw) > MAX_POLICY_BYTES:
            return None, [too_large(str(p), raw)]
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise InputError("no such file; give the path of a policy YAML file", where=str(p)) from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read the policy file ({type(e).__name__})", where=str(p)) from None
    return _check(text, str(p), base_dir=p.parent)


def load_policy_text(text: str, name: str = "<policy>") -> Policy:
    """Load a policy from YAML text (assessment references are not checked on disk)."""
    policy, issues = _check(text, name, base_dir=None)
    errors = [i for i in issues if i.severity == "error"]
    if errors or policy is None:
        raise PolicyValidationError(errors)
    return policy


def _check(text: str, file: str, base_dir: Path | None) -> tuple[Policy | None, list[PolicyIssue]]:
    document = read_yaml(text, file)
    if isinstance(document, list):
        return None, document
    node, data = document.node, document.data
    lines = _LineIndex(node)
    if not isinstance(data, dict):
        return None, [PolicyIssue(file, 1, "(root)", "expected a mapping with policy, versions")]
    try:
        doc = PolicyDocument.model_validate(data)
    except ValidationError as e:
        return None, [_pydantic_issue(file, lines, err) for err in e.errors()]
    issues = list(_check_document(doc, file, lines, base_dir))
    if any(i.severity == "error" for i in issues):
        return None, issues
    groups = resolve_groups(doc.country_groups)
    warnings = tuple(i for i in issues if i.severity == "warning")
    return Policy.from_document(doc, groups, source=Path(file), warnings=warnings), issues


class _LineIndex:
    """Maps a path of keys/indices in the YAML document to its 1-based line."""

    def __init__(self, root: yaml.Node | None):
        self._lines: dict[Path_, int] = {}
        if root is not None:
            self._walk(root, ())

    def _walk(self, node: yaml.Node, path: Path_) -> None:
        self._lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                k = key.value
                self._lines[(*path, k)] = key.start_mark.line + 1
                self._walk(value, (*path, k))
                self._lines[(*path, k)] = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self._walk(item, (*path, i))

    def line(self, path: Path_) -> int | None:
        """Line of the deepest prefix of `path` that exists in the file."""
        for n in range(len(path), -1, -1):
            if path[:n] in self._lines:
                return self._lines[path[:n]]
        return None


def _dotted(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(root)"


def _pydantic_issue(file: str, lines: _LineIndex, err: Any) -> PolicyIssue:
    loc: Path_ = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
    msg = err["msg"]
    kind = err["type"]
    if kind == "extra_forbidden":
        msg = "unknown field; check the spelling against docs/policy.md"
    elif kind == "missing":
        msg = "required field is missing; add it"
    elif kind == "timezone_aware":
        msg = "needs a time zone; write e.g. 2024-09-18T00:00:00Z"
    return PolicyIssue(file, lines.line(loc), _dotted(loc), msg)


def _check_document(doc: PolicyDocument, file: str, lines: _LineIndex, base_dir: Path | None) -> Iterator[PolicyIssue]:
    def issue(path: Path_, message: str, severity: str = "error") -> PolicyIssue:
        return PolicyIssue(file, lines.line(path), _dotted(path), message, severity)

    groups_ok = True
    for name, members in doc.country_groups.items():
        if is_country(name):
            yield issue(("country_groups", name), "a group may not be named like a country code")
            groups_ok = False
        for j, entry in enumerate(members):
            if entry not in doc.country_groups and not is_country(entry):
                groups_ok = False
                yield issue(
                    ("country_groups", name, j),
                    f"{entry!r} is neither an ISO 3166-1 alpha-2 code nor a group name",
                )
    groups: dict[str, frozenset[str]] = {}
    if groups_ok:
        try:
            groups = resolve_groups(doc.country_groups)
        except GroupCycleError as e:
            yield issue(("country_groups", e.cycle[0]), f"groups form a cycle: {e}; break it")
            return

    seen_ids: dict[str, int] = {}
    seen_effective: dict[Any, int] = {}
    for i, v in enumerate(doc.versions):
        vpath: Path_ = ("versions", i)
        if v.version in seen_ids:
            yield issue(
                (*vpath, "version"),
                f"duplicate version id {v.version!r} "
                f"(also versions[{seen_ids[v.version]}]); give each version its own id",
            )
        seen_ids.setdefault(v.version, i)
        if v.effective_at in seen_effective:
            yield issue(
                (*vpath, "effective_at"),
                "another version takes effect at the same moment "
                f"(versions[{seen_effective[v.effective_at]}]); only one can be in effect",
            )
        seen_effective.setdefault(v.effective_at, i)
        if v.effective_at < v.published_at:
            yield issue(
                (*vpath, "effective_at"),
                "comes before published_at; a version cannot govern before it is published",
            )
        elif v.effective_at < v.published_at + timedelta(days=v.notice_days):
            yield issue(
                (*vpath, "effective_at"),
                f"comes sooner than published_at + notice_days ({v.notice_days}); "
                "purposes it brings in stay in NOTICE_PERIOD until the notice ends",
                "warning",
            )
        for pname, rule in v.purposes.items():
            ppath: Path_ = (*vpath, "purposes", pname)
            yield from _check_purpose(rule, ppath, groups, groups_ok, base_dir, issue)
        yield from _check_translations(v, doc.languages, vpath, issue)
        if v.receipts is not None and groups_ok:
            yield from check_receipt_terms(v.receipts, v.purposes, vpath, groups, issue)


def _check_translations(v: Any, languages: list[str], vpath: Path_, issue: Any) -> Iterator[PolicyIssue]:
    """Every language the policy declares (after the first) has every text the version has."""
    others = languages[1:]
    for lang in v.translations:
        if lang not in others:
            declared = ", ".join(others) or "none"
            yield issue(
                (*vpath, "translations", lang),
                f"language {lang!r} is not declared in `languages` after the first (declared: {declared}); "
                "add it there or remove these texts",
            )
    for lang in others:
        texts = v.translations.get(lang)
        if texts is None:
            yield issue(
                (*vpath, "translations") if v.translations else vpath,
                f"no {lang!r} texts; `languages` declares {lang!r}: add translations.{lang} "
                "with the notice, labels and descriptions",
            )
            continue
        tpath: Path_ = (*vpath, "translations", lang)
        if v.notice and not texts.notice:
            yield issue((*tpath, "notice"), f"the version has a notice but no {lang!r} notice; add it")
        for pname in texts.purposes:
            if pname not in v.purposes:
                yield issue((*tpath, "purposes", pname), "this version does not disclose this purpose; remove it")
        for pname, rule in v.purposes.items():
            text = texts.purposes.get(pname)
            if text is None or not text.label:
                yield issue((*tpath, "purposes", pname), f"no {lang!r} label for purpose {pname!r}; add it")
            elif rule.description and not text.description:
                yield issue(
                    (*tpath, "purposes", pname, "description"),
                    f"no {lang!r} description for purpose {pname!r}; add it",
                )


def _check_purpose(
    rule: Any,
    ppath: Path_,
    groups: dict[str, frozenset[str]],
    groups_ok: bool,
    base_dir: Path | None,
    issue: Any,
) -> Iterator[PolicyIssue]:
    if rule.legal_basis is LegalBasis.LEGITIMATE_INTEREST:
        if not rule.assessment:
            yield issue(
                (*ppath, "legal_basis"),
                "legitimate_interest needs `assessment`: the path of the stored legitimate-interest assessment",
            )
        elif base_dir is not None and not (base_dir / rule.assessment).is_file():
            yield issue(
                (*ppath, "assessment"),
                f"no file {rule.assessment!r} next to the policy; store the assessment there or fix the path",
            )
    for col in rule.pass_through:
        if col in RESERVED_COLUMNS:
            yield issue((*ppath, "pass_through"), f"{col!r} is a contract column and cannot be passed through")
    owner: dict[str, tuple[int, Mode]] = {}
    for r, region in enumerate(rule.regions):
        rpath: Path_ = (*ppath, "regions", r)
        bad = False
        for c, entry in enumerate(region.countries):
            if entry not in groups and not is_country(entry):
                bad = True
                if groups_ok:
                    yield issue(
                        (*rpath, "countries", c),
                        f"{entry!r} is neither an ISO 3166-1 alpha-2 code nor a group name",
                    )
        if bad or not groups_ok:
            continue
        for code in sorted(expand(region.countries, groups)):
            if code in owner and owner[code][1] is not region.mode:
                yield issue(
                    (*rpath, "countries"),
                    f"{code} is already {owner[code][1].value} by regions[{owner[code][0]}]; "
                    f"a country can have one mode per purpose",
                )
                break
            owner.setdefault(code, (r, region.mode))
