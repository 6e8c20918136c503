"""Members' reservations: the decision the builds make, stated as signals (and nothing else)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from consentry.decide import decide_for
from consentry.errors import PolicyValidationError
from consentry.policy import Policy, load_policy
from consentry.signals.headers import reservation_headers
from consentry.signals.reservation import member_reservation, reservation_for
from consentry.store import SqlStore
from consentry.store.protocol import Member, NewEvent
from consentry.vocab import Choice, SignalKind, Source

NOW = datetime(2025, 1, 15, tzinfo=UTC)  # version 2024-11-20: genAI opt-out in the US, excluded in Germany
CREATED = datetime(2020, 1, 1, tzinfo=UTC)


@pytest.fixture
def policy(reference_policy_path: Path, tmp_path: Path) -> Policy:
    """The reference policy, with personalization (objection form) also published as aipref `ai-use`."""
    text = reference_policy_path.read_text()
    marker = "        kinds: [post, article, poll, comment, profile, group_post, reaction]\n"
    text = text.replace(marker, marker + "        signals: {aipref: ai-use}\n")
    (tmp_path / "lia").symlink_to(reference_policy_path.parent / "lia")
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return load_policy(path)


def _deny(member: str, purpose: str, at: datetime, source: Source = Source.SETTINGS) -> NewEvent:
    return NewEvent(member, purpose, Choice.DENY, at, source, actor=member)


@pytest.fixture
def ledger(store: SqlStore, policy: Policy) -> SqlStore:
    """Members in every situation that reserves (or not) genai_training and personalization (SQLite, PostgreSQL)."""
    s = store
    s.publish(policy)
    born = date(1985, 6, 1)
    s.add_members(
        [
            Member("us-default", "US", born, CREATED),
            Member("us-off", "US", born, CREATED),
            Member("us-off-on", "US", born, CREATED),
            Member("us-gpc", "US", born, CREATED),
            Member("us-minor", "US", date(2010, 1, 1), CREATED),
            Member("us-nobirth", "US", None, CREATED),
            Member("us-closed", "US", born, CREATED, NOW - timedelta(days=3)),
            Member("us-objecting", "US", born, CREATED),
            Member("us-upheld", "US", born, CREATED),
            Member("de-dora", "DE", born, CREATED),
            Member("xx-nowhere", None, born, CREATED),
        ]
    )
    t = datetime(2024, 12, 1, tzinfo=UTC)
    s.record(_deny("us-off", "genai_training", t))
    s.record(_deny("us-off-on", "genai_training", t))
    s.record(NewEvent("us-off-on", "genai_training", Choice.ALLOW, t + timedelta(days=1), Source.SETTINGS))
    s.record(_deny("us-gpc", "genai_training", t, Source.GPC))
    s.file_objection("us-objecting", ["personalization"], t, None)
    case = s.file_objection("us-upheld", ["personalization"], t, None)
    s.decide_objection(case.case_id, "upheld", t + timedelta(days=2))
    return s


def test_reserved_exactly_where_the_builds_may_not_use_the_member(ledger: SqlStore, policy: Policy) -> None:
    members = ledger.members_table().column("member_id").to_pylist()
    seen: set[tuple[bool, bool]] = set()
    for member_id in [*members, "nobody"]:
        r = reservation_for(ledger, member_id, at=NOW, policy=policy)
        genai = decide_for(ledger, member_id, "genai_training", at=NOW, policy=policy)
        perso = decide_for(ledger, member_id, "personalization", at=NOW, policy=policy)
        assert ("train-ai" in r.categories(SignalKind.AIPREF)) is (not genai.allowed), member_id
        assert (r.categories(SignalKind.TDMREP) == {"tdm"}) is (not genai.allowed), member_id
        assert (r.categories(SignalKind.ROBOTS) == {"noai", "noimageai"}) is (not genai.allowed), member_id
        assert ("ai-use" in r.categories(SignalKind.AIPREF)) is (not perso.allowed), member_id
        seen.add((genai.allowed, perso.allowed))
    assert seen == {(True, True), (False, True), (True, False), (False, False)}


#: Whether genai_training is reserved for each member of `ledger` on 2025-01-15.
SITUATIONS = {
    "us-default": False,
    "us-off": True,
    "us-off-on": False,
    "us-gpc": True,
    "us-minor": True,
    "us-nobirth": True,
    "us-closed": True,
    "de-dora": True,  # genai_training excluded in Germany under these terms: always reserved
    "xx-nowhere": True,  # unknown country: the strictest mode (excluded)
    "nobody": True,  # no such member: fail closed
}


def test_genai_reservation_by_situation(ledger: SqlStore, policy: Policy) -> None:
    found = {
        m: "train-ai" in reservation_for(ledger, m, at=NOW, policy=policy).categories(SignalKind.AIPREF)
        for m in SITUATIONS
    }
    assert found == SITUATIONS


def test_pending_and_upheld_objections_reserve_the_purpose_objected_to(ledger: SqlStore, policy: Policy) -> None:
    for member_id in ("us-objecting", "us-upheld"):
        r = reservation_for(ledger, member_id, at=NOW, policy=policy)
        assert r.categories(SignalKind.AIPREF) == {"ai-use"}
        assert dict(reservation_headers(r)) == {"Content-Usage": "ai-use=n"}


def test_headers_of_a_reserved_and_an_unreserved_member(ledger: SqlStore, policy: Policy) -> None:
    assert reservation_headers(reservation_for(ledger, "us-default", at=NOW, policy=policy)) == ()
    headers = dict(reservation_headers(reservation_for(ledger, "us-off", at=NOW, policy=policy)))
    assert headers == {
        "Content-Usage": "train-ai=n",
        "tdm-reservation": "1",
        "tdm-policy": "https://example.org/terms/2024-11-20",
        "X-Robots-Tag": "noai, noimageai",
    }


def test_the_setting_turned_off_reserves_from_that_moment_on(ledger: SqlStore, policy: Policy) -> None:
    off = NOW - timedelta(hours=1)
    ledger.record(_deny("us-default", "genai_training", off))
    before = reservation_for(ledger, "us-default", at=off - timedelta(seconds=1), policy=policy)
    after = reservation_for(ledger, "us-default", at=off, policy=policy)
    assert not before.any and after.categories(SignalKind.AIPREF) == {"train-ai"}


def test_nothing_is_published_before_a_version_maps_a_purpose(reference_policy: Policy) -> None:
    before = datetime(2024, 7, 1, tzinfo=UTC)  # version 2024-06-01: no genai_training, no signals
    r = member_reservation(reference_policy, "nobody", None, (), (), before)
    assert not r.any and reservation_headers(r) == ()


def test_a_policy_without_signals_hashes_as_before(reference_policy_path: Path, tmp_path: Path) -> None:
    text = reference_policy_path.read_text()
    stripped = text.replace("        signals: {aipref: train-ai, tdmrep: tdm, robots: [noai, noimageai]}\n", "")
    assert stripped != text
    (tmp_path / "lia").symlink_to(reference_policy_path.parent / "lia")
    path = tmp_path / "p.yaml"
    path.write_text(stripped)
    for version in load_policy(path).versions:
        assert '"signals"' not in version.canonical_json


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ("{aipref: train-genai}", "aipref: 'train-genai' is not one of train-ai, ai-use, search"),
        ("{c2pa: tdm}", "Input should be 'aipref', 'tdmrep', 'robots' or 'cawg'"),
        ("{cawg: tdm}", "cawg: Consentry reads this signal but never publishes it"),
        ("{robots: [noai, noai]}", "robots: lists a category twice"),
        ("{robots: []}", "robots: name at least one of noai, noimageai"),
    ],
)
def test_a_bad_signals_block_is_refused_with_its_line(
    reference_policy_path: Path, tmp_path: Path, block: str, message: str
) -> None:
    text = reference_policy_path.read_text()
    good = "signals: {aipref: train-ai, tdmrep: tdm, robots: [noai, noimageai]}"
    bad = text.replace(good, f"signals: {block}", 1)
    line = next(i for i, t in enumerate(bad.splitlines(), 1) if f"signals: {block}" in t)
    (tmp_path / "lia").symlink_to(reference_policy_path.parent / "lia")
    path = tmp_path / "p.yaml"
    path.write_text(bad)
    with pytest.raises(PolicyValidationError) as e:
        load_policy(path)
    assert f"p.yaml:{line}:" in str(e.value) and message in str(e.value)


def test_a_region_brought_in_is_reserved_until_its_notice_ends(ledger: SqlStore, policy: Policy) -> None:
    in_notice = datetime(2025, 11, 10, tzinfo=UTC)  # Europe brought in on 2025-11-03, told on 2025-09-18 (60 days)
    served = datetime(2025, 12, 1, tzinfo=UTC)
    assert "train-ai" in reservation_for(ledger, "de-dora", at=in_notice, policy=policy).categories(SignalKind.AIPREF)
    assert not reservation_for(ledger, "de-dora", at=served, policy=policy).any
    assert reservation_for(ledger, "de-dora", at=served, policy=policy).tdm_policy == (
        "https://example.org/terms/2025-11-03"
    )
