"""The batch path (normalise a batch at once, prefilter, judge the flagged) must give exactly the
verdicts of judging every name in full: the prefilter may only skip names that cannot score."""

import json
import random
from pathlib import Path

import pytest

from tests.test_matching_families import CQU, IDIOM, MEDICAL, ROWS, SYSU, USTC, ZJU
from tests.test_matching_traps import BIT, CLEAR, QZMC, SUSPECT
from watcher.matching import Candidate
from watcher.matching.normalize import normalize, normalize_batch
from watcher.matching.prefilter import trie_pattern

EVAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "eval"
POOL = ("北京理工大学里礼李埋工エ丁公功攻学字院珠海业亚华延安自然科德以明精团结勤奋求实创新东南西区研究生"
        "招办校友会表白墙二手泉州医高专卫生师范學習 bit BIT beiligong bjlgdx qzmc Beijing Institute of "
        "Technology Quanzhou Medical ·丶|_-【】🌟\u200b　ＢＩＴ")
# Characters of the family schools, their look-alikes and homophones, campus and entity words.
POOL_FAMILIES = ("重庆崇虫中钟仲chongda浙江大学中山东方理工学院国立广东求是书院自强不息医学附属第一哲折淅汪孛夫太字达中钟忠山大达学雪"
                 "人的树洞学姐生篮球城型客车集团有限公司香港代表常委会吧考研校园我在读书 zju ZJU sysu zheda zhongda kaoyan "
                 "xiaoyuan Zhejiang University of Technology Sun Yat sen Univ Univers Sci Tech China 中国科学技术大学中科大 ustc ·.-丶|_ \u200b ⻄ Ζ Ѕ е")
BIOS = ["", "毕业于北京理工大学", "北理工官方账号", "官方授权", "北京理工大学珠海学院官方", "泉州医高专校友", "BIT official",
        "beiligong 官方", "中山大学学生自营", "香港中文大学校友会", "非官方，浙大在读", "中大置业有限公司",
    "Official account of Zhejiang University", "与浙江大学官方无关", "位于海外，Oriental Institute of Arts"]


def _full(matcher, c):
    """The judgement without the prefilter."""
    key = (c.platform, c.account_id)
    if key in matcher.registered:
        return matcher.match_many([c])[0]
    return matcher._analyse(c, key, normalize(c.name), normalize(c.bio) if c.bio else None)


def _candidates(seed: int, n: int, matcher=BIT) -> list[Candidate]:
    rng = random.Random(seed)
    pool = POOL if matcher in (BIT, QZMC) else POOL_FAMILIES
    terms = [t for _, t in matcher.school.configured()]
    disguise = [lambda t: t, lambda t: " ".join(t), lambda t: t.upper(), lambda t: t[:-1], lambda t: t.replace("工", "エ")]
    out = []
    for i in range(n):
        name = "".join(rng.choice(pool) for _ in range(rng.randint(0, 14)))
        if rng.random() < 0.3:  # plant a protected term, whole, cut or disguised
            at = rng.randint(0, len(name))
            name = name[:at] + rng.choice(disguise)(rng.choice(terms)) + name[at:]
        out.append(Candidate(rng.choice(["weibo", "wechat", "kuaishou"]), f"r{i}", name, rng.choice(BIOS)))
    out += [Candidate("douyin", f"t{i}", name) for i, (_, name, _) in enumerate(SUSPECT + CLEAR)]
    out += [Candidate("douyin", f"f{i}", name, bio) for i, (_, _, name, bio, _) in enumerate(ROWS)]
    out += [Candidate("tieba", f"b{i}", name, bio) for i, (_, _, name, bio, _) in enumerate(ROWS)]
    out += [Candidate("weibo", "1891724861", "北京理工大学"), Candidate("weibo", "2200000456", "随便"),
            Candidate("wechat", "x", "北理工校友张三")]
    for cases in sorted(EVAL_DIR.glob("cases_*.jsonl")) if EVAL_DIR.exists() else ():
        for line in cases.read_text(encoding="utf-8").splitlines():
            case = json.loads(line)
            out.append(Candidate(case["platform"], str(case["account_id"]), case["name"], case.get("bio") or ""))
    return out


@pytest.mark.parametrize("matcher", [BIT, QZMC, ZJU, SYSU, CQU, USTC, IDIOM, MEDICAL],
                         ids=["BIT", "QZMC", "ZJU", "SYSU", "CQU", "USTC", "IDIOM", "MEDICAL"])
def test_batch_verdicts_equal_full_judgement(matcher):
    cands = _candidates(5, 4000, matcher)
    batch = matcher.match_many(cands)
    full = [_full(matcher, c) for c in cands]
    diffs = [(c.name, c.bio, b, f) for c, b, f in zip(cands, batch, full, strict=True) if b != f]
    assert not diffs, diffs[:3]
    assert sum(r.verdict == "suspect" for r in batch) > 50  # the generated names do exercise the matcher


def test_batch_normalisation_equals_one_by_one():
    texts = [c.name for c in _candidates(9, 2000)] + ["a\nb", "哈 工 大\n学", "", " ", "乾\n隆", "x\u2028y", "\r\n"]
    batch = normalize_batch(texts)
    assert [batch.item(i) for i in range(len(texts))] == [normalize(t) for t in texts]


def test_trie_pattern_matches_exactly_its_words():
    import re

    words = ["beiligong", "beili", "bjlgdx", "beijing", "b.c"]
    rx = re.compile(f"^(?:{trie_pattern(words)})$")
    assert all(rx.match(w) for w in words)
    assert not any(rx.match(w) for w in ["bei", "beiligon", "bjl", "bxc", "beijingx"])
