"""`watcher match` on hostile input: a per-line budget, beside baselines measured in the same run.

    python benchmarks/match_hostile.py [N]

N (default 2,000) lines, each an account whose name is ~20,000 characters of the school's names
interleaved with combining marks and zero-width characters (the bio: its first 5,000), as a
hostile platform or a hostile input file would send them — a line in fifty with a field of the
wrong type. They go through the command's own loop (:func:`watcher.cli.match_cmd.run_match`).

Baselines, same lines, same process:

* floor — what any judge must do with such a line: parse its JSON and normalise its name and
  bio (NFKC, invisible characters, case, traditional → simplified), which is linear in its length;
* ordinary — N ordinary account names (benchmarks/match_speed.py's mix) through the same loop.

Budget: 2,000 hostile lines within 90 s (issue #24), i.e. 45 ms a line. Exit status 1 when over.
"""

from __future__ import annotations

import io
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.match_speed import OTHERS, SCHOOL, UNITS, make_candidates, make_registry  # noqa: E402
from watcher.cli.match_cmd import run_match  # noqa: E402
from watcher.matching import Candidate, Matcher  # noqa: E402
from watcher.matching.normalize import normalize_batch  # noqa: E402

BUDGET_SECONDS_PER_LINE = 90 / 2000
MARKS = "\u0301\u0336\u20dd\u200b\u200d\ufe0f\u0489\u0338"


def hostile_lines(n: int, rng: random.Random) -> bytes:
    lines = []
    for i in range(n):
        base = rng.choice(["北理工官方", "北京理工大学", "北理工招生办", "京工BIT"]) * 1000
        name = "".join(c + "".join(rng.choice(MARKS) for _ in range(3)) for c in base)[:20_000]
        obj: dict = {"platform": "weibo", "account_id": str(i), "name": name, "bio": name[:5000]}
        if i % 50 == 1:
            obj["avatar"] = 12345  # a number where a path belongs: that line's Chinese error
        lines.append(json.dumps(obj, ensure_ascii=False))
    return ("\n".join(lines) + "\n").encode()


def run(matcher: Matcher, data: bytes) -> tuple[float, str, str]:
    out, err = io.StringIO(), io.StringIO()
    t0 = time.perf_counter()
    run_match(matcher, io.BytesIO(data), out, err)
    return time.perf_counter() - t0, out.getvalue(), err.getvalue()


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    rng = random.Random(7)
    matcher = Matcher(SCHOOL, registry=make_registry(), units=[(u, []) for u in UNITS], others=OTHERS)
    for warm in ("北理工", "东北理疗馆", "北京里工大学"):  # lazy tables load on first use
        matcher.match(Candidate("weibo", "warm", warm))

    hostile = hostile_lines(n, rng)
    ordinary = ("\n".join(json.dumps({"platform": c.platform, "account_id": c.account_id, "name": c.name},
                                     ensure_ascii=False) for c in make_candidates(n, rng)) + "\n").encode()

    t0 = time.perf_counter()
    objs = [json.loads(line) for line in hostile.splitlines()]
    normalize_batch([o["name"] for o in objs]), normalize_batch([o["bio"] for o in objs])
    floor = time.perf_counter() - t0

    ours, out, err = run(matcher, hostile)
    plain, _, _ = run(matcher, ordinary)
    judged, errors = len(out.splitlines()), err.splitlines()
    leaked = [e for e in errors if "Error" in e or "Traceback" in e or "Exception" in e]

    print(f"{n} 行恶意输入（每行名称约 20,000 字，含组合符与零宽字符），{len(hostile) / 1e6:.0f} MB")
    print(f"watcher match（本程序）: {ours:6.1f} s，每行 {ours / n * 1000:6.1f} ms；判定 {judged} 行，"
          f"逐行报错 {len(errors)} 行（出现 Python 异常名 {len(leaked)} 行）")
    print(f"基线·下限（仅解析 JSON 与规范化）: {floor:6.1f} s，每行 {floor / n * 1000:6.1f} ms")
    print(f"基线·普通名称 {n} 行（同一命令）: {plain:6.1f} s，每行 {plain / n * 1000:6.1f} ms")
    print(f"预算：每行 {BUDGET_SECONDS_PER_LINE * 1000:.0f} ms（2,000 行 90 s）→ "
          f"{'达标' if ours / n <= BUDGET_SECONDS_PER_LINE and not leaked else '超出'}")
    return 0 if ours / n <= BUDGET_SECONDS_PER_LINE and not leaked else 1


if __name__ == "__main__":
    sys.exit(main())
