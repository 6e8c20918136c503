"""Person names after a language's name cues, with its particles and accents.

"mit Jürgen Müller", "avec Jean-Luc de la Fontaine", "con Ana María García López",
"com João da Silva", "met Pieter van der Berg", "Giulia D'Angelo", "Rahul ji".
A name is a run of capitalised words (accents, hyphens and an elided D'/L' prefix
allowed) joined by single spaces or by the profile's particles. It is kept when
a cue of the profile stands right before it (or a cue such as "ji" right after)
and the shipped lexicon knows one of its words, or, with no cue, when particles
join it, the lexicon knows its first word and none of its words is an ordinary
German noun ("Alles Gute zum Geburtstag"): capitalised nouns ("mit Freunden")
are not names.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any, NamedTuple

from consentry.scrub.detectors.lexicon import Lexicon, load_lexicon
from consentry.scrub.detectors.localized import LocalizedDetector
from consentry.scrub.entities import EntityType
from consentry.scrub.findings import Finding
from consentry.scrub.languages import LanguageProfile

__all__ = ["LocalNameDetector"]

_UP = r"[A-ZÀ-ÖØ-ÞĀ-Ž]"
_LOW = r"[a-zß-öø-ÿā-ž]"
_TOKEN = rf"(?:[DLdl]['’])?{_UP}{_LOW}{{1,30}}(?:-{_UP}{_LOW}{{1,30}})?"
_CAPITAL = re.compile(_UP)
_PIECE = re.compile(rf"(?:[DLdl]['’])?({_UP}{_LOW}+)")


@functools.cache
def _name_regex(particles: tuple[str, ...]) -> re.Pattern[str]:
    joins = "|".join(re.escape(p) for p in sorted(particles, key=len, reverse=True))
    join = rf"[ ](?:(?:{joins})[ ]|(?:{joins})(?=[A-Z]))*" if joins else "[ ]"
    return re.compile(rf"(?<![\w'’-]){_TOKEN}(?:{join}{_TOKEN}){{0,4}}(?![\w'’-])")


@functools.cache
def _cue_regexes(before: tuple[str, ...], after: tuple[str, ...]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    b = "|".join(re.escape(w) for w in sorted(before, key=len, reverse=True))
    a = "|".join(re.escape(w) for w in sorted(after, key=len, reverse=True))
    return (
        re.compile(rf"(?:^|(?<=[\s(\"'“«,¡¿]))(?i:{b})[ ,:]{{1,2}}$" if b else r"(?!)"),
        re.compile(rf"^[ ,]{{1,2}}(?i:{a})(?!\w)" if a else r"(?!)"),
    )


#: Cue words that name ("mera naam", "je m'appelle", "mijn naam is"): after them a lower-case word can be a name.
_NAMING = re.compile(r"(?i)\b(?:naam|name|nome|heet|heiße|appelle|llamo|chiamo|chamo)\b")


#: Words that follow a naming phrase in a question, some of them also given names ("mera naam kya hai?").
_ASKING = frozenset(["kya", "hai", "kaun", "kuch", "what", "was", "quoi", "qual", "qué", "cosa", "wat"])


#: Letters no ASCII letter matches, in either case, even case-insensitively.
_NEVER_ASCII = frozenset("àáâãäåæçèéêëìíîïñòóôõöøùúûüýÿßÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜÝ")


def _naming_spellings(cues: tuple[str, ...]) -> tuple[str, ...] | None:
    """The naming phrases of `cues` an ASCII text can hold, in lower case: wherever `_naming_regex`
    matches (case-insensitively) in ASCII text, one of them is in the text's lower case. Phrases
    with a letter such as "ß" or "é" are left out (no ASCII text matches them); None when a phrase
    holds another non-ASCII character (the regex then runs on every text)."""
    out: list[str] = []
    for cue in (c for c in cues if _NAMING.search(c)):
        if cue.isascii():
            out.append(cue.lower())
        elif not any(ch in _NEVER_ASCII for ch in cue):
            return None
    return tuple(out)


class _Rules(NamedTuple):
    """One profile's regexes, built once per profile object."""

    profile: LanguageProfile
    name: re.Pattern[str]
    before: re.Pattern[str]
    after: re.Pattern[str]
    naming: re.Pattern[str]
    naming_spellings: tuple[str, ...] | None


@functools.cache
def _naming_regex(cues: tuple[str, ...]) -> re.Pattern[str]:
    naming = sorted((c for c in cues if _NAMING.search(c)), key=len, reverse=True)
    if not naming:
        return re.compile(r"(?!)")
    alts = "|".join(re.escape(c) for c in naming)
    word = r"[a-zß-öø-ÿā-ž]{2,30}"
    return re.compile(rf"(?<!\w)(?i:{alts})[ ,:]{{1,2}}({word}(?:[ ]{word})?)(?![\w'’-])")


class LocalNameDetector(LocalizedDetector):
    """Names after (or before) a profile's cue words, and particle-joined names the lexicon knows."""

    name = "local_names"
    entities = frozenset({EntityType.PERSON})

    def __init__(self, min_score: float = 0.5, lexicon: Lexicon | None = None) -> None:
        self.min_score = min_score
        self._own_lexicon = lexicon
        self.lex = lexicon or load_lexicon()
        self._by_profile: dict[int, _Rules] = {}  # by id(profile)

    def __reduce__(self) -> tuple[Any, ...]:
        return (LocalNameDetector, (self.min_score, self._own_lexicon))

    def detect_local(self, text: str, profiles: Sequence[LanguageProfile], region: str | None) -> list[Finding]:
        """Cued or particle-joined names under `profiles`' cues and particles."""
        out: list[Finding] = []
        rules = [self._rules(p) for p in profiles]
        low = text.lower() if text.isascii() else None
        for r in rules:
            if low is None or r.naming_spellings is None or any(w in low for w in r.naming_spellings):
                out.extend(self._lowercase(text, r.profile, r.naming))
        capital = _CAPITAL.search(text)
        if capital is None:  # every name but a lower-case one after a naming phrase holds a capital
            return out
        pos = max(0, capital.start() - 2)  # nor does one start more than an elided "D'" before it
        for r in rules:
            for m in r.name.finditer(text, pos):
                f = self._judge(text, m.start(), m.end(), r.before, r.after, r.profile.code)
                if f is not None:
                    out.append(f)
        return out

    def _rules(self, p: LanguageProfile) -> _Rules:
        """Profile `p`'s regexes, looked up once per profile object."""
        found = self._by_profile.get(id(p))
        if found is None or found.profile is not p:
            particles = tuple(x for x in p.particles if x.strip())
            before, after = _cue_regexes(p.cues_before, p.cues_after)
            naming = _naming_regex(p.cues_before)
            found = _Rules(p, _name_regex(particles), before, after, naming, _naming_spellings(p.cues_before))
            self._by_profile[id(p)] = found
        return found

    def _judge(
        self, text: str, start: int, end: int, before: re.Pattern[str], after: re.Pattern[str], code: str
    ) -> Finding | None:
        pieces = list(_PIECE.finditer(text, start, end))
        dropped = None
        while len(pieces) > 1 and not self._known(pieces[0].group(1)):  # "Kal Rahul ji": a capitalised word first
            dropped = pieces.pop(0)
        # "Solicitud de Alejo Montenegro": a word, a particle, then a given name that starts the name
        after_particle = dropped is not None and text[dropped.end() : pieces[0].start()].strip() != ""
        start = pieces[0].start()
        words = [w.group(1) for w in pieces]
        known = [w for w in words if self._known(w)]
        nouns = self.lex.nouns
        if not known or words[0].lower() in self.lex.common:
            return None
        cued = before.search(text[max(0, start - 24) : start]) or after.match(text[end : end + 12])
        joined = len(text[start:end].split()) > len(words) or "'" in text[start:end] or "’" in text[start:end]
        if cued:
            score, note = 0.85, f"{code} name cue"
        elif joined and self._known(words[0]) and len(words) >= 2 and not nouns & set(words):
            score, note = 0.8, f"{code} name with particles"
        elif after_particle and words[0] in self.lex.given and len(words) >= 2 and not nouns & set(words):
            score, note = 0.8, f"{code} given name after a particle"
        else:
            return None
        if score < self.min_score:
            return None
        return Finding(
            start,
            end,
            EntityType.PERSON,
            score,
            self.name,
            f"name_{code}",
            None,
            f"{note}; {len(known)} of {len(words)} words known",
        )

    def _lowercase(self, text: str, p: LanguageProfile, rx: re.Pattern[str]) -> list[Finding]:
        """Lower-case names the lexicon knows after a naming phrase of `p` (`rx`: "mera naam priya sharma")."""
        out: list[Finding] = []
        for m in rx.finditer(text):
            words = m.group(1).split()
            if words[0].title() not in self.lex.given or words[0] in self.lex.common or words[0] in _ASKING:
                continue
            second = words[1] if len(words) > 1 else ""
            if second and (second in self.lex.common or second in p.particles or not self._known(second.title())):
                words = words[:1]
            end = m.start(1) + len(" ".join(words))
            note = f"{p.code} lower-case name after a naming phrase"
            out.append(Finding(m.start(1), end, EntityType.PERSON, 0.8, self.name, f"name_{p.code}", None, note))
        return [f for f in out if f.score >= self.min_score]

    def _known(self, word: str) -> bool:
        parts = word.split("-")
        return any(p in self.lex.given or p in self.lex.family for p in parts)
