"""Table-driven: the families of issue 25 (matching on schools never seen), on invented schools.

No school here is a development set's school, and no row copies a development case: each rule
must follow from the school's own configuration (names, units, registry, others).
"""

import pytest

from watcher.matching import Candidate, Matcher, SchoolTerms


def _reg(platform, account_id, name, unit):
    return {"platform": platform, "account_id": account_id, "account_name": name, "unit": unit, "status": "active"}


# A comprehensive university with a medical school: its units name its subjects.
LINJIANG = Matcher(
    SchoolTerms("临江大学", ["临江大学"], ["临大", "LJU"], ["Linjiang University", "Linjiang University Medical College"],
                ["临江师范学院"], ["明德笃行"]),
    registry=[_reg("weibo", "l1", "临江大学", "党委宣传部"),
              _reg("wechat", "l2", "临大一院", "附属第一医院"),
              _reg("weibo", "l3", "临江大学附属医院", "附属医院"),
              _reg("wechat", "l4", "临江大学继续教育学院报名中心", "继续教育学院"),
              # The affiliated hospital, under its own name: none of our names in it.
              _reg("wechat", "l5", "江州市第二人民医院", "附属医院")],
    units=[("护理学院", []), ("机械工程学院", []), ("党委宣传部", []), ("紫荆校区", [])],
    others=["临江师范大学", "临江大学城南学院", "临江理工大学"],
)
# A medical university: 医 in its name makes clinical subjects campus words, without any unit.
NANBIN = Matcher(SchoolTerms("南滨医科大学", ["南滨医科大学"], ["南滨医大", "NBMU"], ["Nanbin Medical University"], [], []))
# A school of a university, with the parent's acronym inside its own (PKUHSC-like).
HSC = Matcher(SchoolTerms("东岭大学医学部", ["东岭大学医学部"], ["DLUHSC"], ["Dongling University Health Science Center"],
                          [], []), others=["东岭大学"])
# An institute whose acronym could open an English word (oit → "oiter").
OIT = Matcher(SchoolTerms("东方理工学院", ["东方理工学院"], ["东理", "OIT"], ["Oriental Institute of Technology"], [], []))


def verdict(m: Matcher, name: str, bio: str = "", platform: str = "douyin") -> str:
    return m.match(Candidate(platform, "x", name, bio)).verdict


FAMILIES = {
    "glued acronym": [
        (LINJIANG, "LJUer", "", "suspect"),
        (LINJIANG, "LJUers的日常", "", "suspect"),
        (LINJIANG, "ljuer", "", "suspect"),  # lj- opens no English word
        (OIT, "OITer成长记", "", "suspect"),
        (OIT, "oiter", "", "clear"),          # could be an English word: capitals needed
        (LINJIANG, "LJUT", "", "clear"),      # another acronym, not ours with a suffix
    ],
    "mixed pinyin": [
        (LINJIANG, "lin大表白墙", "", "suspect"),
        (LINJIANG, "临da二手", "", "suspect"),
        (LINJIANG, "临jiang大学招生", "", "suspect"),
        (LINJIANG, "berlin大咖", "", "clear"),  # lin ends an English word
        (LINJIANG, "lin大健身", "", "clear"),  # read as 临大, still needs evidence
    ],
    "doubled 大": [
        (LINJIANG, "临大大讲堂", "", "suspect"),
        (LINJIANG, "临大大数据考研", "", "suspect"),
        (LINJIANG, "临大大排档", "", "suspect"),
        (LINJIANG, "临大大药房有限公司", "", "clear"),  # a company says so
        (NANBIN, "南滨医大大药房", "", "suspect"),  # a four-character short name, the same
        (NANBIN, "南滨医大大药房", "滨海医药连锁有限公司门店", "clear"),  # the bio shows a company
        (LINJIANG, "临江大学生活动", "", "clear"),    # 临江 + 大学生: unchanged
        (OIT, "东理理发店", "", "clear"),             # another doubled character: it stands, no more
    ],
    "two protected names": [
        (LINJIANG, "临大LJU", "", "suspect"),
        (LINJIANG, "LJU·临大", "", "suspect"),
        (LINJIANG, "LJU健身", "", "clear"),
    ],
    "registered name in a service name": [
        (LINJIANG, "临大一院挂号代办", "", "suspect"),
        (LINJIANG, "临大附院陪诊", "", "suspect"),  # a shortening of 临江大学附属医院
        (LINJIANG, "临大二手车行", "", "suspect"),  # 二手 is campus context anyway
        (LINJIANG, "临大烧烤", "", "clear"),
        (LINJIANG, "江州二院挂号代办", "", "suspect"),  # a registered name without ours, shortened
        (LINJIANG, "江州市二院陪诊", "", "suspect"),
        (LINJIANG, "江州二院", "", "clear"),          # no service word: just the hospital's nickname
        (LINJIANG, "江州三院挂号", "", "clear"),      # another hospital
    ],
    "near-names of the registry": [
        (LINJIANG, "临海大学继续教育学院报名中心", "", "clear"),  # another place
        (LINJIANG, "临江大学继续教育学院报名中心", "", "suspect"),
    ],
    "bio names another institution": [
        (LINJIANG, "临大考研", "毕业于江州科技大学，分享考研经验", "clear"),
        (LINJIANG, "临大考研", "临江大学在读，分享考研经验", "suspect"),
        (LINJIANG, "LJU", "江州科技大学校友", "clear"),
        (LINJIANG, "明德笃行", "临师大学子自营", "clear"),  # an abbreviation of 临江师范大学
        (LINJIANG, "明德笃行", "临江大学校训", "suspect"),
    ],
    "discipline words": [
        (LINJIANG, "LJU护理", "", "suspect"),   # from the unit 护理学院
        (LINJIANG, "LJU机械考证", "", "suspect"),  # from 机械工程学院
        (LINJIANG, "LJU紫荆", "", "suspect"),   # a campus of ours
        (NANBIN, "NBMU口腔", "", "suspect"),   # 医 in the name: clinical subjects
        (NANBIN, "NBMU规培日记", "", "suspect"),
        (NANBIN, "NBMU机械", "", "clear"),     # not this school's subject
        (LINJIANG, "LJU烧烤", "", "clear"),
    ],
    "motto and others": [
        (LINJIANG, "明德笃行科技", "工业软件供应商", "clear"),  # a company's name: the motto + 科技
        (LINJIANG, "明德笃行文化传媒", "", "clear"),
        (LINJIANG, "明德笃行", "", "suspect"),
        (LINJIANG, "临大城南学院表白墙", "", "clear"),  # 临江大学城南学院 by our short name
        (LINJIANG, "临江大学路咖啡", "", "clear"),      # a street
        (LINJIANG, "临江大学街舞社", "", "suspect"),    # 街舞 is a word: a club, no street
    ],
    "english with acronym": [
        (LINJIANG, "LJU Medical College", "", "suspect"),
        (LINJIANG, "LJU-Medical College", "", "suspect"),
        (LINJIANG, "Linjiang Univ Medical College", "", "suspect"),
        (LINJIANG, "LJU Medical", "", "clear"),  # neither the name nor campus context
        (LINJIANG, "LJU-Oxford Institute", "", "suspect"),  # a joint institute: our acronym, hyphenated
        (HSC, "DLU Health Science Center", "", "suspect"),  # the parent's acronym + the rest of our name
        (HSC, "DLU HSC", "", "suspect"),
        (HSC, "DLU", "", "clear"),                        # the parent alone is not us
        (HSC, "DLU Health Science Center of Sports", "", "clear"),
    ],
}
ROWS = [(family, *row) for family, rows in FAMILIES.items() for row in rows]


@pytest.mark.parametrize("family, m, name, bio, expected", ROWS, ids=[f"{r[0]}:{r[2]}|{r[3]}" for r in ROWS])
def test_family(family, m, name, bio, expected):
    assert verdict(m, name, bio) == expected, m.match(Candidate("douyin", "x", name, bio)).reasons


def test_reasons_say_how_the_name_was_read():
    r = LINJIANG.match(Candidate("douyin", "x", "lin大表白墙"))
    assert "名称中的拼音「lin」读作「临」" in r.reasons
    r = LINJIANG.match(Candidate("douyin", "x", "临大一院挂号代办"))
    assert any("已备案账号「临大一院」" in x for x in r.reasons)
    r = LINJIANG.match(Candidate("douyin", "x", "临海大学继续教育学院报名中心"))
    assert any("不含本校名称" in x for x in r.reasons)


def test_batch_path_gives_the_full_judgement():
    """The prefilter flags every name these rules can score (mixed pinyin, -er forms …): judged in
    one batch, every row gets the verdict the full judgement gives it alone."""
    from watcher.matching.normalize import normalize

    for m in (LINJIANG, NANBIN, OIT, HSC):
        rows = [(name, bio) for _, mm, name, bio, _ in ROWS if mm is m]
        batch = m.match_many([Candidate("douyin", f"b{i}", name, bio) for i, (name, bio) in enumerate(rows)])
        for (name, bio), got in zip(rows, batch, strict=True):
            full = m._analyse(Candidate("douyin", "x", name, bio), ("douyin", "x"), normalize(name),
                              normalize(bio) if bio else None)
            assert (got.verdict, got.score) == (full.verdict, full.score), name
