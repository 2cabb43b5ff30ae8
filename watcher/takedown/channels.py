"""Where each platform takes a complaint about an impersonating account, and under which category.

The paths are the platforms' public report/complaint menus as described by the platforms' own
help and announcement pages and the guides listed in README (举报与下架); menus change, so the
pack says to check the path in the app before filing. Impersonating a university is, in every
platform's words, 冒充/仿冒他人 (or 混淆他人); a name the school holds is 名称权/商标; an
account that asks for money is 诈骗, which also goes to the police (96110/110).
"""

from __future__ import annotations

from dataclasses import dataclass

from spiders import catalog


@dataclass(frozen=True)
class Channel:
    label: str                # the platform's own words for the complaint
    path: str                 # how to get there, as a person clicks
    categories: tuple[str, ...]  # what to choose, the first fits most cases
    note: str = ""


FRAUD = "诈骗：若账号索要钱款、收集个人信息或冒充招生/缴费，另向公安机关报案（96110 反诈专线或 110），并向 12377 举报"
NATIONAL = ("中央网信办违法和不良信息举报中心 12377（www.12377.cn）：平台逾期不处理时，"
            "以“仿冒党政机关、事业单位账号”向其举报")

CHANNELS: dict[str, Channel] = {
    "weibo": Channel(
        "微博投诉（个人主页举报 / 微博客服侵权投诉）",
        "账号主页 →右上角“…”→“投诉”→“冒充他人”；以学校名义投诉：微博客服中心（kefu.weibo.com）→侵权投诉",
        ("冒充他人", "侵犯名称权/企业名称权", "诈骗")),
    "wechat": Channel(
        "微信公众平台侵权投诉",
        "公众号主页 →右上角“…”→“投诉”→“混淆他人投诉”；或 mp.weixin.qq.com 页面底部“侵权投诉”→“我要投诉”"
        "（需以权利人身份实名认证）",
        ("混淆他人（假冒仿冒）", "名称侵权（企业名称权/商号权）", "商标权侵权", "诈骗"),
        "权利人为学校，投诉人为代理人时须上传授权书"),
    "douyin": Channel(
        "抖音侵权投诉",
        "账号主页 →右上角“…”→“举报”→“冒充他人”；以学校名义：抖音 App“设置”→“反馈与帮助”→“侵权投诉”",
        ("冒充他人", "侵犯名称权/名誉权", "商标侵权", "诈骗")),
    "bilibili": Channel(
        "哔哩哔哩举报与侵权申诉",
        "用户空间 →右上角“…”→“举报”→“冒充他人”；以学校名义：哔哩哔哩帮助中心→“侵权申诉”",
        ("冒充他人", "侵犯名称权", "诈骗")),
    "xiaohongshu": Channel(
        "小红书举报 / 侵权投诉",
        "用户主页 →右上角“…”→“举报”→“冒充他人”；以学校名义：小红书“设置”→“帮助与客服”→“侵权投诉”",
        ("冒充他人", "侵犯名称权/商标权", "诈骗")),
    "kuaishou": Channel(
        "快手举报 / 侵权投诉",
        "用户主页 →右上角“…”→“举报”→“冒充他人”；以学校名义：快手“设置”→“帮助与客服”→“侵权投诉”",
        ("冒充他人", "侵犯名称权", "诈骗")),
    "zhihu": Channel(
        "知乎举报 / 侵权投诉",
        "用户主页 →“…”→“举报”→“冒充他人”；以学校名义：知乎“帮助中心”→“侵权投诉”",
        ("冒充他人", "侵犯名称权", "诈骗")),
    "toutiao": Channel(
        "今日头条举报 / 侵权投诉",
        "用户主页 →右上角“…”→“举报”→“冒充他人”；以学校名义：头条“设置”→“侵权投诉”",
        ("冒充他人", "侵犯名称权", "诈骗")),
    "tieba": Channel(
        "百度贴吧举报 / 百度侵权投诉",
        "吧主页或用户主页 →“举报”→“冒充他人”；以学校名义：百度“侵权投诉”平台（help.baidu.com）",
        ("冒充他人/假冒官方", "侵犯名称权", "诈骗")),
}

FALLBACK = Channel("平台举报入口", "账号主页 →“举报”或“投诉”→“冒充他人”；找不到时联系平台客服",
                   ("冒充他人", "侵犯名称权", "诈骗"))


def channel(platform: str) -> Channel:
    return CHANNELS.get(platform, FALLBACK)


def category(platform: str, *, office: bool, fraud: bool) -> str:
    """The category to choose for one finding: 诈骗 when the account asks for money, otherwise the
    platform's impersonation category (an office name is also the school's name right: named)."""
    ch = channel(platform)
    if fraud:
        return next((c for c in ch.categories if "诈骗" in c), ch.categories[0])
    return ch.categories[0]


def label(platform: str) -> str:
    return catalog.label(platform)
