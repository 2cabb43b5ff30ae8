"""Word lists that put a name hit in context. They are about how Chinese accounts are named in
general, not about any one school, and are shared by every school's configuration."""

from __future__ import annotations

import re
from functools import lru_cache

# Words that make an account look like an office of the school: impersonating one misleads
# the public most, so they raise the score.
OFFICE_WORDS: tuple[str, ...] = (
    "官方", "官微", "官号", "官博", "官网", "认证", "招生", "招办", "招考", "教务", "办公室", "校友会",
    "研究生院", "学院", "学部", "团委", "学生会", "研究生会", "党委", "宣传部", "新闻中心", "融媒体",
    "信息公开", "图书馆", "就业", "后勤", "保卫处", "校办", "校长", "书记", "发布", "通知", "本科",
    "国际交流", "校区", "附属", "医院", "出版社", "档案馆", "博物馆", "基金会", "教育", "教务处", "研招",
    "official", "admission", "admissions", "office",
)

# Community accounts (confession walls, second-hand markets, freshman groups) are not offices
# but still use the school's name without approval: they remain suspects, without the raise.
COMMUNITY_WORDS: tuple[str, ...] = (
    "表白墙", "表白", "二手", "跳蚤", "新生群", "新生", "校园", "同学", "学生", "生活", "指南", "攻略",
    "树洞", "吐槽", "资讯", "考研", "读研", "学长", "学姐", "交流", "互助", "日常", "圈", "墙", "群",
    "campus", "student", "students", "alumni",
)

# A bio that claims to speak for the school makes even a neutral name a suspect ...
CLAIM_WORDS: tuple[str, ...] = (
    "官方", "授权", "官方账号", "官方认证", "官微", "唯一", "指定", "校方", "代表学校", "官方平台",
    "官方发布", "官方合作", "official", "authorized", "authorised",
)
# Words of agents and scalpers trading on a registered account's name (a hospital's 挂号 agent, a
# school's 报名点): beside a shortened registered name they make the name a copy of it.
SERVICE_WORDS: tuple[str, ...] = (
    "挂号", "代挂", "代办", "代购", "代取", "代报", "代报名", "报名点", "陪诊", "跑腿", "咨询", "加v", "加微", "黄牛", "号贩",
    "代约", "专家号", "代缴", "中介",
)
# ... unless it says the opposite: 非官方账号, not official, unofficial.
_CLAIMED = r"(?:官方|授权|official|authori[sz]ed)"
_DISCLAIMER = re.compile(
    # 非官方, 非本校官方, unofficial, not an official …
    rf"(?:非|没有|未经|un|non|not(?:an?|the)?)(?:学校|校方|本校|该校)?{_CLAIMED}"
    # 并非南京大学官方, 不代表学校官方 (an unmistakable negation may stand a few characters off)
    rf"|(?:并非|不是|不代表|不属于)\w{{0,8}}?{_CLAIMED}"
    r"|(?:非|并非|不是)(?:学校|校方|本校|该校)"
)
# ... while a factual mention (where someone studied or works) does not.
FACTUAL_WORDS: tuple[str, ...] = (
    "毕业于", "毕业", "校友", "硕士", "博士", "本科", "学士", "就读于", "就读", "在读", "曾就读", "工作于",
    "任职于", "任教于", "博士后", "访问学者", "研究生",
)

# Evidence that an ambiguous short Latin term (BIT, HIT — also English words) means the school.
SCHOOL_CONTEXT: tuple[str, ...] = (
    *OFFICE_WORDS, *COMMUNITY_WORDS, "大学", "学校", "研究生", "学院", "校", "university", "college",
    "institute", "school", "univ", "edu",
)


# Evidence that an ambiguous short name (人大, 西电, 南大 — also a legislature, a company, a street)
# means a school: words of campus life, of a school's offices and of its subjects. Words that any
# organisation uses (交流, 资讯, 发布, 办公室, 党委, 新闻中心) are left out — a congress has an office
# and a press centre too —; so is 大学 itself, which every other university's name carries.
_ANY_ORGANISATION = frozenset({"发布", "通知", "教育", "认证", "医院", "附属", "官网", "official", "office", "办公室", "党委",
                               "宣传部", "新闻中心", "融媒体", "信息公开", "书记", "团委", "出版社", "博物馆", "基金会",
                               "档案馆"})
CAMPUS_WORDS: tuple[str, ...] = (
    *(w for w in OFFICE_WORDS if w not in _ANY_ORGANISATION),
    *(w for w in COMMUNITY_WORDS if w not in ("生活", "指南", "攻略", "资讯", "交流", "互助", "圈", "墙", "群")),
    "食堂", "宿舍", "社团", "保研", "读博", "考博", "学弟", "学妹", "校内", "校史", "母校", "选课", "期末", "军训",
    "迎新", "自习", "留学生", "实验室", "课题组", "新传", "法学", "经管", "计算机", "软件", "金融", "校庆",
    "录取", "毕业", "研究生", "校友", "本科生", "大学生", "博士生", "硕士",
    # Student organisations and campus services: the clubs and help desks that most often borrow
    # a school's short name (武大跑团, 北大勤工助学); a legislature or a company does not name
    # itself this way.
    "协会", "俱乐部", "读书会", "跑团", "车协", "青协", "志愿者", "记者团", "广播台", "合唱团", "话剧社",
    "篮球队", "足球队", "勤工助学", "助学", "奖学金", "辅导员", "导师", "课程", "课表", "寝室", "开学",
    "毕业季", "运动会", "教学楼", "校报", "学报", "讲座", "学霸", "失物招领", "拼车",
)
# The same for Latin tokens (campus, alumni, CS), the pinyin of the words above is added by
# :func:`latin_campus_words`.
LATIN_CAMPUS_WORDS: frozenset[str] = frozenset({
    "campus", "student", "students", "alumni", "university", "univ", "college", "school", "official", "admission",
    "admissions", "edu", "cs", "ee", "acm", "bbs", "mba", "phd", "lab", "freshman", "grad", "club", "society",
    "union", "association", "library", "team", "institute", "academy",
})
# A member of the school: 北大人, 西电人的日常. Taken as campus evidence right after the name.
MEMBER_SUFFIX = "人"

# Words of another kind of entity: a company, a legislature, a K-12 school. Near an ambiguous
# short name they say it means that entity (西电集团, 人大常委会, 人大代表, 人大附小).
ENTITY_WORDS: tuple[str, ...] = (
    "集团", "公司", "股份", "有限", "常委会", "人民代表大会", "代表", "政协", "委员会", "附中", "附小", "附属中学",
    "附属小学", "中学", "小学", "幼儿园", "政府",
)


# The trade a company's name states after its brand (求是创新科技, 厚德文化传媒): a motto used as
# a brand is a company's name, not the school's.
BUSINESS_TAILS: tuple[str, ...] = ("科技", "文化", "传媒", "实业", "贸易", "咨询", "网络", "信息技术", "商贸", "置业", "建设",
                                   "工程", "投资", "电子", "制造", "智能", "广告", "物业", "餐饮", "有限", "公司", "集团")


def business_tail(compact: str, end: int) -> str | None:
    return next((w for w in BUSINESS_TAILS if compact.startswith(w, end)), None)


# Primary and secondary schools named after a university (人大附中, 北京大学附属小学) are schools
# of their own, not the university.
AFFILIATED_SCHOOLS: tuple[str, ...] = ("附属实验学校", "附属幼儿园", "附属中学", "附属小学", "附属学校", "附中", "附小",
                                       "附幼")


@lru_cache(maxsize=1)
def latin_campus_words() -> frozenset[str]:
    from watcher.matching.terms import syllables

    return LATIN_CAMPUS_WORDS | {"".join(syllables(w)) for w in CAMPUS_WORDS if not w.isascii() and len(w) >= 2}


def without_disclaimers(text: str) -> str:
    """``text`` (compact, lower case) with its disclaimers (非官方, unofficial) cut out; a text that
    says it is unrelated (与本校无关) keeps nothing a claim could be read from."""
    if "无关" in text or "unaffiliated" in text:
        return ""
    return _DISCLAIMER.sub("", text)


@lru_cache(maxsize=32)
def _any_of(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(map(re.escape, sorted(words, key=len, reverse=True))))


def find_words(text: str, words: tuple[str, ...]) -> list[str]:
    if not _any_of(words).search(text):
        return []  # one C-level scan settles the common case
    found = [w for w in words if w in text]
    # Report 研究生院 rather than both 研究生院 and 研究生.
    return [w for w in found if not any(w != o and w in o for o in found)]
