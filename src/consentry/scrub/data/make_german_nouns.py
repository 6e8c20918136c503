"""Derive `german_nouns.txt.gz`: ordinary German nouns, in every inflected form, as written (capitalised).

Run at development time only; the output is committed as package data:

    pip install german-nouns wordfreq       # into any scratch environment, not the project's
    python src/consentry/scrub/data/make_german_nouns.py

German capitalises every noun, so "Der Koch", "Fischer und Bauern", "Bewerbung von …" or
"Folien:" look like names to a detector that reads capitalisation. The name detector treats a
word of this list as a surname only when a known given name comes right before it ("Gilbert
Koch"), a title ("Herr Koch") or a strong cue ("Thanks Koch") supports it.

Sources: the nouns of the German Wiktionary as the `german-nouns` package extracts them
(entries whose only part of speech is "Substantiv": proper nouns such as surnames, given names
and places are separate entries and stay out, though "Koch" the cook is in), every inflected
form of each; kept when `wordfreq` finds the word frequent in German (Zipf ≥ 2.5, about once
in 3 million words), which leaves rare compounds out; given names of the shipped lexicon
("Mark", "Hans", "Rose") are names first and stay out. Licences: see NOTICE.german_nouns.txt.
"""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

DATA = Path(__file__).resolve().parent
MIN_ZIPF = 2.5


def nouns() -> list[str]:
    """The sorted, capitalised noun forms that are frequent in German and not given names."""
    import german_nouns.config  # type: ignore[import-not-found]
    from wordfreq import zipf_frequency  # type: ignore[import-not-found]

    forms: set[str] = set()
    with open(german_nouns.config.CSV_FILE_PATH, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if set(row["pos"].split(",")) != {"Substantiv"}:
                continue
            for key, value in row.items():
                if key != "pos" and not key.startswith("genus") and value and value[0].isupper():
                    forms.add(value)
    given = set(gzip.decompress((DATA / "given_names.txt.gz").read_bytes()).decode("utf-8").split())
    return sorted(w for w in forms if w.isalpha() and w not in given and zipf_frequency(w.lower(), "de") >= MIN_ZIPF)


def main() -> None:
    """Write the list, one word a line."""
    words = nouns()
    (DATA / "german_nouns.txt.gz").write_bytes(gzip.compress(("\n".join(words) + "\n").encode(), mtime=0))
    print(f"{len(words)} German nouns")


if __name__ == "__main__":
    main()
