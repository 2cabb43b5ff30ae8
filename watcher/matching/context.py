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
    "国际交流", "校区", "附属", "附中", "附小", "医院", "出版社", "档案馆", "博物馆", "基金会", "教育",
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
    "官方发布", "官方合作",
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


@lru_cache(maxsize=32)
def _any_of(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(map(re.escape, sorted(words, key=len, reverse=True))))


def find_words(text: str, words: tuple[str, ...]) -> list[str]:
    if not _any_of(words).search(text):
        return []  # one C-level scan settles the common case
    found = [w for w in words if w in text]
    # Report 研究生院 rather than both 研究生院 and 研究生.
    return [w for w in found if not any(w != o and w in o for o in found)]
