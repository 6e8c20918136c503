"""Consistent, keyed surrogates (the `pseudonym` operator): same value → same surrogate under one key,
different under another, and no way back without the key."""

from __future__ import annotations

import hashlib
import hmac

from hypothesis import given, settings
from hypothesis import strategies as st

from consentry.scrub import EntityType, OperatorName, Scrubber, ScrubConfig
from consentry.scrub.config import Surrogates
from consentry.scrub.operators import PseudonymOperator
from consentry.scrub.operators.pseudonym import SCRUB_KEY_LABEL, scrub_key

E = EntityType


def test_the_same_person_gets_the_same_surrogate_in_every_mention() -> None:
    op = PseudonymOperator(b"build-key-1")
    full, first, family = op.apply("Anna Weber", E.PERSON), op.apply("Anna", E.PERSON), op.apply("Weber", E.PERSON)
    assert full == f"{first} {family}" and "Anna" not in full and "Weber" not in full
    assert op.apply("ANNA WEBER", E.PERSON) == full.upper()
    particles = op.apply("Jinthe van den Velden", E.PERSON)
    assert particles.split()[1:3] == ["van", "den"] and "Velden" not in particles
    assert op.apply("anna.weber@gmail.de", E.EMAIL) == op.apply("Anna.Weber@gmail.de", E.EMAIL)
    assert op.apply("anna.weber@gmail.de", E.EMAIL).endswith("@example.de")
    phone = op.apply("+49 30 1234567", E.PHONE)
    assert phone.startswith("+49 ") and len(phone) == len("+49 30 1234567")
    assert phone.replace(" ", "") == op.apply("+49301234567", E.PHONE)  # the same number however spaced


def test_other_keys_give_other_surrogates() -> None:
    values = [("Anna Weber", E.PERSON), ("anna@x.org", E.EMAIL), ("+33 6 12 34 56 78", E.PHONE), ("@anna", E.USERNAME)]
    one, two = PseudonymOperator(b"build-key-1"), PseudonymOperator(b"build-key-2")
    assert all(one.apply(v, e) != two.apply(v, e) for v, e in values)


def test_a_dictionary_attack_without_the_key_finds_nothing() -> None:
    """An attacker holding the surrogate and a list of candidate names, but not the key, cannot tell which it was."""
    key = scrub_key(b"the store's pseudonym key", "salt-of-build-7")
    op = PseudonymOperator(key)
    candidates = ["Anna Weber", "Anna Weller", "Hanna Weber", "Anne Webber", "Ana Weber"]
    target = op.apply("Anna Weber", E.PERSON)
    # with the key, the surrogate is reproducible; with any guessed key, or a plain hash, it is not
    assert PseudonymOperator(key).apply("Anna Weber", E.PERSON) == target
    guesses = [b"", b"consentry", SCRUB_KEY_LABEL, b"the store's pseudonym key"]
    guesses += [hashlib.sha256(c.encode()).digest() for c in candidates]
    for guess in guesses:
        assert [PseudonymOperator(guess).apply(c, E.PERSON) for c in candidates].count(target) == 0
    # nor does the surrogate carry a plain digest of the value
    assert hashlib.sha256(b"Anna Weber").hexdigest()[:6] not in target
    assert hmac.new(b"", b"Anna Weber", "sha256").hexdigest()[:6] not in target


def test_the_scrub_key_is_derived_under_its_own_label_and_differs_per_salt() -> None:
    base = b"k" * 32
    assert scrub_key(base, "a") != scrub_key(base, "b")
    assert scrub_key(base, "a") != hmac.digest(base, b"a", "sha256")  # the label separates it
    assert scrub_key(base, "a") != base


def test_build_surrogates_config_rewrites_names_and_contacts_consistently() -> None:
    cfg = ScrubConfig.for_surrogates(Surrogates.BUILD)
    assert ScrubConfig.for_surrogates(Surrogates.STORE) == ScrubConfig.default()
    assert cfg.operator_for(E.PERSON) is OperatorName.PSEUDONYM and cfg.operator_for(E.IBAN) is OperatorName.TAG
    s = Scrubber(cfg, key=b"build-key")
    out = s.scrub_batch(["Thanks Anna Weber for the talk!", "Dr. Weber wrote to anna.weber@example.com"]).texts
    a, b = out.to_pylist()
    assert a is not None and b is not None and "Weber" not in a + b and "<EMAIL>" not in b
    surrogate_family = a.split()[2]
    assert surrogate_family in b  # the same family name, in the other record


@settings(max_examples=200, deadline=None)
@given(key=st.binary(min_size=8, max_size=16), word=st.sampled_from(["Weber", "Anna", "Müller", "Silva", "Rossi"]))
def test_a_surrogate_never_reads_as_the_value_it_replaces(key: bytes, word: str) -> None:
    """Whatever the key, a name never draws itself and a phone keeps only its country code."""
    op = PseudonymOperator(key)
    assert word not in op.apply(word, E.PERSON).split()
    assert word not in op.apply(f"Anna {word}", E.PERSON).split()[1:]
    phone = op.apply("+1 415 555 0132", E.PHONE)
    assert phone.startswith("+1 ") and phone != "+1 415 555 0132"
    assert op.apply("+353 1 234 5678", E.PHONE).startswith("+353 ")
