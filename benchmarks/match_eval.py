"""Precision, recall and false-positive rate of the matcher on a labelled set.

    python benchmarks/match_eval.py CASES.jsonl SCHOOL.json

CASES: one JSON object a line with platform, account_id, name, bio, label (suspect | clear |
registered). SCHOOL: the school's protected names, look-alike institutions and registry, in the
format of ../shared/eval/school_hit.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from watcher.matching import Candidate, Matcher, SchoolTerms  # noqa: E402


def matcher_for(school: dict) -> Matcher:
    terms = SchoolTerms(
        name=school.get("school", ""),
        full=[n for n in school.get("protected_full", []) if not n.isascii()],
        english=[n for n in school.get("protected_full", []) + school.get("protected_english", []) if n.isascii()],
        short=school.get("protected_short", []),
        historical=school.get("protected_historical", []),
        marks=school.get("protected_marks", []),
    )
    registry = [{**r, "account_name": r.get("name"), "status": r.get("status", "active")} for r in school.get("registry", [])]
    units = sorted({r["unit"] for r in registry})
    return Matcher(terms, registry=registry, units=[(u, []) for u in units], others=school.get("others", []))


def evaluate(cases_path: Path, school_path: Path) -> dict:
    school = json.loads(school_path.read_text(encoding="utf-8"))
    m = matcher_for(school)
    cases = [json.loads(line) for line in cases_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    tp = fp = fn = tn = reg_ok = reg_total = 0
    wrong = []
    for case in cases:
        r = m.match(Candidate(case["platform"], str(case["account_id"]), case["name"], case.get("bio") or ""))
        label = case["label"]
        if label == "registered":
            reg_total += 1
            reg_ok += r.verdict == "registered"
        elif label == "suspect":
            tp += r.verdict == "suspect"
            fn += r.verdict != "suspect"
        else:
            fp += r.verdict == "suspect"
            tn += r.verdict != "suspect"
        if r.verdict != label:
            wrong.append((label, r.verdict, r.score, case["platform"], case["name"], case.get("bio") or "", r.reasons))
    return {
        "cases": len(cases),
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
        "fpr": fp / (fp + tn) if fp + tn else 0.0,
        "registered": f"{reg_ok}/{reg_total}",
        "wrong": wrong,
    }


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__)
        return 2
    res = evaluate(Path(argv[1]), Path(argv[2]))
    for label, verdict, score, platform, name, bio, reasons in res["wrong"]:
        print(f"误判  期望 {label:<10} 得到 {verdict:<10} {score:>3}  [{platform}] {name!r} {bio!r}  {'；'.join(reasons)}")
    print(f"样本 {res['cases']} 条；已备案识别 {res['registered']}")
    print(f"precision={res['precision']:.3f} recall={res['recall']:.3f} fpr={res['fpr']:.3f}")
    print(f"误判 {len(res['wrong'])} 条")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
