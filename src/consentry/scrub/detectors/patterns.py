"""The catalogue of structured-identifier patterns: data, not code.

Every pattern is linear-time by construction: a left-boundary lookbehind so a
match can only start at a token boundary, and bounded repeats.
"""

from __future__ import annotations

import re

from consentry.scrub.detectors.address import ADDRESS_PATTERNS
from consentry.scrub.detectors.base import ContextRule, Pattern
from consentry.scrub.detectors.validators import (
    strong_card_prefixes,
    validate_card,
    validate_iban,
    validate_ip,
    validate_national_id,
    validate_phone_shape,
    validate_secret_value,
    validate_ssn,
)
from consentry.scrub.entities import EntityType as E

__all__ = ["PATTERNS", "SCAN_MIN_SCORE"]

#: A pattern's `scan` expression holds for the matches kept at this minimum score or above (below it,
#: the pattern is scanned for by its regex): a bare 9-digit SSN scores 0.45 without its context word.
SCAN_MIN_SCORE = 0.5

_PHONE_CTX = ContextRule(
    (
        "phone",
        "call",
        "tel",
        "telephone",
        "mobile",
        "cell",
        "fax",
        "whatsapp",
        "text me",
        "ring",
        "number",
        "contact",
        "reach me",
        "office",
        "desk",
        "landline",
        "sms",
        "signal",
        "ph",
        "mob",
        "dial",
    ),
    0.35,
    before=40,
    after=12,
)
_CARD_CTX = ContextRule(
    (
        "card",
        "cc",
        "credit",
        "debit",
        "visa",
        "mastercard",
        "maestro",
        "amex",
        "jcb",
        "diners",
        "discover",
        "unionpay",
        "payment",
        "pay",
        "charged",
        "billed",
        "kreditkarte",
        "karte",
        "carte",
        "tarjeta",
        "cartão",
        "carta",
    ),
    0.4,
    before=48,
)
_SSN_CTX = ContextRule(("ssn", "social security", "ss#", "ssn#", "social"), 0.4)
_BIRTH_CTX = ContextRule(
    (
        "born",
        "birthday",
        "birth",
        "dob",
        "d.o.b",
        "b.",
        "birthdate",
        "geboren",
        "né",
        "née",
        "nacido",
        "nacida",
        "nata",
        "nato",
        "naissance",
        "bday",
    ),
    0.6,
    before=45,
)
_DL_CTX = ContextRule(
    (
        "driver's license",
        "drivers license",
        "driver license",
        "driving licence",
        "driving license",
        "dl",
        "license number",
        "licence number",
        "license no",
        "license",
        "licence",
        "dl#",
    ),
    0.6,
    before=50,
)
_NATID_CTX = ContextRule(
    (
        "bsn",
        "pesel",
        "aadhaar",
        "cpf",
        "dni",
        "nie",
        "nir",
        "national id",
        "id number",
        "identity number",
        "personal number",
        "codice fiscale",
        "sin",
    ),
    0.3,
)
_IP_NEG = ContextRule(("version", "v", "release", "build"), -0.5, before=12)


def _phone_scan() -> str:
    """What a phone match kept at `SCAN_MIN_SCORE` holds. The validator wants 6 digits; a bare run of
    digits scores 0.4 unless international ("00…") or of the NANP's shape (ten digits), so it
    needs a context word within 40 characters before or 12 after; a separated number scores 0.6."""
    gap, more = r"[ ./()-]{1,2}", r"(?:[ ./()-]{0,2}[0-9])"
    separated = [r"[+(][0-9]" + more + "{5}"]  # "+49 30…", "(415) 555…"
    separated += [rf"[0-9]{{{k}}}{gap}[0-9]{more * (5 - k)}" for k in range(1, 6)]  # a gap within six digits
    separated += [rf"[0-9]{{6,14}}{gap}[0-9]"]  # a gap after six digits
    bare = [r"00[0-9]{4}", r"[2-9][0-9]{2}[2-9][0-9]{6}(?![0-9])"]  # international, NANP
    words = "|".join(re.escape(w) for w in _PHONE_CTX.words)
    cued = [rf"(?i:{words})[\s\S]{{0,40}}[0-9]{{7}}", rf"[0-9]{{7}}[\s\S]{{0,19}}(?i:{words})"]
    return rf"(?<![\w+/.:-])(?:{'|'.join(separated + bare)})|{'|'.join(cued)}"


_PHONE_SCAN = _phone_scan()
#: What a card match kept at `SCAN_MIN_SCORE` holds: 12 digits, from a strong scheme's issuer range, or
#: after one of its context words within 48 characters (another scheme's number scores 0.4 without).
_CARD_SCAN = (
    rf"(?<![\d+.-])(?:{'|'.join(strong_card_prefixes())})(?:[ -]?[0-9]){{10}}"
    rf"|(?i:{'|'.join(re.escape(w) for w in _CARD_CTX.words)})[\s\S]{{0,48}}[1-6](?:[ -]?[0-9]){{11}}"
)


_MONTHS = (
    "Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|"
    "Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?"
)
_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"

PATTERNS: tuple[Pattern, ...] = (
    Pattern(
        "email",
        E.EMAIL,
        r"(?<![\w.+%-])[\w][\w.+%-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.){1,8}[A-Za-z]{2,24}(?![\w-])",
        0.95,
        hint=r"@[A-Za-z0-9]",
    ),
    Pattern(
        "profile_url",
        E.USERNAME,
        r"(?<![\w@./])(?:https?://)?(?:www\.|m\.)?(?:linkedin\.com/in/|(?:twitter|x|facebook|instagram|github)"
        r"\.com/|tiktok\.com/@|youtube\.com/@|mastodon\.social/@|threads\.net/@)[\w.-]{2,64}/?",
        0.9,
        strip_trailing=".-",
        hint=r"(?:linkedin\.com/in/|(?:twitter|x|facebook|instagram|github)\.com/|tiktok\.com/@|youtube\.com/@"
        r"|mastodon\.social/@|threads\.net/@)",
    ),
    Pattern(
        "url",
        E.URL,
        r"(?<![\w@./])(?:https?://|www\.)[^\s<>\"'`]{2,2048}",
        0.6,
        strip_trailing=".,;:!?)]}'\"»…",
        hint=r"https?://|www\.",
    ),
    Pattern("handle", E.USERNAME, r"(?<![\w@./`])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,28}[A-Za-z0-9_])?(?![\w@])", 0.8),
    Pattern(
        "ipv4",
        E.IP_ADDRESS,
        rf"(?<![\w.]){_OCTET}(?:\.{_OCTET}){{3}}(?!\.?[0-9])(?!\w)",
        0.8,
        validator=validate_ip,
        context=(_IP_NEG,),
    ),
    Pattern(
        "ipv6",
        E.IP_ADDRESS,
        r"(?<![\w:.])(?=[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:)[0-9A-Fa-f:]{3,39}(?![\w:])",
        0.8,
        validator=validate_ip,
        hint=r"[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:",
        scan=r"[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:",  # the lookahead: narrower than the loosened regex
    ),
    Pattern(
        "card",
        E.CREDIT_CARD,
        r"(?<![\w+.-])[1-6](?:[0-9]{11,18}|[0-9]{1,5}(?:[ -][0-9]{2,6}){1,7})(?![0-9A-Za-z])(?![.-][0-9])",
        0.9,
        validator=validate_card,
        context=(_CARD_CTX,),
        scan=_CARD_SCAN,
    ),
    Pattern(
        "iban",
        E.IBAN,
        r"(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?(?![A-Za-z0-9])",
        0.95,
        validator=validate_iban,
    ),
    Pattern(
        "ssn",
        E.US_SSN,
        r"(?<![\d-])[0-9]{3}[- ]?[0-9]{2}[- ]?[0-9]{4}(?![\d-])",
        0.7,
        validator=validate_ssn,
        context=(_SSN_CTX,),
        # kept: with two separators, or bare (0.45) after one of its context words within 40 characters
        scan=r"[0-9]{3}[- ][0-9]{2}[- ][0-9]{4}|(?i:ssn|social security|ss#|ssn#|social)[\s\S]{0,40}[0-9]{9}",
    ),
    Pattern(
        "phone",
        E.PHONE,
        r"(?<![\w+/.:-])(?:(?:\+|00)[1-9][0-9]{0,2}[ .-]?)?(?:\([0-9]{1,5}\)[ .-]?)?[0-9]{1,14}"
        r"(?:(?:[ .-]|/)[0-9]{1,8}){0,6}(?![0-9])(?![-.:/][0-9])(?=[^A-Za-z]|$|x[0-9]|ext)",
        0.6,
        validator=validate_phone_shape,
        context=(_PHONE_CTX,),
        scan=_PHONE_SCAN,
    ),
    Pattern(
        "cpf",
        E.NATIONAL_ID,
        r"(?<![\d.])[0-9]{3}\.[0-9]{3}\.[0-9]{3}-[0-9]{2}(?![0-9])",
        0.9,
        validator=validate_national_id,
    ),
    Pattern("dni_nie", E.NATIONAL_ID, r"(?<!\w)[XYZ]?[0-9]{7,8}-?[A-Z](?!\w)", 0.85, validator=validate_national_id),
    Pattern(
        "codice_fiscale",
        E.NATIONAL_ID,
        r"(?<!\w)[A-Z]{6}[0-9]{2}[A-Z][0-9]{2}[A-Z][0-9]{3}[A-Z](?!\w)",
        0.95,
        validator=validate_national_id,
    ),
    Pattern(
        "aadhaar",
        E.NATIONAL_ID,
        r"(?<![\d-])[2-9][0-9]{3}[ -]?[0-9]{4}[ -]?[0-9]{4}(?![\w-])",
        0.5,
        validator=validate_national_id,
        context=(_NATID_CTX,),
    ),
    Pattern(
        "nir",
        E.NATIONAL_ID,
        r"(?<!\w)[12][ ]?[0-9]{2}[ ]?[0-9]{2}[ ]?(?:[0-9]{2}|2[AB])[ ]?[0-9]{3}[ ]?[0-9]{3}[ ]?[0-9]{2}(?!\w)",
        0.96,
        validator=validate_national_id,
    ),
    Pattern(
        "digits_id",
        E.NATIONAL_ID,
        r"(?<![\d-])[0-9]{9}(?:[0-9]{2})?(?![\d-])",
        0.3,
        validator=validate_national_id,
        context=(_NATID_CTX,),
        require_context=True,
    ),
    Pattern(
        "driver_license",
        E.DRIVER_LICENSE,
        r"(?<![\w-])[A-Z]{0,3}[0-9][A-Z0-9-]{4,18}(?![\w-])",
        0.25,
        context=(_DL_CTX,),
        require_context=True,
    ),
    Pattern("aws_key", E.SECRET, r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])", 0.95),
    Pattern(
        "github_token",
        E.SECRET,
        r"(?<!\w)(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_\w{22,255})(?!\w)",
        0.95,
        hint="gh[pousr]_|github_pat_",
    ),
    Pattern("slack_token", E.SECRET, r"(?<![\w-])xox[abposr]-[A-Za-z0-9-]{10,200}", 0.95),
    Pattern("stripe_key", E.SECRET, r"(?<!\w)[sr]k_(?:live|test)_[A-Za-z0-9]{16,128}(?!\w)", 0.95),
    Pattern("google_api_key", E.SECRET, r"(?<![\w-])AIza[0-9A-Za-z_-]{35}(?![\w-])", 0.95),
    Pattern("sk_key", E.SECRET, r"(?<![\w-])sk-(?:proj-)?[A-Za-z0-9_-]{20,200}(?![\w-])", 0.85),
    Pattern(
        "jwt",
        E.SECRET,
        r"(?<![\w-])eyJ[A-Za-z0-9_-]{8,4096}\.eyJ[A-Za-z0-9_-]{8,4096}\.[A-Za-z0-9_-]{8,4096}(?![\w-])",
        0.95,
        hint=r"eyJ[A-Za-z0-9_-]{8}",
    ),
    Pattern(
        "private_key",
        E.SECRET,
        r"-----BEGIN [A-Z ]{0,20}PRIVATE KEY-----[\s\S]{0,8192}?-----END [A-Z ]{0,20}PRIVATE KEY-----",
        0.99,
        hint=r"-----BEGIN [A-Z ]{0,20}PRIVATE KEY-----",
    ),
    Pattern(
        "secret_assignment",
        E.SECRET,
        r"(?i:(?<!\w)(?:password|passwd|pwd|passcode|pin|api[_ -]?key|access[_ -]?token|auth[_ -]?token"
        r"|secret(?:[_ -]?key)?|token))[\"']?[ \t]{0,3}(?:is|was|=|:)[ \t]{0,3}[\"']?(?P<v>[^\s\"',;]{4,200})",
        0.8,
        validator=validate_secret_value,
        group="v",
        strip_trailing=".!?)",
    ),
    Pattern(
        "dob_numeric",
        E.DATE_OF_BIRTH,
        r"(?<![\d/.-])(?:[0-9]{1,2}[/.-][0-9]{1,2}[/.-](?:19|20)?[0-9]{2}|(?:19|20)[0-9]{2}[/.-][0-9]{1,2}"
        r"[/.-][0-9]{1,2})(?![0-9])",
        0.3,
        context=(_BIRTH_CTX,),
        require_context=True,
    ),
    Pattern(
        "dob_text",
        E.DATE_OF_BIRTH,
        rf"(?<!\w)(?:[0-9]{{1,2}}(?:st|nd|rd|th)?[ ](?:of[ ])?(?:{_MONTHS})\.?,?[ ](?:19|20)[0-9]{{2}}"
        rf"|(?:{_MONTHS})\.?[ ][0-9]{{1,2}}(?:st|nd|rd|th)?,?[ ](?:19|20)[0-9]{{2}})(?!\w)",
        0.3,
        context=(_BIRTH_CTX,),
        require_context=True,
        flags=re.IGNORECASE,
    ),
    *ADDRESS_PATTERNS,
)
