"""Table-driven: every disguise must be caught, every trap must stay clear (two schools)."""

import pytest

from watcher.matching import Candidate, Matcher, SchoolTerms

BIT = Matcher(
    SchoolTerms("北京理工大学", ["北京理工大学"], ["北理工", "北理", "京工", "BIT"],
                ["Beijing Institute of Technology"], ["北京工业学院"], ["德以明理学以精工"]),
    registry=[
        {"platform": "weibo", "account_id": "1891724861", "account_name": "北京理工大学", "unit": "党委宣传部", "tier": 1, "status": "active"},
        {"platform": "wechat", "account_id": "gh_bit_grad", "account_name": "北理工研究生", "unit": "研究生院", "tier": 2, "status": "active"},
        {"platform": "weibo", "account_id": "2200000456", "account_name": "北理工招生", "unit": "招生办公室", "tier": 2, "status": "closed"},
    ],
    units=[("计算机学院", ["计算机"]), ("研究生院", [])],
    others=["北京工业大学", "华北理工大学", "北京理工大学珠海学院"],
    allow=["北理工校友张三"],
)

QZMC = Matcher(
    SchoolTerms("泉州医学高等专科学校", ["泉州医学高等专科学校"], ["泉州医高专", "泉医专", "QZMC"],
                ["Quanzhou Medical College"], ["泉州卫生学校"], []),
    others=["泉州师范学院", "泉州医院"],
)

SUSPECT = [
    (BIT, "北京理工大学", "exact full name, other ID"),
    (BIT, "北京理工大學", "traditional"),
    (BIT, "北京理エ大学", "katakana"),
    (BIT, "北京里工大学", "homophone"),
    (BIT, "北 理 工", "spaces"),
    (BIT, "北理工丶", "decoration"),
    (BIT, "ＢＩＴ研究生", "full-width acronym with context"),
    (BIT, "BIT", "bare acronym"),
    (BIT, "bit_official", "acronym with office word"),
    (BIT, "beiligong", "pinyin"),
    (BIT, "bjlgdx", "initials"),
    (BIT, "Beijing Inst. of Tech.", "truncated English"),
    (BIT, "北理工表白墙", "community"),
    (BIT, "北理官方", "two-char term on boundary"),
    (BIT, "我在北理读研", "two-char term inside a sentence"),
    (BIT, "北京工业学院校友会", "historical"),
    (BIT, "德以明理学以精工", "motto"),
    (BIT, "北理工研究生", "copy of a registered name on another platform"),
    (QZMC, "泉州医高专", "short name"),
    (QZMC, "QZMC新生群", "Latin short name with community word"),
    (QZMC, "泉州醫學高等專科學校", "traditional"),
    (QZMC, "泉州医高专二手交易", "community"),
]

CLEAR = [
    (BIT, "orbit", "acronym inside a word"),
    (BIT, "Bitcoin资讯", "acronym inside a word"),
    (BIT, "habit养成", "acronym inside a word"),
    (BIT, "bit音乐", "English word without school context"),
    (BIT, "南京工业大学", "京工 across 南京+工业"),
    (BIT, "北京工人体育场", "京工 across 北京+工人"),
    (BIT, "东北理疗馆", "北理 across 东北+理疗"),
    (BIT, "北理想家居", "北理 across 理想"),
    (BIT, "北京工业大学", "other institution"),
    (BIT, "北京工業大學", "other institution, traditional"),
    (BIT, "華北理工大學", "other institution containing 北理工"),
    (BIT, "北理工校友张三", "allow-listed"),
    (BIT, "Beijing Normal University", "other English name"),
    (QZMC, "泉州师范学院", "other institution"),
    (QZMC, "泉州美食", "city name only"),
    (QZMC, "qzmcx", "acronym glued into a longer token"),
]


@pytest.mark.parametrize("matcher, name, why", SUSPECT, ids=[s[1] for s in SUSPECT])
def test_suspects(matcher, name, why):
    r = matcher.match(Candidate("douyin", "x1", name))
    assert r.verdict == "suspect", (why, r)
    assert r.reasons and r.score >= 60


@pytest.mark.parametrize("matcher, name, why", CLEAR, ids=[s[1] for s in CLEAR])
def test_clear(matcher, name, why):
    r = matcher.match(Candidate("douyin", "x2", name))
    assert r.verdict == "clear", (why, r)


def test_registered_only_by_platform_and_id():
    assert BIT.match(Candidate("weibo", "1891724861", "随便什么名字")).verdict == "registered"
    r = BIT.match(Candidate("weibo", "999", "北京理工大学"))
    assert r.verdict == "suspect"
    assert any("已备案账号「北京理工大学」" in x and "账号ID不同" in x for x in r.reasons)
    assert r.unit == "党委宣传部"


def test_closed_account_still_in_use_is_suspect():
    r = BIT.match(Candidate("weibo", "2200000456", "北理工招生"))
    assert r.verdict == "suspect" and any("已注销" in x for x in r.reasons)


def test_platform_without_registered_account_is_reported():
    r = BIT.match(Candidate("kuaishou", "k1", "北理工"))
    assert any("本校在快手没有备案账号" in x for x in r.reasons)


def test_office_words_raise_the_score_and_name_the_unit():
    plain = BIT.match(Candidate("douyin", "a", "北理工"))
    office = BIT.match(Candidate("douyin", "b", "北理工计算机学院"))
    assert office.score > plain.score
    assert office.unit == "计算机学院"
    assert office.office and not plain.office


@pytest.mark.parametrize("bio, verdict", [
    ("北京理工大学官方授权", "suspect"),
    ("北京理工大学官方账号", "suspect"),
    ("毕业于北京理工大学，十年开发经验", "clear"),
    ("北京理工大学硕士", "clear"),
    ("喜欢旅行", "clear"),
])
def test_bio_claims_versus_facts(bio, verdict):
    assert BIT.match(Candidate("weibo", "z", "信息分享站", bio)).verdict == verdict


def test_reasons_are_chinese_and_name_the_trick():
    r = BIT.match(Candidate("douyin", "x", "北京里工大学"))
    assert "谐音" in r.reasons[0] and "里→理" in r.reasons[0]
    r = BIT.match(Candidate("douyin", "x", "北京理エ大学"))
    assert "形近字" in r.reasons[0]


def test_result_carries_algorithm_version():
    assert BIT.match(Candidate("douyin", "x", "北理工")).algo.startswith("match-v")


def test_characters_without_a_known_reading_do_not_break_matching():
    # Rare CJK characters (extension B, new code points) have no pinyin in pypinyin's table; a
    # homophone check over a name that contains one must still work.
    r = BIT.match(Candidate("weibo", "rare", "北京里工大学\U0002A6D6"))
    assert r.verdict == "suspect" and "谐音" in r.reasons[0]
