"""The development set's figures, as the issue requires them (skipped if shared/ is absent)."""

from pathlib import Path

import pytest

from benchmarks.match_eval import evaluate

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"


@pytest.mark.skipif(not (EVAL / "cases_hit.jsonl").exists(), reason="../shared/eval not present")
def test_development_set_targets():
    r = evaluate(EVAL / "cases_hit.jsonl", EVAL / "school_hit.json")
    assert r["recall"] >= 0.97
    assert r["fpr"] <= 0.03
    ok, total = r["registered"].split("/")
    assert ok == total
