"""presidio-evaluator's synthetic corpus, made reproducible (seed Python, NumPy and Faker; freeze now)."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import random
import warnings

from bench.corpora.social import Sample


def generate(n: int, seed: int = 42) -> list[Sample]:
    """`n` labelled sentences from presidio-evaluator's own templates and generator."""
    import numpy as np
    from faker import Faker

    random.seed(seed)
    np.random.seed(seed)
    Faker.seed(seed)
    import faker.providers.date_time as fdt

    frozen = dt.datetime(2024, 6, 1, 12, 0, 0)
    fdt.datetime = type("FrozenDatetime", (dt.datetime,), {"now": classmethod(lambda cls, tz=None: frozen)})
    with (
        warnings.catch_warnings(),
        contextlib.redirect_stdout(io.StringIO()),
        contextlib.redirect_stderr(io.StringIO()),
    ):
        warnings.simplefilter("ignore")
        from presidio_evaluator.data_generator import PresidioSentenceFaker

        random.seed(seed)
        gen = PresidioSentenceFaker("en_US", lower_case_ratio=0.05, random_seed=seed)
        random.seed(seed)
        results = gen.generate_new_fake_sentences(n)
    out = []
    for r in results:
        spans = [(sp.start_position, sp.end_position, sp.entity_type) for sp in r.spans]
        out.append(Sample("sentence", r.full_text, spans))
    return out
