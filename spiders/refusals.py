"""How a platform says no, in its own codes, and what lifts each refusal.

Every platform refuses in its own words: Zhihu's ``error.code`` 10002, Kuaishou's ``result``
2001, Xiaohongshu's 300013, Douyin's ``search_nil_info`` … Each spider module declares the codes
it reads as ``REFUSALS`` (code → :class:`Refusal`), and its parser raises :func:`refuse` with the
code it saw: the operator reads the platform's own code, what it means and the one remedy that
lifts it — logging in does nothing against a missing signature, slowing down nothing against a
captcha. The refusal table in docs/crawling.md is these tables (``tests/test_refusals.py`` holds them to it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from spiders.base import PlatformSpider, Problem

Remedy = Literal["login", "slow_down", "signing", "captcha", "wait"]

# What each remedy is called in the docs/crawling.md table.
REMEDY_NAMES: dict[str, str] = {
    "login": "登录",
    "slow_down": "降低频率",
    "signing": "需要网页端签名",
    "captcha": "完成验证码",
    "wait": "等待解除",
}


@dataclass(frozen=True)
class Refusal:
    """One refusal code of one platform: what it means (Chinese) and the remedy that lifts it."""

    meaning: str
    remedy: Remedy


def remedy_text(spider: PlatformSpider, remedy: Remedy) -> str:
    """The advice for ``remedy`` on the spider's platform, with the settings it names."""
    p, label = spider.info.name, spider.info.label
    pace = spider.pace
    if spider.info.session is None and remedy in ("login", "captcha"):
        # Nothing to log in to (no `watcher login` for it): the browser's cookies are the way.
        hint = spider.info.session_hint or "在浏览器中完成验证后导出 Cookie"
        what = "完成验证" if remedy == "captcha" else "登录"
        return (f"平台要求{what}：请在桌面浏览器打开{label}{what}后导出 Cookie，写入 platforms.{p}.cookies_file"
                f"（{hint}）")
    if remedy == "login":
        return (f"请运行 watcher login {p} 扫码登录，或导入登录后导出的 Cookie（watcher login {p} --cookies 文件，"
                f"或 platforms.{p}.cookies_file）")
    if remedy == "slow_down":
        per_minute = f"调小 platforms.{p}.per_minute（当前 {pace.per_minute} 次/分钟）" if pace.per_minute \
            else f"设置 platforms.{p}.per_minute（当前不限）"
        return (f"请降低采集频率、稍后重试：调大 platforms.{p}.interval（当前 {pace.interval:g} 秒）、{per_minute}"
                f"或调小 platforms.{p}.pages（当前 {spider.pages} 页）；平台冷却结束后会自动重试，登录不能解除")
    if remedy == "signing":
        return (f"该请求缺少{label}网页脚本计算的签名，仅有登录会话也无法解除，放慢也不能：浏览器采集的平台请确认页面能正常打开"
                f"（页面脚本可能已改版），接口采集的平台此模式暂不可用，请升级 campus-watcher")
    if remedy == "captcha":
        return (f"平台要求完成验证码：请运行 watcher login {p}，在登录页面完成验证；服务器上无法完成滑块时，"
                f"在桌面浏览器登录{label}、完成验证后导出 Cookie，用 watcher login {p} --cookies 文件 导入")
    return (f"{label}暂时拦截了本机的出口地址，登录与放慢都不能立即解除：请等待平台解除（通常数十分钟到数小时），"
            f"下一轮会自动重试；反复出现时请降低频率或为本平台换出口地址（platforms.{p}.proxy）")


def refuse(spider: PlatformSpider, table: dict[str, Refusal], code: object, what: str, said: str = "") -> Problem:
    """The Problem for refusal ``code`` of ``table``: blocked, naming the platform's code, its
    meaning and the remedy. A rate limit halts the round at once (the platform then cools down);
    any other refusal costs its target, and a second one the round (:mod:`spiders.base`)."""
    key = str(code)
    refusal = table[key]
    message = f"（{said.strip()[:80]}）" if said and said.strip() else ""
    return spider.blocked(f"{spider.info.label}拒绝了{what}：代码 {key}，{refusal.meaning}{message}。"
                          f"{remedy_text(spider, refusal.remedy)}",
                          rate_limited=refusal.remedy == "slow_down")
