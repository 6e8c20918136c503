"""Detectors whose rules depend on the record's language: the hook the scrubber calls them through.

A `LocalizedDetector` declares what every text it can find something in contains
(`scan_expressions`), and is asked, per such text, with the language profiles that apply to
it (`consentry.scrub.languages.profiles_for`) and the phone region (the member's
country, else the language's). Called without them (`detect`), it applies every
profile's rules and no region: the rules for an undecided language.
"""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Iterable, Sequence

from consentry.scrub.detectors.base import Detector
from consentry.scrub.findings import Finding
from consentry.scrub.languages import LanguageProfile, load_profiles

__all__ = ["LocalizedDetector", "words_before", "words_regex"]


class LocalizedDetector(Detector):
    """A detector applying the local rules of the language profiles it is given."""

    #: Asked even when no profile applies and no country is known (English text, no hint): for rules
    #: that need none, such as identifiers named in the text or of a format no other use shares.
    unhinted: bool = False

    @abstractmethod
    def detect_local(self, text: str, profiles: Sequence[LanguageProfile], region: str | None) -> list[Finding]:
        """Findings in `text` under `profiles`' rules, phone numbers read in `region`."""

    def scan_expressions(self) -> Sequence[tuple[str, int]]:
        """Expressions (Python `re` syntax and flags) one of which matches in every text this
        detector finds anything in, under any profiles and region: the scrubber scans for them
        all at once (Hyperscan) and asks the detector only about the texts where one occurs.
        Empty (the default): it is asked about every text."""
        return ()

    def detect(self, text: str) -> list[Finding]:
        """Findings under every profile's rules (an undecided language), no phone region."""
        return self.detect_local(text, tuple(load_profiles().values()), None)


def words_regex(words: Iterable[str], flags: int = re.IGNORECASE) -> re.Pattern[str]:
    """A regex matching any of `words` as whole words (longest first)."""
    alts = "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alts})(?!\w)", flags)


def words_before(rx: re.Pattern[str], text: str, start: int, window: int = 40) -> bool:
    """True when `rx` matches within `window` characters before `start`."""
    return rx.search(text, max(0, start - window), start) is not None
