"""Labelled posts in the members' languages, generated from Faker's locales with a seed.

    .venv/bin/python -m bench.corpora.multilingual --n 200 --seed 42 --out corpus.jsonl

One corpus per language (de, fr, es, pt-BR, it, nl, Indian English / Hinglish, US English):
short posts, comments and messages written in the language, with gold spans for names
(particles and accents as Faker's locales give them), local phone numbers (kept only
when `phonenumbers` reads them as valid for the country), street addresses, dates of
birth in local formats, e-mail addresses and national identifiers that pass their
checksum (`python-stdnum`): Steuer-IdNr, NIR, DNI/NIE, CPF, codice fiscale, BSN,
Aadhaar and PAN, US SSN. Faker's de_DE `ssn` is not a Steuer-IdNr and most of its
en_IN `aadhaar_id` values fail Verhoeff, so those two are drawn here and completed
with stdnum's check digit.

About a fifth of each language's texts are negatives: no personal data at all, or
only a link, made of words a name detector could mistake for names (sentence-initial
capitalised nouns, "Slides:", "Season", English plurals, German nouns that are also
surnames: "Der Koch", "Schneider, Weber und Müller", "Steuer-ID"). Any redaction there is a
false positive.

Each text carries its member's country (DE, FR, ES, BR, IT, NL, IN, US), which a build
passes to the scrubber as the region hint of its local rules.

Each line: ``{"lang", "country", "kind", "text", "spans": [{"start", "end", "label"}]}``,
the format ``consentry scrub eval --corpus`` reads.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import phonenumbers
from faker import Faker
from stdnum.de import idnr
from stdnum.in_ import aadhaar
from stdnum.iso7064 import mod_11_10
from stdnum.verhoeff import calc_check_digit as verhoeff_check

#: Our language code → (Faker locale, the members' country: phone region and the scrubber's hint).
LANGUAGES: dict[str, tuple[str, str]] = {
    "de": ("de_DE", "DE"),
    "fr": ("fr_FR", "FR"),
    "es": ("es_ES", "ES"),
    "pt-BR": ("pt_BR", "BR"),
    "it": ("it_IT", "IT"),
    "nl": ("nl_NL", "NL"),
    "en-IN": ("en_IN", "IN"),
    "en": ("en_US", "US"),
}

_MONTHS = {
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    "pt-BR": "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro",
    "it": "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre",
    "nl": "januari februari maart april mei juni juli augustus september oktober november december",
    "en-IN": "January February March April May June July August September October November December",
    "en": "January February March April May June July August September October November December",
}
_DATE_FORMATS = {
    "de": ["{d:02}.{m:02}.{y}", "{d}. {month} {y}"],
    "fr": ["{d:02}/{m:02}/{y}", "{d} {month} {y}"],
    "es": ["{d:02}/{m:02}/{y}", "{d} de {month} de {y}"],
    "pt-BR": ["{d:02}/{m:02}/{y}", "{d} de {month} de {y}"],
    "it": ["{d:02}/{m:02}/{y}", "{d} {month} {y}"],
    "nl": ["{d:02}-{m:02}-{y}", "{d} {month} {y}"],
    "en-IN": ["{d:02}/{m:02}/{y}", "{d} {month} {y}"],
    "en": ["{m:02}/{d:02}/{y}", "{month} {d}, {y}"],
}

#: Per language: templates with slots {name} {first} {phone} {email} {address} {dob} {id}.
TEMPLATES: dict[str, list[str]] = {
    "de": [
        "Danke {name} für den tollen Vortrag gestern in München!",
        "Ich bin {name}, erreichbar unter {phone} oder {email}.",
        "Unser Büro ist umgezogen: {address}. Kommt vorbei!",
        "Alles Gute zum Geburtstag, {first}! Geboren am {dob} und immer noch jung.",
        "Meine Steuer-ID ist {id}, bitte für die Abrechnung verwenden.",
        "Treffen mit {name} am Freitag, Rückruf bitte an {phone}.",
        "Bewerbung von {name}, geb. {dob}, wohnhaft {address}.",
        "Kannst du {first} die Rechnung an {email} schicken? Gruß, {name}",
    ],
    "fr": [
        "Merci à {name} pour la belle présentation d'hier à Lyon !",
        "Je suis {name}, joignable au {phone} ou par mail {email}.",
        "Nos bureaux ont déménagé : {address}. Passez nous voir !",
        "Joyeux anniversaire {first} ! Né le {dob}, toujours aussi jeune.",
        "Mon numéro de sécurité sociale est {id}, merci de le garder pour vous.",
        "Réunion avec {name} vendredi, rappelez-moi au {phone}.",
        "Candidature de {name}, née le {dob}, domiciliée {address}.",
        "Tu peux envoyer la facture à {email} ? Bises, {first}",
    ],
    "es": [
        "¡Gracias a {name} por la charla de ayer en Madrid!",
        "Soy {name}, me podéis llamar al {phone} o escribir a {email}.",
        "Nos mudamos a {address}. ¡Pasad a tomar un café!",
        "¡Feliz cumpleaños, {first}! Nacida el {dob} y sigue igual de joven.",
        "Mi DNI es {id}, lo necesitan para la reserva.",
        "Reunión con {name} el viernes, llamadme al {phone}.",
        "Solicitud de {name}, fecha de nacimiento {dob}, domicilio en {address}.",
        "¿Puedes mandar la factura a {email}? Un abrazo, {name}",
    ],
    "pt-BR": [
        "Obrigado {name} pela palestra incrível ontem em São Paulo!",
        "Sou {name}, me chama no {phone} ou no e-mail {email}.",
        "Mudamos de endereço: {address}. Venham tomar um café!",
        "Feliz aniversário, {first}! Nascida em {dob} e sempre jovem.",
        "Meu CPF é {id}, precisa para o cadastro.",
        "Reunião com {name} na sexta, me liga no {phone}.",
        "Inscrição de {name}, data de nascimento {dob}, residente em {address}.",
        "Você pode mandar a nota para {email}? Abraço, {name}",
    ],
    "it": [
        "Grazie a {name} per il bellissimo intervento di ieri a Milano!",
        "Sono {name}, mi trovate al {phone} o scrivendo a {email}.",
        "Il nostro ufficio si è trasferito in {address}. Passate a trovarci!",
        "Buon compleanno {first}! Nata il {dob} e sempre giovane.",
        "Il mio codice fiscale è {id}, serve per la fattura.",
        "Riunione con {name} venerdì, richiamatemi al {phone}.",
        "Candidatura di {name}, nato il {dob}, residente in {address}.",
        "Puoi mandare la fattura a {email}? Ciao, {name}",
    ],
    "nl": [
        "Bedankt {name} voor de mooie presentatie gisteren in Utrecht!",
        "Ik ben {name}, bereikbaar op {phone} of via {email}.",
        "Ons kantoor is verhuisd naar {address}. Kom langs voor koffie!",
        "Gefeliciteerd {first}! Geboren op {dob} en nog steeds jong.",
        "Mijn BSN is {id}, nodig voor de aanvraag.",
        "Afspraak met {name} op vrijdag, bel me terug op {phone}.",
        "Sollicitatie van {name}, geboortedatum {dob}, woonachtig {address}.",
        "Kun je de factuur naar {email} sturen? Groet, {name}",
    ],
    "en-IN": [
        "Thanks {name} ji for the amazing session in Bengaluru yesterday!",
        "I am {name}, call me on {phone} or mail {email}.",
        "Our office has shifted to {address}. Do drop by for chai!",
        "Happy birthday {first}! Born on {dob} and still young at heart.",
        "My Aadhaar number is {id}, please update it in the form.",
        "Kal meeting hai, {first} ji ko bol dena. Number hai {phone}.",
        "Application of {name}, DOB {dob}, residing at {address}.",
        "Bhai invoice {email} pe bhej do please, thanks {name}",
    ],
    "en": [
        "Thanks {name} for the great panel today on data privacy!",
        "I'm {name}, reach me on {phone} or {email} if you want the slides.",
        "Our office moved to {address}. Drop by for coffee!",
        "Happy birthday {first}! Born on {dob} and still the youngest at heart.",
        "My SSN is {id} and I need it corrected on the form.",
        "Meeting with {name} on Friday, call me back at {phone}.",
        "Application from {name}, date of birth {dob}, living at {address}.",
        "Can you send the invoice to {email}? Thanks, {name}",
    ],
}

#: Texts without personal data, in words a name detector could take for names.
NEGATIVES: dict[str, list[str]] = {
    "de": [
        "Der Koch hat heute frei, also bestellen wir Pizza.",
        "Morgen beginnt die neue Saison. Folien: https://example.org/saison",
        "Fischer und Bauern protestieren in Brüssel gegen die neuen Regeln.",
        "Gestern Abend war der Vortrag über Sicherheit richtig gut.",
        "Wagen gewaschen, Garten gemacht, jetzt Feierabend!",
        "Die Bewerbung ist raus, jetzt wartet der Koch auf Antwort.",
        "Schneider, Weber und Müller sind alte Handwerksberufe.",
        "Meine Steuer-ID steht auf dem Bescheid vom Finanzamt.",
    ],
    "fr": [
        "Saison deux commence la semaine prochaine, j'ai hâte.",
        "Diapositives : https://example.org/atelier",
        "Raison de plus pour venir au salon demain matin.",
        "Boulanger, Charpentier et Meunier sont des métiers qui recrutent.",
        "Leçons apprises après trois ans de télétravail.",
    ],
    "es": [
        "Temporada nueva, objetivos nuevos. ¡Vamos!",
        "Diapositivas: https://example.org/charla",
        "Razón de más para venir a la feria el jueves.",
        "Herreros y Molineros siguen existiendo en algunos pueblos.",
        "Lecciones aprendidas después de dos años de proyecto.",
    ],
    "pt-BR": [
        "Temporada nova começa na segunda, bora!",
        "Slides: https://example.org/palestra",
        "Razão a mais para ir ao evento amanhã.",
        "Ferreiros e Pereiras no interior ainda vendem na feira.",
        "Lições aprendidas depois de um ano de startup.",
    ],
    "it": [
        "Stagione nuova, obiettivi nuovi. Si parte!",
        "Slide: https://example.org/intervento",
        "Ragione in più per venire alla fiera domani.",
        "Fabbri e Muratori cercasi per il cantiere di via nuova.",
        "Lezioni imparate dopo due anni di lavoro da remoto.",
    ],
    "nl": [
        "Seizoen twee begint volgende week, zin in!",
        "Slides: https://example.org/presentatie",
        "Reden te meer om morgen naar de beurs te komen.",
        "Bakkers en Smeden werkten vroeger aan dezelfde straat.",
        "Lessen geleerd na drie jaar thuiswerken.",
        "Gefeliciteerd met de nieuwe baan, Bakker en Visser zijn trots!",
    ],
    "en-IN": [
        "Season two of the podcast drops next week, stay tuned.",
        "Slides: https://example.org/meetup",
        "Reason enough to join the hackathon this weekend.",
        "Designers, Developers and Testers all welcome at the meetup.",
        "Lessons learned after a year of building in public.",
    ],
    "en": [
        "Season two starts next week!",
        "Slides: https://example.org/deck",
        "Reason: the venue changed at the last minute.",
        "Musicians, Bakers and Carpenters welcome at the open day.",
        "Lessons learned from shipping fast. Mistakes were made.",
        "Recording: https://example.org/talk",
    ],
}


@dataclass
class LangSample:
    """One generated text in `lang` by a member in `country`, with gold spans (start, end, label)."""

    lang: str
    kind: str
    text: str
    spans: list[tuple[int, int, str]] = field(default_factory=list)
    #: the member's country (ISO 3166 alpha-2), as a build passes it to the scrubber
    country: str = ""

    def to_json(self) -> dict[str, object]:
        """The JSONL form ``consentry scrub eval`` reads."""
        return {
            "lang": self.lang,
            "country": self.country,
            "kind": self.kind,
            "text": self.text,
            "spans": [{"start": s, "end": e, "label": lab} for s, e, lab in self.spans],
        }


class MultilingualCorpus:
    """Generates labelled texts per language from a seed (one RNG, one seeded Faker per locale)."""

    def __init__(self, seed: int = 42, negatives: float = 0.2) -> None:
        self.rng = random.Random(seed)
        self.negatives = negatives
        self.fakers = {}
        for i, (lang, (locale, _)) in enumerate(LANGUAGES.items()):
            self.fakers[lang] = Faker(locale)
            self.fakers[lang].seed_instance(seed + i)

    def generate(self, n: int, langs: list[str] | None = None) -> list[LangSample]:
        """`n` texts per language (about `negatives` of them without personal data)."""
        return [self.sample(lang) for lang in (langs or list(LANGUAGES)) for _ in range(n)]

    def sample(self, lang: str) -> LangSample:
        """One labelled text in `lang`."""
        if self.rng.random() < self.negatives:
            text = self.rng.choice(NEGATIVES[lang])
            url = re.search(r"https://\S+", text)
            spans = [(url.start(), url.end(), "URL")] if url else []
            return LangSample(lang, "negative", text, spans, LANGUAGES[lang][1])
        template = self.rng.choice(TEMPLATES[lang])
        s = LangSample(lang, "pii", "", country=LANGUAGES[lang][1])
        out: list[str] = []
        pos = 0
        for m in re.finditer(r"\{(\w+)\}", template):
            out.append(template[pos : m.start()])
            value, label = self._value(lang, m.group(1))
            start = sum(map(len, out))
            out.append(value)
            s.spans.append((start, start + len(value), label))
            pos = m.end()
        out.append(template[pos:])
        s.text = "".join(out)
        return s

    def _value(self, lang: str, slot: str) -> tuple[str, str]:
        f = self.fakers[lang]
        if slot == "name":
            return f"{f.first_name()} {f.last_name()}", "PERSON"
        if slot == "first":
            return f.first_name(), "PERSON"
        if slot == "phone":
            return self._phone(lang), "PHONE"
        if slot == "email":
            return f.email(), "EMAIL"
        if slot == "address":
            return ", ".join(line.strip() for line in f.address().splitlines()), "STREET_ADDRESS"
        if slot == "dob":
            # drawn from the seed, not from Faker's date_of_birth (relative to today: not reproducible)
            y, m, d = self.rng.randint(1945, 2006), self.rng.randint(1, 12), self.rng.randint(1, 28)
            month = _MONTHS[lang].split()[m - 1]
            return self.rng.choice(_DATE_FORMATS[lang]).format(d=d, m=m, y=y, month=month), "DATE_OF_BIRTH"
        if slot == "id":
            return self._national_id(lang)
        raise KeyError(slot)

    def _phone(self, lang: str) -> str:
        """A Faker phone number of the locale that `phonenumbers` reads as valid for the country."""
        f, region = self.fakers[lang], LANGUAGES[lang][1]
        for _ in range(200):
            value = f.phone_number()
            try:
                if phonenumbers.is_valid_number(phonenumbers.parse(value, region)):
                    return value
            except phonenumbers.NumberParseException:
                continue
        raise RuntimeError(f"Faker's {lang} locale gave no valid phone number in 200 draws")

    def _national_id(self, lang: str) -> tuple[str, str]:
        f, r = self.fakers[lang], self.rng
        if lang == "de":
            while True:
                body = "".join(str(r.randint(0, 9)) for _ in range(10))
                value = body + mod_11_10.calc_check_digit(body)  # the Steuer-IdNr's check digit
                if body[0] != "0" and idnr.is_valid(value):
                    return r.choice([value, idnr.format(value)]), "NATIONAL_ID"
        if lang == "en-IN":
            if r.random() < 0.3:
                return f.pan(), "NATIONAL_ID"
            body = str(r.randint(2, 9)) + "".join(str(r.randint(0, 9)) for _ in range(10))
            value = body + verhoeff_check(body)
            assert aadhaar.is_valid(value)
            return r.choice([value, aadhaar.format(value)]), "NATIONAL_ID"
        if lang == "es":
            return (f.nif() if r.random() < 0.7 else f.nie()), "NATIONAL_ID"
        if lang == "pt-BR":
            return f.cpf(), "NATIONAL_ID"
        if lang == "en":
            return f.ssn(), "US_SSN"
        return f.ssn(), "NATIONAL_ID"  # fr NIR, it codice fiscale, nl BSN: checksum-valid in Faker


def main(argv: list[str] | None = None) -> None:
    """Write a corpus as JSONL (stdout or --out)."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200, help="texts per language")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--lang", action="append", choices=list(LANGUAGES), help="only these languages (repeatable)")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    samples = MultilingualCorpus(args.seed).generate(args.n, args.lang)
    lines = [json.dumps(s.to_json(), ensure_ascii=False) for s in samples]
    text = "\n".join(lines) + "\n"
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
