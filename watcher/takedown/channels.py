"""Where each platform takes a complaint about an impersonating account, and under which category.

Each platform declares its channel in its spider module (``COMPLAINT``, read through
:mod:`spiders.catalog`). The paths are the platforms' public report/complaint menus as their own
help and announcement pages and the guides listed in docs/takedown.md describe them; menus
change, so the pack says to check the path in the app before filing. Impersonating a university is, in every
platform's words, 冒充/仿冒他人 (or 混淆他人); a name the school holds is 名称权/商标; an
account that asks for money is 诈骗, which also goes to the police (96110/110).
"""

from __future__ import annotations

from spiders import catalog
from spiders.catalog import Complaint

FRAUD = "诈骗：若账号索要钱款、收集个人信息或冒充招生/缴费，另向公安机关报案（96110 反诈专线或 110），并向 12377 举报"
NATIONAL = ("中央网信办违法和不良信息举报中心 12377（www.12377.cn）：平台逾期不处理时，"
            "以“仿冒党政机关、事业单位账号”向其举报")

# A platform whose descriptor names no channel (the school's own sites): the generic advice.
FALLBACK = Complaint("平台举报入口", "账号主页 →“举报”或“投诉”→“冒充他人”；找不到时联系平台客服",
                     ("冒充他人", "侵犯名称权", "诈骗"))


def channel(platform: str) -> Complaint:
    """The platform's complaint channel, from its descriptor (``spiders.<platform>.COMPLAINT``)."""
    try:
        return catalog.get(platform).complaint or FALLBACK
    except catalog.UnknownPlatform:
        return FALLBACK


def category(platform: str, *, office: bool, fraud: bool) -> str:
    """The category to choose for one finding: 诈骗 when the account asks for money, otherwise the
    platform's impersonation category (an office name is also the school's name right: named)."""
    ch = channel(platform)
    if fraud:
        return next((c for c in ch.categories if "诈骗" in c), ch.categories[0])
    return ch.categories[0]


def label(platform: str) -> str:
    return catalog.label(platform)
