"""The context around a candidate name: cues that raise or lower its score, name chains, lower case.

Kept apart from the run scoring in `names.py`: these are the language-facing data
(cue words, surname endings) a reviewer extends for a new language.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = [
    "COORDINATED_AFTER",
    "SURNAME_SHAPE",
    "context_score",
    "lowercase_name_spans",
]

_CUE_BEFORE = re.compile(
    r"(?:\b(?:i'?m|i am|my name is|name is|name's|named|called|call me|calls me|hi|hello|hey|dear|thanks|"
    r"thank you|thx|cc|congrats|congratulations|regards|cheers|sincerely|yours|ft\.?|feat\.?|says|said|"
    r"starring|featuring|directed by|written by|according to|interview with|"
    r"mr\.?|mrs\.?|ms\.?|miss|dr\.?|prof\.?)[\s,:]*|@)$",
    re.IGNORECASE,
)
_WEAK_CUE_BEFORE = re.compile(
    r"\b(?:with|by|from|met|meet|ask|asked|tell|told|love|to|and|mate|friend|brother|sister|wife|husband|son|"
    r"daughter|mom|dad|mother|father|boss|colleague|partner|credit|per|best|assistant|including|under|me)"
    r"[\s,:]*$",
    re.IGNORECASE,
)
#: The longest cue of each pattern ("congratulations", "colleague"), in characters (tested).
_CUE_MAX = 15
_WEAK_CUE_MAX = 9
_CUE_AFTER = re.compile(
    r"^(?:'s\b|’s\b|\s+(?:said|says|wrote|writes|told|asked|replied|thinks|posted|shared|is|was|and i|who|"
    r"here|from|began|has|had|did|went|came|lives|lived|works|worked|loves|made|got|listed|joined|"
    r"\(|,\s*(?:ceo|cto|founder|manager|engineer|director))|[,:]?\s*$|,\s*\n|\s*\n|:[ \t])",
    re.IGNORECASE,
)
_NOT_PERSON_AFTER = re.compile(
    r"\s+(?:Inc|Ltd|LLC|Corp|Corporation|GmbH|PLC|AG|SA|Co|Company|Group|University|College|School|Bank|"
    r"Hospital|Street|St|Road|Rd|Avenue|Ave|Lane|Drive|Boulevard|Foundation|Institute|Museum|Airport|"
    r"Station|Park|Hotel|Restaurant|Cafe|Café|Church|River|Lake|Mountain|Island|County|City|Building|Center|"
    r"Centre|Hall|Tower|Bridge|Square|Stadium|Award|Prize|Act|Law|Day|Holdings|Trust|Fund|Partners|Capital|"
    r"Industries|Systems|Technologies|Bancorp|Limited)\b"
)
_NON_SPACE = re.compile(r"\S+")
_LINE_ALONE = re.compile(r"[ \t]*(?:\r?\n|$)")

#: Family-name endings across languages (patronymics, Slavic, Baltic, Greek, Armenian, Georgian, Nordic).
SURNAME_SHAPE = re.compile(
    r"(?:[^\W\d_]{2,}(?:dóttir|dottir|sdóttir|sson|ssen|sen|son|ović|ovic|ević|evic|vić|ić|ovich|evich|ovna|evna|"
    r"owski|owska|ewski|ewska|inski|inska|ński|ńska|ski|ska|sky|skaya|skiy|cki|cka|wicz|czyk|czak|enko|"
    r"chuk|escu|eanu|poulos|opoulou|akis|idis|ides|oglu|oğlu|yan|ian|shvili|dze|ová|ov|ova|ev|eva|yev|yeva|"
    r"yenko|aitis|aite|iene|ytė|ien|ssen|berg|stein|mann|feld))$"
)

#: After a name: a comma, "and", "&" or "to" and the next capitalised name of a chain.
COORDINATED_AFTER = re.compile(r"(?:[ \t]*,[ \t]*(?:and[ \t]+)?|[ \t]+(?:and|&|or|to|y|und|et|e|i)[ \t]+)")

_LOWER_CUES = (
    r"(?:my name is|name's|i'm|i am|call me|this is|thanks|thank you|dear|hi|hello|mr\.?|mrs\.?|ms\.?|"
    r"dr\.?|regards,?|cheers,?)[ \t]"
)
_LOWER_CUE = re.compile(
    rf"\b{_LOWER_CUES}+((?:[a-zà-öø-ÿ][a-zà-öø-ÿ'’-]{{1,30}})(?:[ \t]+[a-zà-öø-ÿ][a-zà-öø-ÿ'’-]{{1,30}})?)"
    r"(?![\w'’-])"
)
#: Where `_LOWER_CUE` can match: its cue without the word boundary before it, a search that `re`
#: runs several times faster (it starts from the cues' first letters).
_LOWER_CUE_HINT = re.compile(_LOWER_CUES)


def context_score(text: str, start: int, end: int, known: int) -> tuple[float, list[str]]:
    """The score change the words around text[start:end] give, and the notes explaining it."""
    delta, notes = 0.0, []
    lo = max(0, start - 24)
    j = _cue_end(text, lo, start)
    pos = max(lo, j - _CUE_MAX)
    before = text[pos:j]
    strong = weak = True
    if before.isascii():  # the searches below can only match where a cue's spelling ends at j
        low = before.lower()
        strong, weak = low.endswith(_CUE_SPELLINGS) or "@" in text[pos:start], low.endswith(_WEAK_CUE_SPELLINGS)
    if strong and _CUE_BEFORE.search(text, pos, start):
        delta, notes = 0.3, ["cue before"]
    elif weak and _WEAK_CUE_BEFORE.search(text, max(lo, j - _WEAK_CUE_MAX), start):
        delta, notes = 0.15, ["weak cue before"]
    elif (start == 0 or text[start - 1] == "\n") and _LINE_ALONE.match(text, end) and " " in text[start:end]:
        delta, notes = 0.3, ["a line of its own"]
    elif _CUE_AFTER.match(text[end : end + 24]):
        delta, notes = 0.15, ["cue after"]
    if _NOT_PERSON_AFTER.match(text, end) is not None:
        delta -= 0.5
        notes.append("organisation/place cue")
    elif start >= 4 and text[start - 4 : start].lower() == "the ":
        delta -= 0.3 if known >= 2 else 0.5
        notes.append("'the' before")
    return delta, notes


def _spellings(rx: re.Pattern[str]) -> tuple[str, ...]:
    """Every spelling of the cue words in `rx` (``\\b(?:a|b'?c|d\\.?)[\\s,:]*``), optional characters
    both ways, in lower case: ``("a", "b'c", "bc", "d.", "d")``."""
    words = rx.pattern.split(r"\b(?:", 1)[1].rsplit(r")[\s,:]*", 1)[0]
    out: list[str] = []
    for alt in words.split("|"):
        forms, i = [""], 0
        while i < len(alt):
            ch, i = (alt[i + 1], i + 2) if alt[i] == "\\" else (alt[i], i + 1)
            optional = alt[i : i + 1] == "?"
            forms = [f + ch for f in forms] + (forms if optional else [])
            i += optional
        out += forms
    return tuple(out)


#: The cue patterns' words spelled out: on ASCII text a pattern matches before a name only when
#: one of them ends where `_cue_end` says (or, for `_CUE_BEFORE`, an "@" is there).
_CUE_SPELLINGS = _spellings(_CUE_BEFORE)
_WEAK_CUE_SPELLINGS = _spellings(_WEAK_CUE_BEFORE)


def _cue_end(text: str, lo: int, start: int) -> int:
    """Where a cue word before `start` must end: back over the `[\\s,:]` run the cue patterns allow.

    Both cue patterns end in a word (its last character never `[\\s,:]`, nor is "@"), then
    `[\\s,:]*$`; so a match starts at most `_CUE_MAX` / `_WEAK_CUE_MAX` characters before this
    point, and searching from there finds exactly what a search from `lo` finds, in fewer steps.
    """
    j = start
    while j > lo and (text[j - 1].isspace() or text[j - 1] in ",:"):
        j -= 1
    return j


def lowercase_name_spans(text: str, is_name: Callable[[str], bool]) -> list[tuple[int, int]]:
    """Lower-case names right after a strong cue ("my name is john smith"), when the lexicon knows them."""
    out: list[tuple[int, int]] = []
    if _LOWER_CUE_HINT.search(text) is None:
        return out
    for m in _LOWER_CUE.finditer(text):
        end = None
        for w in _NON_SPACE.finditer(m.group(1)):
            if not is_name(w.group()):
                break
            end = m.start(1) + w.end()
        if end is not None:
            out.append((m.start(1), end))
    return out
