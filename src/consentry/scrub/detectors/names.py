"""PERSON without a model: lexicons + capitalisation + context, and the member directory.

`LexiconPersonDetector` groups runs of capitalised tokens and scores each run by
what its tokens are (known given name, family name, common word, unknown) and by
cues around it ("I'm", "Dr.", "thanks", greetings, sign-offs). `DirectoryDetector`
matches the platform's own member names exactly (Aho-Corasick, case-insensitive).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import ahocorasick

from consentry.scrub.detectors.base import Detector
from consentry.scrub.detectors.lexicon import ORG_WORDS, TITLES, Lexicon, load_lexicon
from consentry.scrub.detectors.person_cues import (
    COORDINATED_AFTER,
    SURNAME_SHAPE,
    context_score,
    lowercase_name_spans,
)
from consentry.scrub.entities import EntityType
from consentry.scrub.findings import Finding

__all__ = ["DirectoryDetector", "LexiconPersonDetector", "directory_tokens"]


def _upper_class() -> str:
    chars = [chr(c) for c in range(0x41, 0x2000) if chr(c).isupper() and chr(c).isalpha()]
    return "[" + "".join(re.escape(c) for c in chars) + "]"


#: A capitalised token: not after a word character or one of @#/&.'’- (the lookbehind follows the
#: capital so that `re` looks for capitals first: the same matches, several times faster).
_TOKEN = re.compile(rf"{_upper_class()}(?<![\w@#/&.'’-].)[^\W\d_]*(?:['’-][^\W\d_]+)*\.?")
_PARTS = re.compile(r"[-'’]")
_NAME_LABEL = re.compile(r"(?i)\b(?:name|nom|nombre|nome|naam)[ \t]*:[ \t]*$")
#: German articles starting a sentence: the noun after them is no surname ("Der Koch hat frei").
_ARTICLES = frozenset(["Der", "Die", "Das", "Dem", "Den", "Des", "Ein", "Eine", "Einen", "Einem", "Einer"])
_PARTICLES = frozenset(
    [
        "de",
        "del",
        "da",
        "do",
        "dos",
        "das",
        "di",
        "della",
        "la",
        "le",
        "van",
        "von",
        "der",
        "den",
        "ter",
        "ten",
        "bin",
        "binti",
        "al",
        "el",
        "y",
        "e",
        "du",
        "des",
    ]
)


class LexiconPersonDetector(Detector):
    """Person names from shipped given/family lexicons, capitalisation and context cues."""

    name = "person_lexicon"
    entities = frozenset({EntityType.PERSON})

    def __init__(
        self, min_score: float = 0.5, extra_tokens: Iterable[str] = (), lexicon: Lexicon | None = None
    ) -> None:
        self.min_score = min_score
        self._own_lexicon = lexicon  # a lexicon other than the shipped one (held-out evaluation)
        self.lex: Lexicon = lexicon or load_lexicon()
        self.extra = frozenset(t for t in extra_tokens if t.lower() not in self.lex.common)
        self._kinds: dict[str, str] = {}

    def __reduce__(self) -> tuple[Any, ...]:
        return (LexiconPersonDetector, (self.min_score, tuple(self.extra), self._own_lexicon))

    def detect(self, text: str) -> list[Finding]:
        """Person-name findings in `text`: scored capitalised runs, then the runs chained to a
        found name ("Møller, Price and Dixon"), later mentions of a found name's tokens, and
        lower-case names after a strong cue."""
        out: list[Finding] = []
        pending: list[list[tuple[int, int]]] = []
        kinds_of = self._kinds.get
        for run in self._runs(text):
            if len(run) == 1:
                tok = text[run[0][0] : run[0][1]]
                kinds = kinds_of(tok) or self._kind(tok)
                if kinds in "ST":  # a stop word or title alone ("The", "Thanks", "Dr.")
                    continue
            else:
                kinds = "".join([kinds_of(text[s:e]) or self._kind(text[s:e]) for s, e in run])
            if "N" in kinds or (kinds[0] == "U" and "G" in kinds):
                read = _unsupported_words(text, run, kinds, self._plain_kind)
                if not read.strip("S") and len(run) <= 3 and not kinds.strip("NU"):
                    pending.append(run)  # nouns alone: a name only when chained to one ("Cannon and Moore")
                    continue
                kinds = read
            if kinds.strip("ST"):  # a run of stop words and titles alone holds no name
                found = self._score_run(text, run, kinds)
                if found:
                    out.extend(found)
                    continue
                if len(run) <= 3 and "S" not in kinds and "T" not in kinds:
                    pending.append(run)  # may be chained to a found name later
        if out and pending:
            out.extend(self._chained_and_repeated(text, out, pending))
        out.extend(self._lowercase(text))
        return out

    def _chained_and_repeated(
        self, text: str, found: list[Finding], pending: list[list[tuple[int, int]]]
    ) -> list[Finding]:
        """Runs chained to a found name by a list separator, or repeating its tokens (linear time)."""
        candidates = [r for r in pending if self._could_be_name(text, r)]
        out: list[Finding] = []
        if not candidates:
            return out
        tokens = {text[s:e].rstrip(".") for f in found for s, e in _token_spans(text, f.start, f.end)}
        tokens = {t for t in tokens if len(t) >= 3 and t.lower() not in self.lex.common}
        starts, ends = {f.start for f in found}, {f.end for f in found}
        for _ in range(3):  # a chain grows from a found name a link at a time
            rest = []
            for run in candidates:
                s, e = run[0][0], run[-1][1]
                # _chained holds the spans at most 8 characters apart
                chained = any(_chained(text, p, s) for p in ends) or any(_chained(text, e, p) for p in starts)
                if chained or all(text[a:b].rstrip(".") in tokens for a, b in run):
                    note = "chained to a found name" if chained else "repeats a found name"
                    out.append(Finding(s, e, EntityType.PERSON, 0.7, self.name, "name_chain", None, note))
                    starts.add(s)
                    ends.add(e)
                else:
                    rest.append(run)
            if len(rest) == len(candidates):
                break
            candidates = rest
        return out

    def _could_be_name(self, text: str, run: list[tuple[int, int]]) -> bool:
        """A run of no stop word or title (checked by the caller) that is neither a place nor
        followed by an organisation word."""
        return not (self._not_a_name(text, run) or _org_next(text, run[-1][1]))

    def _lowercase(self, text: str) -> list[Finding]:
        return [
            Finding(s, e, EntityType.PERSON, 0.7, self.name, "lowercase_after_cue", None, "lexicon name after cue")
            for s, e in lowercase_name_spans(text, self._lowercase_name)
        ]

    def _lowercase_name(self, word: str) -> bool:
        w = word.title()
        return word not in self.lex.common and (w in self.lex.given or w in self.lex.family or w in self.extra)

    def _runs(self, text: str) -> list[list[tuple[int, int]]]:
        """Capitalised tokens grouped into runs: joined by one space, or by particles ("de la"),
        and never across a sentence end (a token ending in "." that is not a title)."""
        runs: list[list[tuple[int, int]]] = []
        cur: list[tuple[int, int]] = []
        end = 0
        ends_sentence = True  # no run yet to join
        for m in _TOKEN.finditer(text):
            s, e = m.span()
            if ends_sentence or text[end] != " " or (s != end + 1 and not _particles_between(text[end:s])):
                cur = [(s, e)]
                runs.append(cur)
            else:
                cur.append((s, e))
            ends_sentence = text[e - 1] == "." and e - s > 2 and text[s : e - 1] not in TITLES
            end = e
        return runs

    def _not_a_name(self, text: str, run: list[tuple[int, int]]) -> bool:
        """A place ("New York", "Grand-Leez Belgium") or an organisation ("Britvic Plc")."""
        if text[run[0][0] : run[-1][1]].rstrip(".") in self.lex.places:
            return True
        return len(run) > 1 and _word(text[run[-1][0] : run[-1][1]]) in self.lex.countries

    def clear_cache(self) -> None:
        """Forget the token classes seen so far (benchmarks time a cold detector)."""
        self._kinds.clear()

    def _kind(self, tok: str) -> str:
        """G given, F family, X directory, A name that is also a common word, U unknown,
        N ordinary German noun, I initial, T title, S stop (common word, organisation word,
        acronym); cached per token."""
        kind = self._kinds.get(tok)
        if kind is None:
            if len(self._kinds) > 200_000:
                self._kinds.clear()
            kind = self._kinds[tok] = self._classify(tok)
        return kind

    def _classify(self, tok: str) -> str:
        word = tok.rstrip(".")
        low = word.lower()
        if word in TITLES:
            return "T"
        if _word(tok).lower() in ORG_WORDS:
            return "S"
        if len(word) == 1:
            return "I" if tok.endswith(".") or word not in "AI" else "S"
        if tok.endswith(".") and low in self.lex.common:
            return "S"
        named = self._named(word)
        if word.isupper() and len(word) <= 3:
            return "S"
        if word.isupper():
            named = named or word.title() in self.lex.given or word.title() in self.lex.family
            if not named:
                return "S"
        if low in self.lex.common:
            return "A" if named else "S"
        if word in self.extra:
            return "X"
        parts = _name_parts(word)
        if any(p in self.lex.given or p.title() in self.lex.given for p in parts):
            return "G"
        if _is_noun(word, parts, self.lex.nouns):
            return "N"  # an ordinary German noun ("Koch", "Bewerbung"): a surname only when supported
        if any(p in self.lex.family or p.title() in self.lex.family for p in parts):
            return "F"
        if SURNAME_SHAPE.match(word) and low not in self.lex.surname_lookalikes:
            return "F"  # a family-name ending ("Jabłońska"), unless an ordinary word ends so ("Slides")
        return "U"

    def _plain_kind(self, tok: str) -> str:
        """A German noun's kind were it not one: F for a known or surname-shaped family name, else U."""
        word = tok.rstrip(".")
        parts = _name_parts(word)
        if any(p in self.lex.family or p.title() in self.lex.family for p in parts):
            return "F"
        return "F" if SURNAME_SHAPE.match(word) and word.lower() not in self.lex.surname_lookalikes else "U"

    def _named(self, word: str) -> bool:
        lex = self.lex
        if word in lex.given or word in lex.family or word in self.extra:
            return True
        if not _joined(word):
            return False
        parts = [p for p in _PARTS.split(word) if len(p) > 1]
        return len(parts) > 1 and any(p in lex.given or p in lex.family for p in parts)

    def _score_run(self, text: str, run: list[tuple[int, int]], kinds: str) -> list[Finding]:
        """Findings for the parts of a run between its stop words and titles (`kinds`, one letter a token)."""
        if self._not_a_name(text, run):
            return []
        out: list[Finding] = []
        i = 0
        while i < len(run):
            if kinds[i] in "ST":
                i += 1
                continue
            j = i
            while j < len(run) and kinds[j] not in "ST":
                j += 1
            titled = i > 0 and kinds[i - 1] == "T"
            f = self._finding(text, run[i:j], kinds[i:j], titled)
            if f is not None:
                out.append(f)
            i = j
        return out

    def _finding(self, text: str, toks: list[tuple[int, int]], kinds: str, titled: bool) -> Finding | None:
        while kinds and kinds[-1] == "I":
            toks, kinds = toks[:-1], kinds[:-1]
        if not kinds or (kinds[0] == "I" and len(kinds) == 1):
            return None
        start, end = toks[0][0], toks[-1][1]
        if text[end - 1] == "." and text[start:end].count(".") and kinds[-1] != "I":
            end -= 1
        if len(kinds) > 4:
            return None
        known = kinds.count("G") + kinds.count("F") + kinds.count("X")
        if known and len(kinds) >= 2:
            score = 0.85 if known >= 2 or "U" not in kinds else 0.7
        elif known:
            score = {"G": 0.6, "X": 0.75, "F": 0.45}.get(kinds.replace("I", "")[0], 0.45)
        elif "A" in kinds and len(kinds) >= 2:
            score = 0.55
        else:
            score = 0.3 if "A" in kinds else (0.35 if len(kinds.replace("I", "")) >= 2 else 0.25)
        notes = [f"tokens {kinds}"]
        if titled:
            score += 0.4
            notes.append("title")
        delta, cue_notes = context_score(text, start, end, known)
        score += delta
        notes.extend(cue_notes)
        score = min(score, 0.95)
        if score < self.min_score:
            return None
        return Finding(start, end, EntityType.PERSON, score, self.name, "capitalised_run", None, "; ".join(notes))


class DirectoryDetector(Detector):
    """Exact, case-insensitive matches of the member directory's names (Aho-Corasick)."""

    name = "member_directory"
    entities = frozenset({EntityType.PERSON})

    def __init__(self, names: Sequence[str]) -> None:
        self.names = tuple(n for n in names if isinstance(n, str) and len(n.strip()) >= 2)
        self._auto: Any = None
        if self.names:
            auto = ahocorasick.Automaton()
            for n in self.names:
                key = " ".join(n.split()).lower()
                if len(key) == len(" ".join(n.split())):
                    auto.add_word(key, len(key))
            auto.make_automaton()
            self._auto = auto

    def __reduce__(self) -> tuple[Any, ...]:
        return (DirectoryDetector, (self.names,))

    def detect(self, text: str) -> list[Finding]:
        """Every whole-word occurrence of a directory name."""
        if self._auto is None:
            return []
        low = text.lower()
        if len(low) != len(text):  # a few characters change length when lower-cased
            low = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
        out: list[Finding] = []
        for end_idx, length in self._auto.iter(low):
            start, end = end_idx - length + 1, end_idx + 1
            if (start > 0 and low[start - 1].isalnum()) or (end < len(low) and low[end].isalnum()):
                continue
            out.append(Finding(start, end, EntityType.PERSON, 0.95, self.name, "exact_name", True, "directory"))
        return out


_NEXT_WORD = re.compile(r"[ \t]+([^\W\d_]+)")
_NON_SPACE = re.compile(r"\S+")


def _is_noun(word: str, parts: list[str], nouns: frozenset[str]) -> bool:
    """An ordinary German noun, or a compound of nouns and acronyms ("Steuer-ID")."""
    if word in nouns:
        return True
    return len(parts) > 1 and any(p in nouns for p in parts) and all(p in nouns or p.isupper() for p in parts)


def _unsupported_words(text: str, run: list[tuple[int, int]], kinds: str, plain: Callable[[str], str]) -> str:
    """`kinds` with the words no name supports turned into stop words ("S").

    A German noun (N) can be a surname only after a word of a name (a given, family, directory
    or unknown name, a title, an initial, but not a German article: "Gilbert Koch", "Herr
    Koch", "Rudolf Müller", "Hans-H. Ring", not "Der Koch") or after a cue ("Thanks Koch",
    "with Koch"); then it counts as it would without the noun list (`plain`: F for a known
    surname, else U). Unknown words and nouns joined by a particle to a given name that
    follows are not part of the name: "Bewerbung von Wolfgang Hamann", "Candidatura di
    Simone Scarpa".
    """
    out = list(kinds)
    i = 0
    while i + 1 < len(run) and kinds[i] in "UN" and kinds[i + 1] in "UN":
        i += 1
    if kinds[i] in "UN" and i + 1 < len(run) and kinds[i + 1] == "G" and text[run[i][1] : run[i + 1][0]] != " ":
        out[: i + 1] = "S" * (i + 1)  # leading words, then a particle, then a given name
    for j, k in enumerate(kinds):
        if k != "N" or out[j] == "S":
            continue
        if j:
            supported = out[j - 1] in "GXTIUF" and text[run[j - 1][0] : run[j - 1][1]] not in _ARTICLES
        else:
            supported = _initial_before(text, run[0][0]) or _cued(text, run[0][0], run[0][1])
        out[j] = plain(text[run[j][0] : run[j][1]]) if supported else "S"
    return "".join(out)


def _initial_before(text: str, start: int) -> bool:
    """An initial ends the word before `start` ("Hans-H. Ring"): a capital letter, a full stop, a space."""
    return start >= 3 and text[start - 2] == "." and text[start - 3].isupper() and text[start - 1] == " "


def _cued(text: str, start: int, end: int) -> bool:
    """A cue word ("thanks", "with") or a form's name label ("Name:") before text[start:end]."""
    if _NAME_LABEL.search(text, max(0, start - 16), start):
        return True
    return bool({"cue before", "weak cue before"} & set(context_score(text, start, end, 1)[1]))


def _joined(word: str) -> bool:
    """True when `word` has parts joined by a hyphen or an apostrophe."""
    return "-" in word or "'" in word or "’" in word


def _name_parts(word: str) -> list[str]:
    """The parts of `word` a lexicon may know: those of two letters or more between hyphens and
    apostrophes, else the word itself."""
    if not _joined(word):
        return [word]
    return [p for p in _PARTS.split(word) if len(p) > 1] or [word]


def _particles_between(gap: str) -> bool:
    """True when `gap` (between two capitalised tokens) starts with a space and holds particles only."""
    return gap[:1] == " " and bool(gap.strip()) and all(w in _PARTICLES for w in gap.split())


def _org_next(text: str, end: int) -> bool:
    m = _NEXT_WORD.match(text[end : end + 24])
    return m is not None and m.group(1).lower() in ORG_WORDS


def _word(tok: str) -> str:
    return tok.rstrip(".").removesuffix("'s").removesuffix("’s")


def _token_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    return [m.span() for m in _NON_SPACE.finditer(text, start, end)]


def _chained(text: str, left_end: int, right_start: int) -> bool:
    """True when only a list separator (comma, "and", "&", "to") lies between the two spans."""
    if not 0 <= right_start - left_end <= 8:
        return False
    m = COORDINATED_AFTER.fullmatch(text, left_end, right_start)
    return m is not None


def directory_tokens(names: Sequence[str]) -> list[str]:
    """The individual given/family tokens of directory names, for the lexicon detector."""
    return sorted({t for n in names if isinstance(n, str) for t in n.split() if len(t) >= 3 and t[0].isupper()})
