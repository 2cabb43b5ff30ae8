"""Table-driven: the failure families of matching on schools it was not tuned on (issue 13).

The schools here are not the development sets' schools: every rule must hold for any school.
Each table is one family; each row a name (and bio) and the verdict it must get.
"""

import pytest

from watcher.matching import Candidate, Matcher, SchoolTerms

ZJU = Matcher(
    SchoolTerms("浙江大学", ["浙江大学"], ["浙大", "ZJU"], ["Zhejiang University"], ["求是书院", "国立浙江大学"], ["求是创新"]),
    registry=[{"platform": "weibo", "account_id": "z1", "account_name": "浙江大学", "unit": "党委宣传部", "status": "active"},
              {"platform": "wechat", "account_id": "z2", "account_name": "启真湖畔", "unit": "校团委", "status": "active"}],
    others=["浙江工业大学", "浙江理工大学", "Zhejiang University City College"],
)
SYSU = Matcher(
    SchoolTerms("中山大学", ["中山大学"], ["中大", "SYSU"], ["Sun Yat-sen University"], ["国立中山大学", "国立广东大学"],
                []),
    others=["中山大学南方学院"],
)
# A school whose name has a character read differently inside it (重 of 重庆: chong, not zhong).
CQU = Matcher(SchoolTerms("重庆大学", ["重庆大学"], ["重大", "CQU"], ["Chongqing University"], [], []))
# A school whose English name opens with a generic word.
USTC = Matcher(SchoolTerms("中国科学技术大学", ["中国科学技术大学"], ["中科大", "USTC"],
                           ["University of Science and Technology of China"], [], []))
# A school whose motto is an everyday idiom, and whose historical name has a generic tail.
IDIOM = Matcher(
    SchoolTerms("东方理工学院", ["东方理工学院"], ["东理"], [], ["国立东方学院"], ["自强不息"]),
)
# A school of a university: the parent university is another institution, yet a prefix of ours.
MEDICAL = Matcher(SchoolTerms("浙江大学医学院", ["浙江大学医学院"], ["浙大医学院"], [], [], []), others=["浙江大学"])


def verdict(m: Matcher, name: str, bio: str = "", platform: str = "douyin") -> str:
    return m.match(Candidate(platform, "x", name, bio)).verdict


BOUNDARY = [
    # The rest of the name splits cleanly after the short name, though 大+next forms a word.
    (ZJU, "浙大树洞", "", "suspect"),
    (ZJU, "浙大学姐答疑", "", "suspect"),
    (ZJU, "浙大學生會", "", "suspect"),
    (ZJU, "浙大人的一天", "", "suspect"),
    (SYSU, "中大学长带你选课", "", "suspect"),
    # ... it does not: the name's last character belongs to the next word.
    (ZJU, "浙江大学生篮球赛", "", "clear"),
    (ZJU, "浙江大学城公寓出租", "", "clear"),
    (ZJU, "全省浙江大学习会", "", "clear"),
    (SYSU, "广东中山大学生就业", "", "clear"),
    (SYSU, "中大型客车之家", "", "clear"),
    # A full name, a proper name and a unit word: one of our colleges (学成 is a word, 成贤 a name).
    (ZJU, "浙江大学成贤学院", "", "suspect"),
    # The short name's first character closes a word on its left.
    (SYSU, "集中大扫除", "", "clear"),
]


AMBIGUOUS_SHORT = [
    # Evidence for the school: the bare name, campus words, "…人", "我在…", a bio about it.
    (SYSU, "中大", "", "suspect"),
    (SYSU, "中大考研", "", "suspect"),
    (SYSU, "我在中大读书", "", "suspect"),
    (SYSU, "中大校园日记", "", "suspect"),
    (SYSU, "中大", "中山大学学生自营", "suspect"),
    (SYSU, "资料站", "中大官方授权", "suspect"),
    # No evidence, or evidence against: a company, a place before it, a bio naming another one.
    (SYSU, "中大钢铁", "", "clear"),
    (SYSU, "中大办公室", "", "clear"),  # words any organisation uses are no evidence of a school
    (SYSU, "中大招生办", "", "suspect"),
    (SYSU, "中大集团", "", "clear"),
    (SYSU, "中大", "中大置业有限公司", "clear"),
    (SYSU, "香港中大", "", "clear"),
    (SYSU, "香港中大", "中大置业", "clear"),
    (SYSU, "香港中大表白墙", "", "clear"),  # another place's namesake, whatever the name speaks of
    (SYSU, "广东中大", "中山大学学生自营", "suspect"),  # 广东 is in our historical name 国立广东大学
    (CQU, "重庆重大", "重庆大学学生自营", "suspect"),  # the school's own city is no other place
    (SYSU, "中大", "香港中文大学校友会", "clear"),
    (SYSU, "中大表白墙", "香港中文大学投稿墙", "clear"),
    (SYSU, "中大附中", "", "clear"),
    (SYSU, "中大代表团", "", "clear"),
    (SYSU, "中大医科大学表白墙", "", "clear"),  # the opening of another university's name
    (SYSU, "我在中大读大学", "", "suspect"),
    # Student clubs and campus services borrow the short name most often.
    (ZJU, "浙大跑团", "", "suspect"),
    (ZJU, "浙大读书会", "", "suspect"),
    (SYSU, "中大勤工助学", "", "suspect"),
    (SYSU, "中大车协", "", "suspect"),
    (SYSU, "中大钢铁集团篮球队", "", "clear"),  # a company's team: the entity word still wins
    (SYSU, "资料站", "江苏省中大常委会官方", "clear"),
]


LATIN = [
    # Cyrillic and Greek letters in English names and acronyms.
    (ZJU, "Zhеjiang University", "", "suspect"),
    (ZJU, "Ζhejiang Univеrsity", "", "suspect"),
    (ZJU, "ΖJU校园", "", "suspect"),
    (SYSU, "ЅYSU官方", "", "suspect"),
    (ZJU, "Zhèjiāng Dàxué", "", "suspect"),  # pinyin with tone marks
    (ZJU, "Zhéjiang Univérsity", "", "suspect"),
    # Spelt out letter by letter.
    (ZJU, "Z.J.U 新生", "", "suspect"),
    (SYSU, "S-Y-S-U 校园", "", "suspect"),
    (USTC, "Univ. of Sci. & Tech. of China", "", "suspect"),
    (USTC, "University of Science and Technology Beijing", "", "clear"),
    # Other universities whose English names start like ours.
    (ZJU, "Zhejiang University of Technology", "", "clear"),
    (ZJU, "Zhejiang University of Science and Technology", "", "clear"),
    # Acronyms inside words, and longer acronyms.
    (ZJU, "ZJUT浙工大", "", "clear"),
    (ZJU, "Zhejiang University City College", "", "clear"),  # in others, in English
    (SYSU, "sysuite软件", "", "clear"),
]


HOMOPHONES_AND_PINYIN = [
    (ZJU, "哲大表白墙", "", "suspect"),
    (ZJU, "折大二手", "", "suspect"),
    (ZJU, "zheda_kaoyan", "", "suspect"),
    (SYSU, "zhongda_xiaoyuan", "", "suspect"),
    (ZJU, "浙江大雪考研", "", "suspect"),
    (ZJU, "Zheda Travel", "", "clear"),
    (SYSU, "Zhongda Steel", "", "clear"),
    (SYSU, "中达电子", "", "clear"),
    (CQU, "崇大二手", "", "suspect"),
    (CQU, "chongda_kaoyan", "", "suspect"),
    (CQU, "chongqingdaxue", "", "suspect"),
    (CQU, "重大事故通报", "", "clear"),
    (CQU, "重庆大学城租房", "", "clear"),
    # A homophone that makes an everyday phrase needs the same evidence.
    (ZJU, "浙江大雪预警", "浙江天气实况", "clear"),
    # The everyday phrase as the whole name: a bio that speaks of something else decides it; with
    # no bio, or a bio about the school, it stands for the school.
    (ZJU, "浙江大雪", "天气", "clear"),
    (ZJU, "浙江大雪", "", "suspect"),
    (ZJU, "浙江大雪", "浙江大学学生自营", "suspect"),
]


SHAPES = [
    (ZJU, "浙江大字", "", "suspect"),       # 字/学, hand table
    (ZJU, "淅江大学", "", "suspect"),       # 淅/浙, four-corner code one digit apart
    (SYSU, "中山大孛", "", "suspect"),      # 孛/学
    (SYSU, "中山夫学", "", "suspect"),      # 夫/大
    (ZJU, "浙汪大学研究生", "", "suspect"),  # 汪/江
    (ZJU, "⻄湖浙大", "", "clear"),          # a radical folds to 西; 西湖浙大 alone has no campus word
    (SYSU, "扩大考研招生", "", "clear"),      # 扩 has 中's shape code, but 扩大 is a word of its own
    (SYSU, "中犬考研", "", "suspect"),        # 犬/大 from the hand table, no word
]


BIOS = [
    (ZJU, "留学顾问", "Official account of Zhejiang University", "suspect"),
    (ZJU, "留学顾问", "Authorized partner of Zhejiang University", "suspect"),
    (ZJU, "资料站", "浙大官方授权", "suspect"),
    (ZJU, "资料站", "非官方，浙大在读", "clear"),
    (ZJU, "资料站", "非官方账号，浙江大学在读", "clear"),
    (ZJU, "资料站", "Unofficial fan page of Zhejiang University", "clear"),
    (ZJU, "资料站", "与浙江大学官方无关", "clear"),
    (ZJU, "资料站", "非学校官方账号，浙江大学同学自建", "clear"),
    (ZJU, "资料站", "并非浙江大学官方平台", "clear"),
    (ZJU, "资料站", "This is not an official account of Zhejiang University", "clear"),
    (ZJU, "资料站", "非常官方的浙江大学资讯，官方授权", "suspect"),
    (ZJU, "资料站", "毕业于浙江大学", "clear"),
]


IDIOMS_AND_HISTORY = [
    (IDIOM, "自强不息", "东方理工学院学生自营", "suspect"),
    (IDIOM, "自强不息", "", "clear"),
    (IDIOM, "老王自强不息聊创业", "", "clear"),
    (IDIOM, "国立东方学院", "", "suspect"),
    (IDIOM, "国立东方学院", "位于海外，Oriental Institute of Arts", "clear"),
]


AFFILIATED_SCHOOLS = [
    # A primary or secondary school named after the university is a school of its own.
    (ZJU, "浙江大学附属中学", "", "clear"),
    (ZJU, "浙大附小家长群", "", "clear"),
    (ZJU, "浙江大学附属第一医院", "", "suspect"),
    (ZJU, "浙江大学附中校友会", "", "clear"),
]


REGISTRY_COPIES = [
    # A registered name without any protected name in it, copied whole or inside a longer name.
    (ZJU, "启真湖畔", "", "suspect"),
    (ZJU, "启真湖畔表白墙", "", "suspect"),
    (ZJU, "启真湖畔民宿", "", "suspect"),
    (ZJU, "启真教育", "", "clear"),
]


OTHERS_MASKING = [
    (MEDICAL, "浙江大学医学院附属第一医院", "", "suspect"),
    (MEDICAL, "浙江大学医学院", "", "suspect"),
    (MEDICAL, "浙江大学", "", "clear"),
]


FAMILIES = {
    "boundary": BOUNDARY, "ambiguous-short": AMBIGUOUS_SHORT, "latin": LATIN,
    "homophones-pinyin": HOMOPHONES_AND_PINYIN, "shapes": SHAPES, "bios": BIOS,
    "idioms-history": IDIOMS_AND_HISTORY, "affiliated-schools": AFFILIATED_SCHOOLS, "registry-copies": REGISTRY_COPIES,
    "others-masking": OTHERS_MASKING,
}
ROWS = [(family, *row) for family, rows in FAMILIES.items() for row in rows]


@pytest.mark.parametrize("family, m, name, bio, expected", ROWS, ids=[f"{r[0]}:{r[2]}|{r[3]}" for r in ROWS])
def test_family(family, m, name, bio, expected):
    r = m.match(Candidate("douyin", "x", name, bio))
    assert r.verdict == expected, (family, r)


def test_tieba_bar_name_counts_as_bare():
    assert verdict(SYSU, "中大吧", platform="tieba") == "suspect"


def test_reasons_name_the_evidence():
    r = SYSU.match(Candidate("douyin", "x", "中大考研"))
    assert any("简称「中大」" in x and "考研" in x for x in r.reasons), r.reasons
    r = SYSU.match(Candidate("douyin", "x", "香港中大"))
    assert any("香港" in x and "不计为本校" in x for x in r.reasons), r.reasons
    r = ZJU.match(Candidate("douyin", "x", "Zhеjiang University"))
    assert "英文名「Zhejiang University」" in r.reasons[0]


def test_a_homophone_is_never_the_same_characters():
    # 浙江大学 fails its boundary in 浙江大学生篮球赛; the homophone search must not find the same
    # characters again with nothing substituted.
    r = ZJU.match(Candidate("douyin", "x", "浙江大学生篮球赛"))
    assert r.verdict == "clear"
    assert not any("谐音：" in x and x.split("谐音：")[1].startswith("）") for x in r.reasons)
    r = ZJU.match(Candidate("douyin", "x", "浙江达学"))
    assert r.verdict == "suspect" and any("谐音：达→大" in x for x in r.reasons), r.reasons


def test_registered_accounts_are_still_decided_by_id_only():
    assert verdict(ZJU, "随便", platform="weibo") == "clear"
    assert ZJU.match(Candidate("weibo", "z1", "香港中大")).verdict == "registered"
