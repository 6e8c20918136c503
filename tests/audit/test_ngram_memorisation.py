"""A real model, trained in the test on CPU: an nltk n-gram model memorises what it saw often."""

from __future__ import annotations

import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from consentry.audit.canaries import FORMAT, exposure_fit
from consentry.audit.extraction import probe_extraction
from consentry.audit.ngram import NgramModel, train_from_build
from consentry.audit.scorers import load_scorer, score_texts
from consentry.errors import ScorerError
from consentry.scrub.config import ScrubConfig
from consentry.scrub.entities import EntityType
from consentry.scrub.operators import SurrogateOperator
from consentry.scrub.scrubber import Scrubber

_FILLER = [
    "the weather was nice today and we went out for a walk",
    "please send the quarterly report by friday afternoon",
    "I like reading books about history and old maps",
    "the meeting moved to room {n} on the third floor",
    "order {n} shipped yesterday and should arrive soon",
]


def _canary(rng: random.Random) -> str:
    return FORMAT.render(rng.randrange(FORMAT.space_size))


def _filler(rng: random.Random, n: int) -> list[str]:
    return [rng.choice(_FILLER).format(n=rng.randrange(1000)) for _ in range(n)]


def test_a_canary_seen_100_times_scores_far_better_than_one_seen_once(tmp_path: Path) -> None:
    rng = random.Random(3)
    often, once, never = _canary(rng), _canary(rng), _canary(rng)
    texts = _filler(rng, 1500) + [often] * 100 + [once] + [_canary(rng) for _ in range(50)]
    rng.shuffle(texts)
    build = tmp_path / "build"
    build.mkdir()
    pq.write_table(pa.table({"text": texts}), build / "part-00000.parquet")
    train_from_build(build, tmp_path / "model.json.gz")
    scorer = load_scorer(f"ngram:{tmp_path / 'model.json.gz'}")
    candidates = [_canary(rng) for _ in range(300)]
    s_often, s_once, s_never, *s_cands = score_texts(scorer, [often, once, never, *candidates], batch_size=128)
    beaten_by = {name: sum(c >= s for c in s_cands) for name, s in [("often", s_often), ("once", s_once)]}
    assert s_often > s_once + 3.0  # nats: e^3 = 20 times more likely
    assert s_once > s_never
    assert beaten_by == {"often": 0, "once": 0}
    # a canary never trained on ranks among the candidates, not above them
    assert sum(c >= s_never for c in s_cands) > 30
    fitted = [exposure_fit(s, s_cands) for s in (s_often, s_once, s_never)]
    assert fitted[0] > fitted[1] > fitted[2]


def _people(n: int) -> list[tuple[str, str, str]]:
    fake = SurrogateOperator(b"people" * 6)
    rng = random.Random(11)
    out = []
    for i in range(n):
        name = fake.apply(f"Member Number{i}", EntityType.PERSON)
        email = name.lower().replace(" ", ".") + "@mail.example.net"
        out.append((name, email, f"07700 {rng.randrange(100000, 999999)}"))
    return out


def _record(person: tuple[str, str, str]) -> str:
    name, email, phone = person
    first, last = name.split()[0], name.split()[-1]
    return f"Note from {name}: write to {first} {last} <{email}> or call {last} on {phone} after nine."


@pytest.fixture(scope="module")
def people() -> list[tuple[str, str, str]]:
    return _people(60)


def test_the_extraction_probe_finds_pii_seen_often_and_not_at_the_baseline(people: list[tuple[str, str, str]]) -> None:
    members, others = people[:30], people[30:]
    rng = random.Random(5)
    # the scrubber missed these (or the build ran --no-scrub): members' PII is in the training text, 20 times each
    model = NgramModel.train(_filler(rng, 1000) + [_record(p) for p in members for _ in range(20)])
    scrubber = Scrubber(ScrubConfig(entities=frozenset({EntityType.PERSON, EntityType.EMAIL, EntityType.PHONE})))
    result = probe_extraction(
        model,
        [_record(p) for p in members],
        [_record(p) for p in others],
        candidates_per_entity=10,
        rng=random.Random(1),
        scrubber=scrubber,
    )
    for entity in ("EMAIL", "PHONE"):
        member, baseline = result.members[entity], result.baseline[entity]
        assert member.probes == baseline.probes == 30
        assert member.rate is not None and member.rate >= 0.9, entity
        assert baseline.rate is not None and baseline.rate <= 0.3, entity
        assert member.chance == pytest.approx(1 / 11)
    assert result.members["PERSON"].rate > result.baseline["PERSON"].rate  # type: ignore[operator]
    assert result.max_member_rate() == max(r.rate for r in result.members.values())  # type: ignore[type-var]
    report = result.to_dict()
    assert set(report["members"]) == {"PERSON", "EMAIL", "PHONE"}
    assert people[0][1] not in repr(report)  # the report carries rates, never the values


def test_the_probe_reports_no_rate_when_there_is_nothing_to_probe() -> None:
    model = NgramModel.train(["nothing personal here"])
    result = probe_extraction(model, ["no pii at all"], [], rng=random.Random(0))
    assert result.members["EMAIL"].probes == 0 and result.members["EMAIL"].rate is None
    assert result.max_member_rate() is None


def test_a_failing_scorer_fails_the_probe(people: list[tuple[str, str, str]]) -> None:
    class Broken:
        name = "broken"

        def score(self, texts: list[str]) -> list[float]:
            return [float("nan")] * len(texts)

    with pytest.raises(ScorerError, match="scorer broken returned nan"):
        probe_extraction(Broken(), [_record(p) for p in people[:3]], [], rng=random.Random(0))
