"""Street addresses: a small grammar of street lines in many countries, extended over the block.

A street line is found by one of the anchor patterns below (number first with an
English street type, a Romance/Slavic/Greek street prefix, a Germanic/Nordic/Finnic
compound or separate street-type word, a number–name–number sandwich, a military
address), each optionally preceded by a building number. `extend_address_block`
then walks forward over the parts that follow a street line — unit/apartment,
city, region, country, postcode, a crossing street — separated by commas, spaces
or line breaks, and ends the span at the last *strong* part (unit, postcode,
crossing street): a bare city or country after the street is not absorbed.

All repeats are bounded and every anchor has a left-boundary lookbehind (linear time).
"""

from __future__ import annotations

import re

from consentry.scrub.detectors.base import ContextRule, Pattern
from consentry.scrub.entities import EntityType as E

__all__ = ["ADDRESS_PATTERNS", "extend_address_block"]


def _upper_class() -> str:
    chars = [chr(c) for c in range(0x41, 0x2000) if chr(c).isupper() and chr(c).isalpha()]
    return "[" + "".join(re.escape(c) for c in chars) + "]"


_UP = _upper_class()
_LOW = r"[^\W\d_]"
#: A capitalised word in any cased script (Latin, Greek, Cyrillic, ...), or an ordinal (184th).
_CAPW = rf"(?:{_UP}(?:{_LOW}|['’.-](?=\w)){{0,30}}\.?|[0-9]{{1,4}}(?:st|nd|rd|th))"
_PARTICLE = r"(?:de|del|da|do|dos|das|di|della|la|le|les|des|du|von|van|der|den|of|the|y|e|i|al|el|am|an|im)"
_NUM = r"[0-9]{1,6}(?:[A-Za-z](?![\w'’]))?(?:[-/][0-9]{1,4}[A-Za-z]?)?"
_LEAD = r"(?:[0-9]{1,6}[A-Za-z]?,?[ ]{1,3}){0,2}"  # building / house numbers before the street
_DIR = r"(?:[NSEW]|North|South|East|West|NE|NW|SE|SW)\.?"

#: English street types (USPS and Commonwealth usage), after the street name.
_EN_TYPES = (
    "Street|St|Road|Rd|Avenue|Ave|Av|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Tce|Row|"
    "Square|Sq|Highway|Hwy|Parkway|Pkwy|Circle|Cir|Close|Crescent|Cres|Trail|Trl|Alley|Walk|Gardens|Grove|"
    "Mews|Pike|Plaza|Ridge|Loop|Crossing|Heights|Expressway|Freeway|Turnpike|Causeway|Wharf|Quay|Hill|Park|"
    "Cove|Creek|Glen|Green|Meadow|Meadows|Mill|Mills|Plains|Radial|Spur|Spurs|Stream|Valley|Vista|View|"
    "Junction|Knoll|Manor|Orchard|Path|Point|Port|Ranch|Rapids|Run|Shore|Shores|Springs|Summit|Station|"
    "Trace|Track|Village|Ville|Estates|Extension|Fork|Forks|Gateway|Harbor|Harbour|Haven|Hollow|Island|"
    "Islands|Landing|Lodge|Motorway|Oval|Pass|Passage|Pines|Prairie|Ridge|Route|Squares|Bypass|Brook|Dale|"
    "Viaduct|Crest|Bend|Curve|"
    # more USPS street suffixes (Publication 28), but those that are everyday words in posts
    # ("Club", "Mall", "Center", "Field", "Spring", "Flat", "Garden", "Mount", "Key", "Land")
    "Alley|Annex|Arcade|Bayou|Beach|Bluff|Bluffs|Branch|Bridge|Brooks|Burg|Burgs|Camp|Canyon|Cape|Cliff|"
    "Cliffs|Corners|Courts|Coves|Crossroad|Drives|Ferry|Glens|Greens|Groves|Harbors|Hills|Inlet|Isle|Junctions|"
    "Keys|Knolls|Lakes|Landing|Lock|Manors|Mountain|Mountains|Overpass|Parks|Parkways|Pine|Points|Ports|Rapid|"
    "Ridges|Roads|Shoal|Shoals|Skyway|Stravenue|Streets|Throughway|Trafficway|Tunnel|Underpass|Valleys|Views|"
    "Villages|Walks|Ways"
)
#: Street types that come before the name (Romance, Slavic, Greek, Malay, Turkish, ...).
_PREFIX_TYPES = (
    "Via|Viale|Vicolo|Corso|Piazza|Piazzale|Largo|Borgo|Contrada|Rua|R\\.|Avenida|Av\\.|Avda\\.?|Alameda|"
    "Calle|C/|Carrer|Camino|Carretera|Ctra\\.|Paseo|Pasaje|Plaza|Praça|Travessa|Travesía|Ronda|Rambla|Estrada|"
    "Rue|Route|Rte|Avenue|Boulevard|Bd|Bld|Chemin|Allée|Impasse|Quai|Place|Cours|Passage|Square|"
    "Ulica|ul\\.|Aleja|al\\.|Plac|pl\\.|Osiedle|os\\.|Strada|Str\\.|Bulevardul|Bdul\\.?|Aleea|Calea|"
    "Odos|Οδός|Λεωφόρος|Jalan|Jl\\.|Lorong|Bairro|Cesta|Trg|Ulitsa|ул\\.|улица|проспект|пр\\.|"
    "Sokak|Caddesi|Cad\\.|Mahallesi"
)
#: Street types written as a separate word after the name (Germanic, Nordic, Finnic, Hungarian, ...).
_WORD_TYPES = (
    "Straße|Strasse|Str\\.|Weg|Gasse|Platz|Allee|Ring|Damm|Ufer|Chaussee|Markt|Steig|Pfad|Zeile|Hof|"
    "straat|laan|weg|plein|gracht|kade|singel|dijk|steeg|veg|vei|vej|gate|gata|gade|gatan|vägen|"
    "tie|katu|kuja|tee|tänav|maantee|iela|gatvė|utca|u\\.|út|körút|krt\\.|tér|köz|sétány|fasor|rakpart|rkp\\.|"
    "ulica|cesta|sokak|caddesi|cad\\.|sk\\."
)
#: Endings of one-word (compound) street names: Hauptstraße, Kirkevej, Mannerheimintie, ...
_COMPOUND = (
    "straße|strasse|str\\.|weg|gasse|platz|allee|ring|damm|ufer|markt|steig|pfad|laan|straat|gracht|plein|"
    "kade|singel|dijk|steeg|gatan|vägen|gränd|stigen|backen|torget|gade|vej|vænget|stræde|plads|veien|vegen|"
    "veg|vei|gata|gate|vegur|stræti|braut|katu|tie|kuja|polku|kaari|rinne|raitti|väylä|utca|út|ulica|iela|"
    "gatvė|tänav|tee|cesta"
)
_UNIT = (
    r"(?:Apt|Apartment|Suite|Ste|Unit|Flat|Room|Rm|Floor|Fl|Bldg|Building|Apto|Piso|Wohnung|Whg|App|"
    r"Appartement|Étage|Interno|Int|Scala|Lok|Box)\.?[ ]?#?[0-9]{1,5}[A-Za-z]?(?!\w)|#[0-9]{1,5}[A-Za-z]?(?!\w)"
)
_UNIT_ANCHOR = r"(?:Apt|Apartment|Suite|Ste|Unit|Flat|Apto|Wohnung|Whg|Appartement)\.?[ ]?#?[0-9]{1,5}[A-Za-z]?(?!\w)"
_POSTCODE = (
    r"(?:[0-9]{5}-[0-9]{4}|[0-9]{4}[ ]?[A-Z]{2}(?![A-Za-z])|[0-9]{2}-[0-9]{3}|[0-9]{3}[ ][0-9]{2}|[0-9]{4,6}"
    r"|[A-Z]{1,2}[0-9][A-Z0-9]?[ ][0-9][A-Z]{2}|[A-Z][0-9][A-Z][ ]?[0-9][A-Z][0-9])(?![\w-])"
)
_PLACE = rf"(?:{_CAPW}|[A-ZÀ-Þ]{{2,30}})(?:[ -](?:{_CAPW}|[A-ZÀ-Þ]{{2,30}}|{_PARTICLE})){{0,3}}"
_WORDS = rf"(?:{_CAPW}|{_PARTICLE}(?=[ ]))(?:[ ]{{1,2}}(?:{_CAPW}|{_PARTICLE}(?=[ ]))){{0,4}}"

_ADDRESS_WORDS = (
    "address",
    "live",
    "lives",
    "lived",
    "living",
    "located",
    "moved",
    "ship",
    "sent",
    "send",
    "deliver",
    "visit",
    "at",
    "on",
    "reside",
    "resides",
    "house",
    "home",
    "office",
    "offices",
    "flat",
    "apartment",
    "wohne",
    "habite",
    "vivo",
    "moro",
    "mieszkam",
)
#: Support for a bare "Name 12" street: an address word shortly before it.
_ADDRESS_CTX = ContextRule(_ADDRESS_WORDS, 0.3)
#: Support for a "12 Name 34" sandwich: also "in"/"to" and a line break, which a sandwich needs less.
_SANDWICH_CTX = ContextRule((*_ADDRESS_WORDS, "in", "to", "is"), 0.3)
#: Between parts: spaces, a comma, up to two line breaks, each line maybe led by a quote or bullet mark.
_SEP = re.compile(
    r"[ \t]{0,4}(?:,[ \t]{0,4})?(?:(?:\r?\n|\r)[ \t]{0,8}(?:[^\w\s]{1,4}[ \t]{0,4})?(?:,[ \t]{0,4})?){0,2}"
)
_UNIT_PART = re.compile(_UNIT)
_CROSSING = re.compile(rf"(?:and|&)[ ](?:{_WORDS})[ ]{{1,2}}(?:{_EN_TYPES})\.?(?!\w)")
#: Parts that close a block: a military post office line, a postcode (after a city, region or country).
_CLOSING = (
    re.compile(r"(?:[APF]PO|DPO)[ ][A-Z]{2}[ ][0-9]{5}(?!\w)"),
    re.compile(rf"(?:{_PLACE}[ ,]{{1,3}})?(?:[A-Z]{{2,3}}[ ]{{1,2}})?{_POSTCODE}"),
)
_WEAK_PART = re.compile(rf"{_PLACE}(?![\w@])")
_MAX_PARTS = 6


def extend_address_block(text: str, end: int) -> int:
    """The end of the address block that starts with a street line ending at `end`.

    Units and crossing streets extend it and the walk goes on; a postcode extends it and
    closes it; city, region and country names are crossed only on the way to one of those.
    """
    best = pos = end
    for _ in range(_MAX_PARTS):
        sep = _SEP.match(text, pos)
        at = sep.end() if sep else pos
        if at == pos and pos < len(text):
            break
        closing = next((m for rx in _CLOSING if (m := rx.match(text, at))), None)
        if closing is not None:
            return closing.end()
        m = _UNIT_PART.match(text, at) or _CROSSING.match(text, at)
        if m is not None:
            best = pos = m.end()
            continue
        m = _WEAK_PART.match(text, at)
        if m is None:
            break
        pos = m.end()
    return best


def _street(name: str, regex: str, score: float, hint: str, **kw: object) -> Pattern:
    return Pattern(name, E.STREET_ADDRESS, regex, score, hint=hint, extend=extend_address_block, **kw)  # type: ignore[arg-type]


ADDRESS_PATTERNS: tuple[Pattern, ...] = (
    _street(
        "street_number_first",
        rf"(?<![\w.,-]){_LEAD}{_NUM},?(?:[ ]{{1,2}}{_DIR})?[ ]{{1,2}}{_WORDS}[ ]{{1,2}}(?:{_EN_TYPES})\.?(?!\w)"
        rf"(?:,?[ ]{{1,2}}{_DIR}(?!\w))?",
        0.96,
        rf"[0-9][^\n]{{0,240}}[ ](?:{_EN_TYPES})\b",
    ),
    _street(
        "street_prefix_first",
        rf"(?<![\w.-])(?:{_LEAD}{_NUM},?[ ]{{1,2}}(?i:{_PREFIX_TYPES})[ ]{{1,2}}{_WORDS}(?:,?[ ]{{1,2}}{_NUM})?"
        rf"|(?i:{_PREFIX_TYPES})[ ]{{1,2}}{_WORDS},?[ ]{{1,2}}{_NUM})(?!\w)",
        0.96,
        rf"(?<![\w.-])(?i:{_PREFIX_TYPES})[ ]",  # every match has the street type after a boundary, then a space
    ),
    _street(
        "street_type_word",
        rf"(?<![\w.-]){_LEAD}{_CAPW}(?:[ -]{_CAPW}){{0,2}}[ ](?:{_WORD_TYPES})[ ]{{1,2}}{_NUM}\.?(?!\w)",
        0.9,
        rf"[ ](?:{_WORD_TYPES})[ ]{{1,2}}[0-9]",
    ),
    _street(
        "street_compound",
        rf"(?<![\w.-]){_LEAD}(?:{_CAPW}[ ])?{_UP}(?:{_LOW}|-(?=\w)){{1,40}}(?i:{_COMPOUND})[ ]{{1,2}}{_NUM}\.?(?!\w)",
        0.96,
        rf"(?i:{_COMPOUND})[ ]{{1,2}}[0-9]",
    ),
    _street(
        "street_number_sandwich",
        rf"(?<![\w.,:/-])[0-9]{{1,6}}[ ]{{1,2}}{_CAPW}(?:[ ]{{1,2}}(?:{_CAPW}|{_PARTICLE})){{0,2}}[ ]{{1,2}}{_NUM}"
        r"(?![\w:/.,-][0-9])(?![\w%])",
        0.55,
        r"[0-9][ ]{1,2}\S[^\n]{0,140}[ ]{1,2}[0-9]",
        context=(_SANDWICH_CTX,),
    ),
    _street(
        "street_in_context",
        rf"(?<![\w.-]){_CAPW}(?:[ ]{{1,2}}(?:{_CAPW}|{_PARTICLE})){{0,2}}[ ]{{1,2}}{_NUM}\.?(?![\w:/.,-][0-9])(?!\w)",
        0.3,
        r"\S[ ]{1,2}[0-9]",
        context=(_ADDRESS_CTX,),
        require_context=True,
    ),
    _street(
        "military_address",
        rf"(?<!\w)(?:(?:PSC|CMR|Unit)[ ][0-9]{{3,5}},?[ ]Box[ ][0-9]{{3,5}}|(?:USNS|USNV|USS|USCGC)[ ]{_CAPW})"
        r"(?=[ ,]{0,3}(?:\r?\n|\r)?[ ]{0,8}(?:[APF]PO|DPO)[ ])",
        0.95,
        r"(?:[APF]PO|DPO)[ ][A-Z]{2}",
    ),
    _street(
        "po_box",
        r"(?<!\w)(?i:P\.?[ ]?O\.?[ ]?Box|Postfach|Apartado|Caixa Postal|Boîte Postale|BP)[ ]?[0-9]{1,8}(?!\w)",
        0.8,
        r"(?i:P\.?[ ]?O\.?[ ]?Box|Postfach|Apartado|Caixa Postal|Boîte Postale|BP)",
    ),
    _street("unit", rf"(?<!\w){_UNIT_ANCHOR}", 0.6, _UNIT_ANCHOR),
)
