"""The languages' local rules: language per record, national ids, local phones, addresses, dates, names.

Small hand-written texts per language; the seeded per-language corpora live in bench/.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consentry.scrub import Scrubber
from consentry.scrub.detectors.local_formats import LocalFormatDetector
from consentry.scrub.detectors.local_names import LocalNameDetector
from consentry.scrub.detectors.local_phones import LocalPhoneDetector
from consentry.scrub.detectors.national_ids import NationalIdDetector
from consentry.scrub.entities import EntityType as E
from consentry.scrub.entities import scored_as
from consentry.scrub.languages import (
    _FUNCTION_WORDS,
    _LETTER,
    _WORD,
    LanguageIdentifier,
    _three_different,
    _words,
    load_profiles,
    profiles_for,
    region_for,
)
from consentry.scrub.local_rules import count_languages

KEY = b"k" * 32


@pytest.fixture(scope="module")
def scrubber() -> Scrubber:
    return Scrubber(key=KEY)


@pytest.fixture(scope="module")
def identifier() -> LanguageIdentifier:
    return LanguageIdentifier()


def _spans(findings: list, text: str) -> set[tuple[str, str]]:  # type: ignore[type-arg]
    return {(text[f.start : f.end], f.entity.value) for f in findings}


# --- language per record -------------------------------------------------------------------------

LANGUAGE_TEXTS = [
    ("Ich wohne seit zwei Jahren in der Hauptstraße und fahre jeden Tag mit dem Rad zur Arbeit.", "de"),
    ("Je suis allée au marché ce matin avec ma sœur, il faisait très beau.", "fr"),
    ("Ayer fuimos al cine con mis amigos y después cenamos en un restaurante.", "es"),
    ("Ontem fomos ao cinema com os amigos e depois jantamos num restaurante.", "pt-BR"),
    ("Ieri siamo andati al cinema con gli amici e poi abbiamo cenato fuori.", "it"),
    ("Gisteren zijn we met vrienden naar de bioscoop geweest en daarna uit eten.", "nl"),
    ("Kal Rahul ji se baat hui, bahut accha laga yaar.", "en-IN"),
    ("मेरा नाम राहुल है और मैं दिल्ली में रहता हूँ", "en-IN"),
    ("Yesterday we went to the cinema with friends and had dinner afterwards.", "en"),
]


@pytest.mark.parametrize(("text", "code"), LANGUAGE_TEXTS, ids=[c for _, c in LANGUAGE_TEXTS])
def test_each_language_is_identified(identifier: LanguageIdentifier, text: str, code: str) -> None:
    assert identifier.identify(text) == code


@pytest.mark.parametrize(
    "ids",
    [
        ("eccbc87e4b5ce2fe28308fd9f2a7baf3", "a87ff679a2f3e71d9181a67b7542122c", "3c59dc048e8850243be8079a5c74d079"),
        ("c51ce410c124a10e0db5e4b97fc2af39", "aab3238922bcc25a6f606eb525ffdc56", "54229abfcfa5649e7003b83dd4755294"),
        ("order #A1B2C3", "at 10am", "room 4b"),
    ],
)
def test_tokens_holding_a_digit_are_not_words(identifier: LanguageIdentifier, ids: tuple[str, ...]) -> None:
    # the letters of hashes and ids ("be", "da", "fa" in an md5 word) must not vote for a language
    text = "Merci pour la soirée, et à bientôt chez nous avec les enfants"
    mixed = f"{ids[0]} {text[:30]} {ids[1]} {text[30:]} {ids[2]}"
    assert identifier.identify(mixed) == identifier.identify(text) == "fr"
    words = _words(mixed)[0]
    assert "merci" in words and not any(w in words for w in ("be", "da", "fa", "am", "b", "ccbc"))


def test_short_text_falls_back_to_the_members_country_else_und(identifier: LanguageIdentifier) -> None:
    assert identifier.identify("ok 👍") == "und"
    assert identifier.identify("ok 👍", "DE") == "de"
    assert identifier.identify("ok 👍", "br") == "pt-BR"
    assert identifier.identify("ok 👍", "US") == "en"
    assert identifier.identify("ok 👍", "BE") == "und"  # French or Dutch: undecided
    english = "Yesterday we went to the cinema with friends and had dinner afterwards."
    assert identifier.identify(english, "IN") == "en-IN"


def test_und_applies_every_profile_and_a_country_adds_its_own() -> None:
    every = {p.code for p in load_profiles().values()}
    assert {p.code for p in profiles_for("und")} == every == {"de", "fr", "es", "pt-BR", "it", "nl", "en-IN"}
    assert profiles_for("en") == ()
    assert [p.code for p in profiles_for("en", "DE")] == ["de"]
    assert [p.code for p in profiles_for("fr", "BR")] == ["fr", "pt-BR"]
    assert region_for("fr", None) == "FR" and region_for("fr", "be") == "BE" and region_for("und", None) is None


# --- national identifiers: stdnum decides --------------------------------------------------------

IDS = [
    ("de", "Meine Steuer-ID ist {}.", "36574261809", "36574261808", E.DE_TAX_ID),
    ("de", "Steuer-IdNr: {}", "36 574 261 809", "36 574 261 808", E.DE_TAX_ID),
    ("fr", "Mon numéro de sécurité sociale : {}", "2 95 10 99 126 111 93", "2 95 10 99 126 111 94", E.FR_NIR),
    ("es", "Mi DNI es {}", "12345678Z", "12345678A", E.ES_DNI),
    ("es", "NIE {}", "X1234567L", "X1234567A", E.ES_NIE),
    ("pt-BR", "Meu CPF é {}", "111.444.777-35", "111.444.777-36", E.BR_CPF),
    ("pt-BR", "CNPJ da empresa: {}", "11.222.333/0001-81", "11.222.333/0001-82", E.BR_CNPJ),
    ("it", "Il mio codice fiscale è {}", "RSSMRA85T10A562S", "RSSMRA85T10A562T", E.IT_FISCAL_CODE),
    ("nl", "Mijn BSN is {}", "111222333", "111222334", E.NL_BSN),
    ("en-IN", "My Aadhaar number is {}", "2345 6789 0124", "2345 6789 0125", E.IN_AADHAAR),
    ("en-IN", "PAN card: {}", "ABCPE1234F", "ABCPE1234", E.IN_PAN),
]


@pytest.mark.parametrize(("code", "template", "valid", "invalid", "entity"), IDS, ids=[i[2] for i in IDS])
def test_national_ids_valid_found_invalid_checksum_not(
    code: str, template: str, valid: str, invalid: str, entity: E
) -> None:
    det = NationalIdDetector(frozenset(E))
    profiles = profiles_for(code)
    good, bad = template.format(valid), template.format(invalid)
    found = det.detect_local(good, profiles, None)
    assert _spans(found, good) == {(valid, entity.value)}
    assert found[0].validated is True and "stdnum" in found[0].explanation
    assert det.detect_local(bad, profiles, None) == []
    # English rules, the scheme not named: not checked
    if entity is not E.IN_PAN:  # a PAN is checked in every record (`IdScheme.anywhere`)
        assert det.detect_local(f"number {valid}", profiles_for("en"), None) == []


def test_low_prior_ids_need_their_word(scrubber: Scrubber) -> None:
    det = NationalIdDetector(frozenset(E))
    assert det.detect_local("Rechnung 36574261809 bezahlt", profiles_for("de"), None) == []
    assert det.detect_local("Bestelling 111222333 verzonden", profiles_for("nl"), None) == []


def test_the_scrubber_tags_the_scheme_and_evaluation_scores_it_as_a_national_id(scrubber: Scrubber) -> None:
    text = "Hallo, meine Steuer-ID ist 36574261809, bitte nicht weitergeben."
    assert "<DE_TAX_ID>" in scrubber.scrub_text(text) and "36574261809" not in scrubber.scrub_text(text)
    assert scored_as("DE_TAX_ID") == "NATIONAL_ID" and scored_as("EMAIL") == "EMAIL"


# --- phones: the region hint -----------------------------------------------------------------------

PHONES = [
    ("DE", "Festnetz 030 12345678 abends", "030 12345678"),
    ("FR", "Portable 06 12 34 56 78 merci", "06 12 34 56 78"),
    ("ES", "Móvil 612 34 56 78 gracias", "612 34 56 78"),
    ("BR", "Celular (11) 91234-5678 valeu", "(11) 91234-5678"),
    ("IT", "Cellulare 333 123 4567 grazie", "333 123 4567"),
    ("NL", "Mobiel 06-12345678 bedankt", "06-12345678"),
    ("IN", "Mobile 98765 43210 please", "98765 43210"),
]


@pytest.mark.parametrize(("region", "text", "number"), PHONES, ids=[p[0] for p in PHONES])
def test_local_phones_valid_in_the_hinted_region(region: str, text: str, number: str) -> None:
    det = LocalPhoneDetector()
    found = det.detect_local(text, (), region)
    assert _spans(found, text) == {(number, "PHONE")}
    assert region in found[0].explanation


def test_phones_without_a_hint_use_the_languages_regions_or_need_a_country_code() -> None:
    det = LocalPhoneDetector()
    assert _spans(det.detect_local("Ruf an: 030 12345678", profiles_for("de"), None), "Ruf an: 030 12345678")
    assert det.detect_local("Festnetz 030 12345678", (), None) == []  # no region: national numbers unread
    text = "call +49 30 12345678"
    assert _spans(det.detect_local(text, (), None), text) == {("+49 30 12345678", "PHONE")}
    assert det.detect_local("am 03.04.1985 um 12:00", profiles_for("und"), None) == []  # a date is no phone


def test_a_phone_numbers_extension_is_part_of_it(scrubber: Scrubber) -> None:
    text = "Call me back at 821.564.7100x10934 or (283) 423-7523 ext. 12 today."
    phones = {text[f.start : f.end] for f in scrubber.detect(text, country="US") if f.entity is E.PHONE}
    assert phones == {"821.564.7100x10934", "(283) 423-7523 ext. 12"}


def test_the_scrubber_reads_a_hinted_number_without_any_phone_word(scrubber: Scrubber) -> None:
    text = "Sí, el 612 34 56 78 es el mío"
    assert [f.entity for f in scrubber.detect(text, "ES")] == [E.PHONE]


# --- addresses and dates of birth ------------------------------------------------------------------

ADDRESSES = [
    ("de", "Ich wohne in der Hauptstraße 12, 10115 Berlin seit Mai.", "Hauptstraße 12, 10115 Berlin"),
    ("fr", "J'habite au 12 rue de la Paix, 75002 Paris depuis mai.", "12 rue de la Paix, 75002 Paris"),
    ("es", "Vivo en Calle Mayor 5, 28013 Madrid desde mayo.", "Calle Mayor 5, 28013 Madrid"),
    (
        "pt-BR",
        "Moro na Rua Augusta 100, São Paulo - SP, 01305-000 agora.",
        "Rua Augusta 100, São Paulo - SP, 01305-000",
    ),
    ("it", "Abito in Via Roma 3, 00184 Roma da maggio.", "Via Roma 3, 00184 Roma"),
    ("nl", "Ik woon op Kerkstraat 5, 1017 GC Amsterdam sinds mei.", "Kerkstraat 5, 1017 GC Amsterdam"),
    ("en-IN", "I stay at 12, MG Road, Bengaluru 560001 now.", "12, MG Road, Bengaluru 560001"),
    # street types, units, particles and hyphens of each language
    ("de", "Neu: Zofia-Sorgatz-Straße 1/1, 84453 Mühldorf am Inn.", "Zofia-Sorgatz-Straße 1/1, 84453 Mühldorf am Inn"),
    ("nl", "Verhuisd naar Irisdreef 60, 7272XB, Krimpen aan de Lek.", "Irisdreef 60, 7272XB, Krimpen aan de Lek"),
    ("fr", "Domiciliée avenue Victoire Denis, 30791 Saint-Malo.", "avenue Victoire Denis, 30791 Saint-Malo"),
    (
        "it",
        "Residente in Vicolo Salgari, 45 Appartamento 80, 60039, Staffolo (AN).",
        "Vicolo Salgari, 45 Appartamento 80, 60039, Staffolo (AN)",
    ),
    (
        "es",
        "Domicilio en Glorieta de Tadeo Alcalá 36 Piso 3, La Coruña, 17186.",
        "Glorieta de Tadeo Alcalá 36 Piso 3, La Coruña, 17186",
    ),
    (
        "pt-BR",
        "Residente em Favela Aparecida, 13, Itatiaia, 12075416 Costela das Pedras / PR.",
        "Favela Aparecida, 13, Itatiaia, 12075416 Costela das Pedras / PR",
    ),
    (
        "pt-BR",
        "Mudamos: Rua de Sampaio, Vila Do Pombal, 68233-326 da Paz / MS.",
        "Rua de Sampaio, Vila Do Pombal, 68233-326 da Paz / MS",
    ),
]


@pytest.mark.parametrize(("code", "text", "address"), ADDRESSES, ids=[a[0] for a in ADDRESSES])
def test_local_addresses_with_postcode_and_city(code: str, text: str, address: str) -> None:
    det = LocalFormatDetector(frozenset(E))
    assert (address, "STREET_ADDRESS") in _spans(det.detect_local(text, profiles_for(code), None), text)


BIRTHS = [
    ("de", "Ich bin geboren am 3. März 1985 in Köln.", "3. März 1985"),
    ("fr", "Je suis né le 3 mars 1985 à Lyon.", "3 mars 1985"),
    ("es", "Nací el 3 de marzo de 1985 en Sevilla.", "3 de marzo de 1985"),
    ("pt-BR", "Nasci em 3 de março de 1985.", "3 de março de 1985"),
    ("it", "Sono nata il 3 marzo 1985 a Napoli.", "3 marzo 1985"),
    ("nl", "Geboren op 3 maart 1985 in Utrecht.", "3 maart 1985"),
    ("en-IN", "DOB: 25/12/1985 as per my PAN card", "25/12/1985"),
    ("nl", "Geboortedatum: 03-04-1985", "03-04-1985"),
]


@pytest.mark.parametrize(("code", "text", "date"), BIRTHS, ids=[f"{b[0]}-{b[2]}" for b in BIRTHS])
def test_local_dates_of_birth(code: str, text: str, date: str) -> None:
    det = LocalFormatDetector(frozenset(E))
    assert _spans(det.detect_local(text, profiles_for(code), None), text) == {(date, "DATE_OF_BIRTH")}


def test_dates_are_read_day_first_and_need_a_birth_word() -> None:
    det = LocalFormatDetector(frozenset(E))
    assert det.detect_local("geboren am 12/25/1985", profiles_for("de"), None) == []  # month 25: not day first
    # undecided: either order may be meant, so a date valid read month first is still a birth date
    assert _spans(det.detect_local("born 12/25/1985", profiles_for("und"), None), "born 12/25/1985")
    assert det.detect_local("Termin am 3. März 1985 im Büro", profiles_for("de"), None) == []
    assert det.detect_local("geboren am 31. Februar 1985", profiles_for("de"), None) == []


# --- names: cues, particles and accents ------------------------------------------------------------

NAMES = [
    ("de", "Ich war gestern mit Jürgen Müller im Kino.", "Jürgen Müller"),
    ("fr", "Dîner avec Jean-Luc de la Fontaine ce soir.", "Jean-Luc de la Fontaine"),
    ("fr", "Un message de la part de Marie Dubois pour toi.", "Marie Dubois"),
    ("es", "Fui al cine con Ana María García López ayer.", "Ana María García López"),
    ("it", "Ieri sono uscita con Giulia D'Angelo.", "Giulia D'Angelo"),
    ("nl", "Gisteren met Pieter van der Berg gegeten.", "Pieter van der Berg"),
    ("pt-BR", "Fui ao cinema com João da Silva.", "João da Silva"),
    ("en-IN", "Kal Rahul ji ne call kiya tha.", "Rahul"),
    # a birthday wish is a cue; a given name after a word and a particle starts a name (though a country ends it)
    ("es", "¡Feliz cumpleaños, Cesar! Nacido el 26/12/1973.", "Cesar"),
    ("es", "Solicitud de Alejo Montenegro, recibida ayer.", "Alejo Montenegro"),
]


@pytest.mark.parametrize(("code", "text", "name"), NAMES, ids=[n[2] for n in NAMES])
def test_names_with_particles_and_accents_after_local_cues(code: str, text: str, name: str) -> None:
    found = LocalNameDetector().detect_local(text, profiles_for(code), None)
    assert (name, "PERSON") in _spans(found, text)


def test_capitalised_nouns_after_a_cue_are_not_names() -> None:
    det = LocalNameDetector()
    assert det.detect_local("Ich war mit Freunden im Kino.", profiles_for("de"), None) == []
    assert det.detect_local("Je viens avec Plaisir.", profiles_for("fr"), None) == []


def test_the_scrubber_replaces_a_particle_name_whole(scrubber: Scrubber) -> None:
    text = "Gisteren met Pieter van der Berg gegeten."
    out = scrubber.scrub_text(text)
    assert "Pieter" not in out and "Berg" not in out and out.endswith(" gegeten.")


# --- counts per language -----------------------------------------------------------------------------


def test_scrub_batch_counts_records_and_detections_per_language(scrubber: Scrubber) -> None:
    texts = [
        "Ich wohne in der Hauptstraße 12, 10115 Berlin und meine Steuer-ID ist 36574261809.",
        "Yesterday we went to the cinema with friends and had dinner afterwards.",
        "ok",
        None,
    ]
    res = scrubber.scrub_batch(texts, ["DE", "US", "BR", None])
    german = scrubber.detect(texts[0] or "", "DE")
    assert {E.STREET_ADDRESS, E.DE_TAX_ID} <= {f.entity for f in german}
    assert res.languages == {
        "de": {"records": 1, "detections": len(german)},
        "pt-BR": {"records": 1, "detections": 0},
        "en": {"records": 1, "detections": 0},
    }
    assert list(res.languages) == ["de", "pt-BR", "en"]  # the manifest's order
    assert count_languages([("und", 1), ("und", 2)]) == {"und": {"records": 2, "detections": 3}}


def test_a_scheme_named_in_the_text_is_checked_whatever_the_language() -> None:
    det = NationalIdDetector(frozenset(E))
    text = "my codice fiscale: RSSMRA85T10A562S"  # English by a member in the US
    assert _spans(det.detect_local(text, profiles_for("en"), "US"), text) == {("RSSMRA85T10A562S", "IT_FISCAL_CODE")}
    assert det.detect_local("my code: RSSMRA85T10A562S", profiles_for("en"), "US") == []


def test_the_local_rules_digest_is_the_same_in_every_process() -> None:
    # the scrubber's version (manifest, cache keys) must not depend on the process's hash seed
    import os
    import subprocess
    import sys

    code = "from consentry.scrub.local_rules import local_rules_digest; print(local_rules_digest())"
    digests = {
        subprocess.run(
            [sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True, text=True
        ).stdout
        for seed in ("1", "2")
    }
    assert len(digests) == 1 and digests != {""}


def test_no_function_word_belongs_to_two_languages() -> None:
    words = [w for fw in _FUNCTION_WORDS.values() for w in fw]
    assert len(words) == len(set(words))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("aZ'’ .,-_9\tß"), max_size=60) | st.text(max_size=60))
def test_the_word_split_finds_the_words_and_letters_the_regexes_find(text: str) -> None:
    words, letters = _words(text)
    kept = " ".join(t for t in text.lower().split() if re.search(r"\d", t) is None)  # tokens without a digit
    assert words == _WORD.findall(kept)
    assert _three_different(words) == (len(set(words)) >= 3)
    assert letters is None or letters == len(_LETTER.findall(kept))


def test_indian_ids_of_an_unambiguous_form_need_no_hint(scrubber: Scrubber) -> None:
    # English text, no member country: a PAN (shape and holder type) anywhere, an Aadhaar after its name
    text = "Updated my details: ref GESBY0199C, Aadhaar 2345 6789 0124."
    found = {text[f.start : f.end]: scored_as(f.entity) for f in scrubber.detect(text)}
    assert found == {"GESBY0199C": "NATIONAL_ID", "2345 6789 0124": "NATIONAL_ID"}
    assert scrubber.detect("Order ref GESBY0199 shipped, code ABCDE12345.") == []  # no PAN shape


def test_a_birth_word_of_another_language_brings_its_dates() -> None:
    det = LocalFormatDetector(frozenset(E))
    text = "Candidatura di Nicolò Geraci, nato il 8 ottobre 1985, residente a Roma."
    assert _spans(det.detect_local(text, profiles_for("pt-BR"), None), text) == {("8 ottobre 1985", "DATE_OF_BIRTH")}


@pytest.mark.parametrize(
    ("code", "text", "name"),
    [
        ("en-IN", "mera naam priya sharma hai, pune se", "priya sharma"),
        ("fr", "salut, je m'appelle marie", "marie"),
        ("nl", "mijn naam is jan de vries", "jan"),
    ],
)
def test_lower_case_names_after_a_naming_phrase(code: str, text: str, name: str) -> None:
    assert (name, "PERSON") in _spans(LocalNameDetector().detect_local(text, profiles_for(code), None), text)


def test_a_naming_phrase_in_a_question_names_no_one() -> None:
    assert LocalNameDetector().detect_local("mera naam kya hai?", profiles_for("en-IN"), None) == []
