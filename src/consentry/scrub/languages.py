"""Languages: which language a record is written in, and which local rules that selects.

Every record gets one language code: ``de``, ``fr``, ``es``, ``pt-BR``, ``it``, ``nl``,
``en-IN`` (Indian English and Hinglish), ``en`` (other English) or ``und`` (undecided).
`LanguageIdentifier` decides it in three steps. Devanagari script or two Hinglish function
words decide ``en-IN``. Function words that clearly belong to one language (two different
ones of it and at least twice as many as of any other, or any of one language's and none of
another's: "the … and", "ich … nicht") decide that language without lingua: most texts, at
a few microseconds each. The rest go to lingua (models shipped in its wheel; one detector,
built once, knowing only these languages) in its low-accuracy mode, about 90 microseconds a
short text where its high-accuracy mode takes 330 (see bench/README.md). A text too short to
decide (fewer than `MIN_LETTERS` letters), or one lingua cannot tell apart, takes the language
of the member's country (the region hint) when there is one, else ``und``.

The code chooses the *local rules* (national identifiers, phone region, address and date
formats, name cues): those of its `LanguageProfile`, plus those of the member's country's
profiles. ``und`` applies every profile's rules, so an undecided record is never checked
against fewer rules than a decided one.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

__all__ = [
    "ENGLISH",
    "LANGUAGES",
    "MIN_LETTERS",
    "UNDETERMINED",
    "LanguageIdentifier",
    "LanguageProfile",
    "load_profiles",
    "profiles_for",
    "region_for",
]

UNDETERMINED = "und"
ENGLISH = "en"
#: Every language code a record can get, in the manifest's order.
LANGUAGES: tuple[str, ...] = ("de", "fr", "es", "pt-BR", "it", "nl", "en-IN", ENGLISH, UNDETERMINED)

#: Countries whose members write English when they write no other language we profile.
_ENGLISH_COUNTRIES = frozenset({"US", "GB", "IE", "CA", "AU", "NZ", "ZA", "SG"})
#: Fewer letters than this and lingua is not asked: the text is undecidable.
MIN_LETTERS = 12
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
#: Frequent function words that tell one language from the others here (shared ones left out).
_FUNCTION_WORDS: dict[str, frozenset[str]] = {
    ENGLISH: frozenset(
        [
            "the",
            "and",
            "you",
            "with",
            "this",
            "that",
            "are",
            "have",
            "for",
            "my",
            "your",
            "it's",
            "i'm",
            "what",
            "just",
            "but",
            "from",
            "they",
            "about",
            "thanks",
            "please",
            "would",
            "there",
            "been",
            "their",
            "which",
            "when",
            "who",
            "how",
            "to",
            "of",
            "our",
            "we",
            "here",
            "don't",
            "can",
            "it",
            "be",
            "at",
            "after",
            "first",
        ]
    ),
    "de": frozenset(
        [
            "und",
            "ich",
            "nicht",
            "ist",
            "das",
            "der",
            "die",
            "mit",
            "ein",
            "eine",
            "auch",
            "auf",
            "für",
            "wir",
            "sie",
            "bin",
            "habe",
            "mein",
            "meine",
            "noch",
            "sehr",
            "heute",
            "danke",
            "bitte",
            "wie",
            "aber",
            "oder",
            "schon",
            "dass",
        ]
    ),
    "fr": frozenset(
        [
            "je",
            "et",
            "les",
            "est",
            "pas",
            "une",
            "avec",
            "pour",
            "dans",
            "nous",
            "vous",
            "mais",
            "très",
            "suis",
            "mon",
            "c'est",
            "merci",
            "chez",
            "aujourd'hui",
            "des",
            "au",
            "aux",
            "sont",
            "avons",
            "j'ai",
        ]
    ),
    "es": frozenset(["y", "el", "los", "las", "estoy", "gracias", "hoy", "soy", "también", "pero", "muy", "mis"]),
    "pt-BR": frozenset(
        [
            "os",
            "uma",
            "com",
            "não",
            "muito",
            "estou",
            "meu",
            "minha",
            "obrigado",
            "obrigada",
            "hoje",
            "sou",
            "também",
            "você",
        ]
    ),
    "it": frozenset(["gli", "per", "che", "sono", "molto", "mio", "mia", "grazie", "oggi", "anche", "della", "è"]),
    "nl": frozenset(
        [
            "het",
            "een",
            "ik",
            "niet",
            "met",
            "voor",
            "dat",
            "zijn",
            "maar",
            "mijn",
            "heel",
            "bedankt",
            "vandaag",
            "ook",
            "wij",
            "jij",
        ]
    ),
}
_DEVANAGARI = re.compile(r"[\u0900-\u097F]")
_LETTER = re.compile(r"[^\W\d_]")
_DIGIT = re.compile(r"\d")
#: ASCII text's non-letters but the apostrophe, as spaces: its words are then split() away (`_words`).
_ASCII_NON_LETTERS = str.maketrans({c: " " for c in map(chr, range(128)) if not c.isalpha() and c != "'"})
#: Hinglish function words: two different ones in a text decide ``en-IN``.
_HINGLISH = frozenset(
    [
        "hai",
        "hain",
        "nahi",
        "nahin",
        "kya",
        "kyun",
        "kyu",
        "mera",
        "meri",
        "mere",
        "aap",
        "aapka",
        "tum",
        "tera",
        "yaar",
        "bhai",
        "bhaiya",
        "ji",
        "karo",
        "karna",
        "kar",
        "tha",
        "thi",
        "kaise",
        "acha",
        "accha",
        "achha",
        "theek",
        "thik",
        "matlab",
        "abhi",
        "bahut",
        "raha",
        "rahi",
        "rahe",
        "wala",
        "wali",
        "hum",
        "humko",
        "mujhe",
        "tujhe",
        "kal",
        "aaj",
        "batao",
        "bolo",
        "dekho",
        "chalo",
        "sahab",
        "didi",
        "bilkul",
    ]
)


#: Each function word's language (no word belongs to two), and all of them.
_FUNCTION_WORD_CODE: dict[str, str] = {w: code for code, fw in _FUNCTION_WORDS.items() for w in fw}
_ANY_FUNCTION_WORD = frozenset(_FUNCTION_WORD_CODE)
#: The words identification looks at: function words and Hinglish ones.
_KNOWN_WORDS = _ANY_FUNCTION_WORD | _HINGLISH


@dataclass(frozen=True)
class LanguageProfile:
    """One language's local rules: its phone region, national identifiers' country, name and date words."""

    code: str
    lingua: str
    region: str
    countries: frozenset[str]
    cues_before: tuple[str, ...]
    cues_after: tuple[str, ...]
    particles: tuple[str, ...]
    months: tuple[str, ...]
    birth_words: tuple[str, ...]
    day_first: bool
    postcode: str


@functools.cache
def load_profiles() -> dict[str, LanguageProfile]:
    """The shipped profiles (``scrub/data/languages.json``), by language code."""
    raw: dict[str, Any] = json.loads(
        resources.files("consentry.scrub").joinpath("data/languages.json").read_text("utf-8")
    )
    out: dict[str, LanguageProfile] = {}
    for code, d in raw.items():
        if code.startswith("_"):
            continue
        out[code] = LanguageProfile(
            code=code,
            lingua=d["lingua"],
            region=d["region"],
            countries=frozenset(d["countries"]),
            cues_before=tuple(d["cues_before"]),
            cues_after=tuple(d["cues_after"]),
            particles=tuple(d["particles"]),
            months=tuple(d["months"]),
            birth_words=tuple(d["birth_words"]),
            day_first=bool(d["day_first"]),
            postcode=d["postcode"],
        )
    return out


@functools.lru_cache(maxsize=4096)
def _country_codes(country: str | None) -> tuple[str, ...]:
    """The profile codes whose countries include `country` (ISO 3166 alpha-2, any case)."""
    if not country:
        return ()
    c = country.strip().upper()
    return tuple(p.code for p in load_profiles().values() if c in p.countries)


@functools.lru_cache(maxsize=4096)
def profiles_for(language: str, country: str | None = None) -> tuple[LanguageProfile, ...]:
    """The profiles whose rules apply to a record in `language` by a member in `country`.

    ``und`` gets every profile; ``en`` none of its own; the member's country adds its profiles.
    Cached: the scrubber asks once per record and local detector.
    """
    profiles = load_profiles()
    if language == UNDETERMINED:
        return tuple(profiles.values())
    codes = [language] if language in profiles else []
    codes += [c for c in _country_codes(country) if c not in codes]
    return tuple(profiles[c] for c in codes)


def region_for(language: str, country: str | None) -> str | None:
    """The phone region: the member's country when known, else the language's region (none for en/und)."""
    if country and len(country.strip()) == 2 and country.strip().isalpha():
        return country.strip().upper()
    profile = load_profiles().get(language)
    return profile.region if profile is not None else None


class LanguageIdentifier:
    """Decides each record's language code; lingua's detector is built once, on first use."""

    def __init__(self, min_letters: int = MIN_LETTERS) -> None:
        self.min_letters = min_letters
        self._detector: Any = None
        self._names: dict[str, str] = {}

    def _lingua(self) -> Any:
        """lingua's detector (low-accuracy mode, only the profiled languages and English), built once."""
        if self._detector is None:
            from lingua import Language, LanguageDetectorBuilder

            profiles = load_profiles()
            self._names = {p.lingua: p.code for p in profiles.values()}
            self._names["ENGLISH"] = ENGLISH
            languages = [getattr(Language, name) for name in sorted(self._names)]
            builder = LanguageDetectorBuilder.from_languages(*languages).with_minimum_relative_distance(0.1)
            self._detector = builder.with_low_accuracy_mode().build()
        return self._detector

    def identify(self, text: str, country: str | None = None) -> str:
        """The language code of `text`; `country` (the member's) decides when the text cannot."""
        head = text[:400]
        words, letters = _words(head)
        known = _KNOWN_WORDS.intersection(words)
        if len(known & _HINGLISH) >= 2 or (not text.isascii() and _DEVANAGARI.search(text)):
            return "en-IN"
        quick = _vote(known, _three_different(words))
        if quick is not None:
            return "en-IN" if quick == ENGLISH and "en-IN" in _country_codes(country) else quick
        if letters is None:
            letters = len(_LETTER.findall(head))
        found = None
        if letters >= self.min_letters:
            found = self._lingua().detect_language_of(text)
        if found is None:
            return _fallback(country)
        code = self._names.get(found.name, UNDETERMINED)
        if code == ENGLISH and "en-IN" in _country_codes(country):
            return "en-IN"
        return code

    def identify_batch(self, texts: Sequence[str], countries: Sequence[str | None] | None = None) -> list[str]:
        """`identify` for each text, with its member's country (or none)."""
        if countries is None:
            return [self.identify(t) for t in texts]
        return [self.identify(t, c) for t, c in zip(texts, countries, strict=True)]


def _words(head: str) -> tuple[list[str], int | None]:
    """The lower-case words of `head` (as `_WORD` finds them in its tokens without a digit, repeats kept) and,
    for ASCII text, their letter count.

    ASCII text is split at its non-letters (apostrophes kept, and only the pieces holding one
    read by `_WORD`): the same words as `_WORD.findall`, at a fraction of its cost.
    """
    low = head.lower()
    if _DIGIT.search(low) is not None:  # a token holding a digit (an id, a hash, "10am") is not a word
        low = " ".join([t for t in low.split() if t.isalpha() or _DIGIT.search(t) is None])
    if not low.isascii():
        return _WORD.findall(low), None
    spaced = low.translate(_ASCII_NON_LETTERS)
    pieces = spaced.split()
    letters = len(spaced) - spaced.count(" ") - spaced.count("'")
    if "'" not in spaced:
        return pieces, letters
    words: list[str] = []
    for piece in pieces:
        if "'" in piece:
            words += _WORD.findall(piece)
        else:
            words.append(piece)
    return words, letters


def _three_different(words: list[str]) -> bool:
    """True when `words` holds at least three different words (most texts tell in a few steps)."""
    if len(words) < 3:
        return False
    first, second = words[0], None
    for w in words:
        if w != first:
            if second is None:
                second = w
            elif w != second:
                return True
    return False


def _by_function_words(words: set[str]) -> str | None:
    """The language whose function words a text's `words` clearly use (None when not clear)."""
    return _vote(words & _ANY_FUNCTION_WORD, len(words) >= 3)


def _vote(hit: set[str] | frozenset[str], enough: bool) -> str | None:
    """The language of the function words `hit` (of a text with `enough` different words), if clear."""
    if not enough:
        return None
    counts: dict[str, int] = {}
    for w in hit:
        code = _FUNCTION_WORD_CODE.get(w)
        if code is not None:
            counts[code] = counts.get(code, 0) + 1
    if not counts:
        return None
    if len(counts) == 1:  # words of one language only
        return next(iter(counts))
    # ties go to the greater code, as a reverse sort of (count, code) over every language orders them
    (best, code), (second, _) = sorted(((n, c) for c, n in counts.items()), reverse=True)[:2]
    return code if best >= 2 and best >= 2 * second else None


def _fallback(country: str | None) -> str:
    """An undecidable text's language: its member's country's, else ``und``."""
    codes = _country_codes(country)
    if len(codes) == 1:
        return codes[0]
    if country and country.strip().upper() in _ENGLISH_COUNTRIES:
        return ENGLISH
    return UNDETERMINED
