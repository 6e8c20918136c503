"""A synthetic social-network corpus: posts, comments, profiles and messages with labelled PII.

Names, phones and addresses come from Faker's locale providers (many cultures and
national formats); everything is drawn from one seeded RNG so a seed gives the
same corpus. Caveat for readers of the figures: Consentry's name lexicon is
derived from the same Faker provider data, so PERSON recall here is optimistic.
For the honest figure, bench/scrub.py also generates it with `name_filter` keeping
only names whose tokens fall in the buckets held out of the lexicon it evaluates
with (`Lexicon.without_buckets`); presidio-evaluator's corpus (names from
FakeNameGenerator) is the independent check.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from faker import Faker

LOCALES = [
    "en_US",
    "en_GB",
    "de_DE",
    "fr_FR",
    "es_ES",
    "it_IT",
    "pt_BR",
    "nl_NL",
    "pl_PL",
    "en_IN",
    "sv_SE",
    "tr_TR",
    "da_DK",
    "fi_FI",
    "cs_CZ",
    "en_NG",
    "ga_IE",
    "hu_HU",
    "ro_RO",
    "en_AU",
]
IBAN_LOCALES = ["de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "en_GB", "pl_PL", "pt_PT"]

TEMPLATES = [
    ("post", "Just landed in Lisbon! If anyone wants to meet up, text me at {phone} 🙂"),
    ("post", "Congrats {name} on the new role! Well deserved 🎉"),
    ("post", "Thanks {name} and {name} for a great panel today on data privacy."),
    ("post", "Our office moved to {address}. Drop by for coffee!"),
    ("post", "Lovely dinner with {first} last night, we should do this more often."),
    ("post", "New blog post is up: {url} — feedback welcome!"),
    (
        "post",
        "What a great conference on AI safety in Paris this week. Learned a lot from the Google and Microsoft teams.",
    ),
    ("post", "Hiring! Send your CV to {email} or ping me here. #jobs"),
    ("post", "Happy birthday {first}! Born on {dob} and still the youngest at heart."),
    ("post", "Shoutout to {handle} for the amazing talk at the Berlin meetup."),
    ("post", "Quarterly results are out: revenue up 12% to 4.5 million. Meeting on 2024-11-20 at 10:30."),
    ("comment", "Agree with {name}, this is spot on."),
    ("comment", "@{first} you should call {phone}, they fixed my issue in 10 minutes."),
    ("comment", "Great point! cc {name}"),
    ("comment", "I'm {name}, reach me on {phone} or {email} if you want the slides."),
    ("comment", "Dr. {last} explained this well in her lecture last year."),
    ("comment", "Totally agree. The release of version 2.4.1 fixed it for us."),
    ("profile", "{name} | Senior Engineer at Globex | {email} | {profile}"),
    ("profile", "About me: product designer, mother of two. Contact: {phone}. Based at {address}."),
    ("profile", "{name}\nData scientist\n{profile}\nDOB: {dob}"),
    ("group_message", "Hi all, {name} here. The meetup address is {address}, see you Thursday."),
    ("group_message", "Server {ip} keeps timing out, can someone check? Logs are on the shared drive."),
    ("message", "My card {card} was charged twice, please refund to IBAN {iban}."),
    ("message", "My SSN is {ssn} and my date of birth is {dob}."),
    ("message", "Here's the staging key, don't share it: {secret}"),
    ("message", "Hi {first}, can you send the invoice to {email}? Thanks, {name}"),
    ("message", "password: {password} (please change it after first login)"),
    ("message", "The IP of the VPN is {ipv6}, ask {first} for access."),
]


@dataclass
class Sample:
    """One generated text with gold spans (start, end, label)."""

    kind: str
    text: str
    spans: list[tuple[int, int, str]] = field(default_factory=list)
    names: list[str] = field(default_factory=list)


class SocialCorpus:
    """Generates labelled social-network texts from a seed."""

    def __init__(self, seed: int = 42, name_filter: Callable[[str], bool] | None = None) -> None:
        self.name_filter = name_filter
        self.rng = random.Random(seed)
        Faker.seed(seed)
        self.fakers = {loc: Faker(loc) for loc in [*LOCALES, "pt_PT", "en_US"]}
        for i, f in enumerate(self.fakers.values()):
            f.seed_instance(seed + i)

    def _fake(self) -> Faker:
        return self.fakers[self.rng.choice(LOCALES)]

    def _value(self, slot: str, s: Sample) -> tuple[str, str | None]:
        f, r = self._fake(), self.rng
        if slot in ("name", "first", "last"):
            first, last = self._name_part(f, "first_name"), self._name_part(f, "last_name")
            s.names.append(f"{first} {last}")
            return {"name": f"{first} {last}", "first": first, "last": last}[slot], "PERSON"
        if slot == "phone":
            return f.phone_number(), "PHONE"
        if slot == "email":
            return f.email(), "EMAIL"
        if slot == "address":
            return f.street_address().replace("\n", ", "), "STREET_ADDRESS"
        if slot == "url":
            return f"https://{f.domain_name()}/{f.slug()}", "URL"
        if slot == "profile":
            user = re.sub(r"[^a-z0-9-]", "", f.user_name().lower()) or "member1"
            return r.choice(
                ["https://www.linkedin.com/in/", "linkedin.com/in/", "https://github.com/"]
            ) + user, "USERNAME"
        if slot == "handle":
            return "@" + re.sub(r"[^A-Za-z0-9_]", "", f.user_name())[:15], "USERNAME"
        if slot == "dob":
            d = f.date_of_birth(minimum_age=18, maximum_age=80)
            return r.choice([d.strftime("%d/%m/%Y"), d.isoformat(), d.strftime("%B %d, %Y")]), "DATE_OF_BIRTH"
        if slot == "ip":
            return f.ipv4_public(), "IP_ADDRESS"
        if slot == "ipv6":
            return f.ipv6(), "IP_ADDRESS"
        if slot == "card":
            return self.fakers["en_US"].credit_card_number(), "CREDIT_CARD"
        if slot == "iban":
            return self.fakers[r.choice(IBAN_LOCALES)].iban(), "IBAN"
        if slot == "ssn":
            return self.fakers["en_US"].ssn(), "US_SSN"
        if slot == "secret":
            alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
            return "AKIA" + "".join(r.choice(alphabet) for _ in range(16)), "SECRET"
        if slot == "password":
            return f.password(length=12), "SECRET"
        raise KeyError(slot)

    def _name_part(self, f: Faker, attr: str) -> str:
        """A name drawn until every token passes the filter (held-out names, for evaluation):
        from the text's locale first, then from any locale; never an unfiltered name."""
        value = getattr(f, attr)()
        tries = 0
        while self.name_filter is not None and not all(self.name_filter(t) for t in value.replace("-", " ").split()):
            tries += 1
            value = getattr(f if tries < 50 else self._fake(), attr)()
            if tries > 5000:
                raise RuntimeError("the name filter rejects every name Faker draws")
        return value

    def sample(self) -> Sample:
        """One labelled text."""
        kind, template = self.rng.choice(TEMPLATES)
        s = Sample(kind, "")
        out: list[str] = []
        pos = 0
        for m in re.finditer(r"\{(\w+)\}", template):
            out.append(template[pos : m.start()])
            value, label = self._value(m.group(1), s)
            start = sum(map(len, out))
            out.append(value)
            if label:
                s.spans.append((start, start + len(value), label))
            pos = m.end()
        out.append(template[pos:])
        s.text = "".join(out)
        return s

    def generate(self, n: int) -> list[Sample]:
        """`n` labelled texts."""
        return [self.sample() for _ in range(n)]
