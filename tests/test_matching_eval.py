"""The development sets' figures, as issue 13 requires them (skipped if shared/ is absent)."""

from pathlib import Path

import pytest

from benchmarks.match_eval import evaluate, sets_in

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
SETS = sets_in(EVAL) if EVAL.is_dir() else []


@pytest.mark.skipif(not SETS, reason="../shared/eval not present")
@pytest.mark.parametrize("name, cases, school", SETS, ids=[s[0] for s in SETS])
def test_development_set_targets(name, cases, school):
    r = evaluate(cases, school)
    assert r["recall"] >= 0.97, r["wrong"]
    assert r["fpr"] <= 0.03, r["wrong"]
    ok, total = r["registered"].split("/")
    assert ok == total
