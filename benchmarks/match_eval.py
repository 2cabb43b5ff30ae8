"""Precision, recall and false-positive rate of the matcher on labelled sets.

    python benchmarks/match_eval.py                      # every set in ../shared/eval, one row each
    python benchmarks/match_eval.py DIR                  # every cases_X.jsonl + school_X.json in DIR
    python benchmarks/match_eval.py CASES.jsonl SCHOOL.json [-v]

CASES: one JSON object a line with platform, account_id, name, bio, label (suspect | clear |
registered). SCHOOL: the school's protected names, look-alike institutions and registry, in the
format of ../shared/eval/school_hit.json. With one set, every wrong verdict is listed; with many,
``-v`` lists them too.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from watcher.matching import ALGO, Candidate, Matcher, SchoolTerms  # noqa: E402

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "shared" / "eval"


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
    results = m.match_many([Candidate(c["platform"], str(c["account_id"]), c["name"], c.get("bio") or "") for c in cases])
    tp = fp = fn = tn = reg_ok = reg_total = 0
    wrong = []
    for case, r in zip(cases, results, strict=True):
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


def sets_in(directory: Path) -> list[tuple[str, Path, Path]]:
    """(name, cases, school) for every cases_X.jsonl in ``directory`` that has its school_X.json."""
    out = []
    for cases in sorted(directory.glob("cases_*.jsonl")):
        name = cases.stem.removeprefix("cases_")
        school = directory / f"school_{name}.json"
        if school.exists():
            out.append((name, cases, school))
    return out


def _print_wrong(res: dict) -> None:
    for label, verdict, score, platform, name, bio, reasons in res["wrong"]:
        print(f"误判  期望 {label:<10} 得到 {verdict:<10} {score:>3}  [{platform}] {name!r} {bio!r}  {'；'.join(reasons)}")


def main(argv: list[str]) -> int:
    args = [a for a in argv[1:] if a != "-v"]
    verbose = "-v" in argv[1:]
    if len(args) == 2:
        res = evaluate(Path(args[0]), Path(args[1]))
        _print_wrong(res)
        print(f"样本 {res['cases']} 条；已备案识别 {res['registered']}")
        print(f"precision={res['precision']:.3f} recall={res['recall']:.3f} fpr={res['fpr']:.3f}")
        print(f"误判 {len(res['wrong'])} 条")
        return 0
    if len(args) > 1:
        print(__doc__)
        return 2
    directory = Path(args[0]) if args else DEFAULT_DIR
    sets = sets_in(directory) if directory.is_dir() else []
    if not sets:
        print(f"在 {directory} 中没有找到开发集（cases_X.jsonl 与 school_X.json 成对）")
        return 2
    print(f"算法 {ALGO}；开发集目录 {directory}")
    print(f"{'set':<8} {'cases':>5} {'precision':>9} {'recall':>7} {'fpr':>6} {'registered':>10} {'wrong':>5}")
    for name, cases, school in sets:
        res = evaluate(cases, school)
        if verbose:
            _print_wrong(res)
        print(f"{name:<8} {res['cases']:>5} {res['precision']:>9.3f} {res['recall']:>7.3f} {res['fpr']:>6.3f} "
              f"{res['registered']:>10} {len(res['wrong']):>5}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
