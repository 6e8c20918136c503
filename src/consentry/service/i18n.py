"""The pages' languages: Babel catalogues, Accept-Language negotiation, and words for codes.

The member pages and the staff console speak English, German and French. The
language of a page is the member's own choice (kept in the store) when they
made one, else the best match of the browser's `Accept-Language`
(`babel.negotiate_locale`), else English. The pages' words come from the
gettext catalogues under `locale/` (see docs/i18n.md); the policy's words
(labels, descriptions, notices) come from the policy, in the same language
when the policy has it.

Codes never reach a page as they are: reasons, case statuses, choices and
sources each have words here (marked with `N_` for extraction), and case ids
are shown as a reference people can read out (`case_reference`).
"""

from __future__ import annotations

import gettext as gettext_module
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale, negotiate_locale
from babel.dates import format_date, format_datetime
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from consentry.vocab import CaseStatus, Choice, ReasonCode, Source

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "LOCALE_DIR",
    "Translator",
    "case_reference",
    "flash_message",
    "negotiate",
    "translator",
]

#: The languages the pages speak, with their names in their own language.
LANGUAGES: Mapping[str, str] = {"en": "English", "de": "Deutsch", "fr": "Français"}
DEFAULT_LANGUAGE = "en"
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
#: Dates in English are written day first, as in the rest of the pages.
_DATE_LOCALES = {"en": "en_GB"}


def N_(message: str) -> str:
    """Mark `message` for the catalogues without translating it here."""
    return message


#: What each reason means to the member, in words (never the raw code).
REASON_WORDS: Mapping[ReasonCode, str] = {
    ReasonCode.ALLOWED: N_("In use"),
    ReasonCode.MALFORMED: N_("Not used: the record could not be read"),
    ReasonCode.CREATED_AFTER_AS_OF: N_("Not used: created after the dataset's date"),
    ReasonCode.UNKNOWN_MEMBER: N_("Not used: we have no record of your account"),
    ReasonCode.NOT_DISCLOSED: N_("Not used: our terms in effect do not mention this use"),
    ReasonCode.REGION_EXCLUDED: N_("Not used: this does not apply in your region"),
    ReasonCode.NOTICE_PERIOD: N_("Not used yet: the notice period of our new terms is running"),
    ReasonCode.MINOR: N_("Not used: you are under the minimum age for this use"),
    ReasonCode.AGE_UNKNOWN: N_("Not used: we do not know your date of birth"),
    ReasonCode.CATEGORY_EXCLUDED: N_("Not used: this kind of content is excluded"),
    ReasonCode.VISIBILITY_EXCLUDED: N_("Not used: content with this visibility is excluded"),
    ReasonCode.RESERVED_BY_RIGHTS_HOLDER: N_("Not used: its rights holder reserved it from this use"),
    ReasonCode.ACCOUNT_CLOSED: N_("Not used: your account is closed"),
    ReasonCode.RECORD_DELETED: N_("Not used: the content was deleted"),
    ReasonCode.OBJECTION_PENDING: N_("Paused while your objection is reviewed"),
    ReasonCode.OBJECTION_UPHELD: N_("Off: your objection was upheld"),
    ReasonCode.OPTED_OUT: N_("Off: turned off"),
    ReasonCode.NOT_OPTED_IN: N_("Off until you turn it on"),
    ReasonCode.SCRUB_FAILED: N_("Not used: personal details could not be removed"),
}
NOTICE_ENDS = N_("Not used yet: our new terms allow it from %(date)s")

STATUS_WORDS: Mapping[CaseStatus, str] = {
    CaseStatus.RECEIVED: N_("Being reviewed"),
    CaseStatus.UPHELD: N_("Upheld"),
    CaseStatus.REJECTED: N_("Rejected"),
}
CHOICE_WORDS: Mapping[Choice, str] = {Choice.ALLOW: N_("Turned on"), Choice.DENY: N_("Turned off")}
SOURCE_WORDS: Mapping[Source, str] = {
    Source.SETTINGS: N_("On this page"),
    Source.API: N_("In the app"),
    Source.GPC: N_("Global Privacy Control signal"),
    Source.OBJECTION_FORM: N_("Objection upheld"),
    Source.IMPORT: N_("Earlier choice, imported"),
    Source.ADMIN: N_("By our privacy team"),
}
#: Why the member's own setting is what it is (for reasons the setting explains).
CHANGED_BY_WORDS: Mapping[str, str] = {
    "default": N_("This is the default under the current terms."),
    "member": N_("You chose this."),
    "gpc": N_("Your browser's Global Privacy Control signal was honoured."),
    "objection": N_("Your objection was upheld."),
    "import": N_("Recorded from an earlier choice you made."),
    "staff": N_("Recorded by our privacy team."),
}

#: One-time confirmations shown on the page after an action (keys stored with the session).
FLASHES: Mapping[str, str] = {
    "turned_on": N_("Done: %(use)s is now on."),
    "turned_off": N_("Done: %(use)s is now off."),
    "objection_filed": N_("Sent: your objection %(case)s is on its way to our privacy team."),
    "language_saved": N_("The pages are now in %(language)s."),
    "language_automatic": N_("The pages now follow your browser's language."),
    "signed_out": N_("You are signed out."),
    "signed_out_everywhere": N_("You are signed out on every device and browser."),
    "case_decided": N_("Case %(case)s decided: %(status)s."),
    "case_extended": N_("Case %(case)s extended: the decision is now due by %(due)s."),
    "case_assigned": N_("Case %(case)s assigned to %(assignee)s."),
    "case_unassigned": N_("Case %(case)s is no longer assigned."),
}

#: Reasons the member's own setting explains (or an upheld objection): the sentence says who set it.
_CHOICE_REASONS = frozenset(
    {ReasonCode.ALLOWED, ReasonCode.OPTED_OUT, ReasonCode.NOT_OPTED_IN, ReasonCode.OBJECTION_UPHELD}
)

_CASE_ID = re.compile(r"^obj_([0-9a-f]{16})$")


def case_reference(case_id: str) -> str:
    """A case id as people read it out: ``obj_3f9a1c2b7d4e8a60`` → ``OBJ-3F9A-1C2B-7D4E-8A60``."""
    m = _CASE_ID.match(case_id)
    if m is None:
        return case_id
    digits = m.group(1).upper()
    return "OBJ-" + "-".join(digits[i : i + 4] for i in range(0, 16, 4))


def negotiate(accept_language: str | None) -> str:
    """The best of `LANGUAGES` for an Accept-Language header (English when none matches)."""
    preferred: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept_language or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if tag and tag != "*" and q > 0:
            preferred.append((-q, i, tag.strip().replace("-", "_")))
    ordered = [tag for _, _, tag in sorted(preferred)]
    return negotiate_locale(ordered, list(LANGUAGES)) or DEFAULT_LANGUAGE


@cache
def _catalogue(language: str) -> gettext_module.NullTranslations:
    if language == DEFAULT_LANGUAGE:
        return gettext_module.NullTranslations()
    return gettext_module.translation(DOMAIN, LOCALE_DIR, languages=[language])


@dataclass(frozen=True)
class Translator:
    """One language's words: gettext for the pages, dates in that language's style."""

    language: str

    def gettext(self, message: str) -> str:
        """`message` in this language (itself when the catalogue lacks it)."""
        return _catalogue(self.language).gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """The singular or plural form for `n`, in this language."""
        return _catalogue(self.language).ngettext(singular, plural, n)

    @property
    def _locale(self) -> str:
        return _DATE_LOCALES.get(self.language, self.language)

    def day(self, t: datetime | None) -> str:
        """A date as this language writes it in full ("14 February 2025", "14. Februar 2025")."""
        return format_date(t, "long", locale=self._locale) if t is not None else "—"

    def when(self, t: datetime | None) -> str:
        """A moment in UTC as this language writes it."""
        if t is None:
            return "—"
        return format_datetime(t, "d MMM y, HH:mm", locale=self._locale) + " UTC"

    def country(self, code: str) -> str:
        """A country's name in this language (the code when Babel does not know it)."""
        return str(Locale.parse(self.language).territories.get(code, code))

    def reason(self, reason: ReasonCode, starts: datetime | None = None) -> str:
        """What a reason code means, in words (the notice period names its end when known)."""
        if reason is ReasonCode.NOTICE_PERIOD and starts is not None:
            return self.gettext(NOTICE_ENDS) % {"date": self.day(starts)}
        return self.gettext(REASON_WORDS.get(reason, N_("Not used")))

    def sentence(self, label: str, enabled: bool, reason: ReasonCode, changed_by: str, starts: datetime | None) -> str:
        """A purpose's state in one sentence: on or off, and why (what `PurposeSetting.sentence` says)."""
        if reason is ReasonCode.REGION_EXCLUDED:
            return self.gettext(N_("%(use)s does not apply in your region: your data is not used for it.")) % {
                "use": label
            }
        state = self.gettext(N_("%(use)s is on.") if enabled else N_("%(use)s is off.")) % {"use": label}
        if reason not in _CHOICE_REASONS:
            return f"{state} {self.reason(reason, starts)}."
        return f"{state} {self.gettext(CHANGED_BY_WORDS[changed_by])}"

    def template_globals(self) -> dict[str, Any]:
        """What the templates need: jinja2's i18n callables (new style) and the word helpers."""
        return {
            "gettext": _new_style(self.gettext),
            "ngettext": _new_style_plural(self.ngettext),
            "language": self.language,
            "tr": self,
            "status_words": STATUS_WORDS,
            "choice_words": CHOICE_WORDS,
            "source_words": SOURCE_WORDS,
        }


@cache
def translator(language: str) -> Translator:
    """The translator of one of `LANGUAGES` (English for any other)."""
    return Translator(language if language in LANGUAGES else DEFAULT_LANGUAGE)


def flash_message(raw: str, tr: Translator, label: Callable[[str], str]) -> str | None:
    """A stored confirmation (`{"m": key, "p": params}`) in the page's words; None if unreadable."""
    try:
        data = json.loads(raw)
        template = FLASHES[data["m"]]
        params = {k: str(v) for k, v in dict(data.get("p", {})).items()}
    except (ValueError, KeyError, TypeError):
        return None
    if "use" in params:
        params["use"] = label(params["use"])
    if "status" in params:
        params["status"] = tr.gettext(STATUS_WORDS[CaseStatus(params["status"])])
    if "language" in params:
        params["language"] = LANGUAGES.get(params["language"], params["language"])
    for key in ("due",):
        if key in params:
            params[key] = tr.day(datetime.fromisoformat(params[key]))
    if "case" in params:
        params["case"] = case_reference(params["case"])
    return tr.gettext(template) % params


def _new_style(func: Callable[[str], str]) -> Callable[..., str]:
    @pass_context
    def gettext(__context: Context, __string: str, **variables: Any) -> Any:
        rv = func(__string)
        if __context.eval_ctx.autoescape:
            rv = Markup(rv)
        return rv % variables if variables else rv

    return gettext


def _new_style_plural(func: Callable[[str, str, int], str]) -> Callable[..., str]:
    @pass_context
    def ngettext(__context: Context, __singular: str, __plural: str, __num: int, **variables: Any) -> Any:
        variables.setdefault("num", __num)
        rv = func(__singular, __plural, __num)
        if __context.eval_ctx.autoescape:
            rv = Markup(rv)
        return rv % variables

    return ngettext
