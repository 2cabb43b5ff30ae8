"""Alert texts in Chinese: what happened, which account, why, what the rules ask, where to look.

Almost everything in an alert comes from a platform: the account's name, its ID, the post's
text, the reasons quoting them. An impersonator can name itself
``[北理工官方认证](http://evil.example/login)``; in the staff group chat that must read as the
odd name it is, never as a link. So the text built here is plain text in which the only live
links point at known platform hosts or at our own review site; any other address in platform
text is defanged (``hxxp://evil[.]example/login``), which no chat client or mail reader links.
Each channel then escapes the text for its own format (:mod:`alerts.channels`).
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

from alerts.channels import Outgoing
from spiders import catalog
from watcher.cleaning import clean_text
from watcher.config import PLATFORM_LABELS, Config
from watcher.findings import KIND_LABELS
from watcher.store.findings import Finding

# Hosts (and their subdomains) whose pages an alert may link to: where the platforms show an
# account or a post. Short links (b23.tv, v.douyin.com …) are left out on purpose: they hide
# where they lead.
PLATFORM_HOSTS = ("weibo.com", "weibo.cn", "bilibili.com", "mp.weixin.qq.com", "weixin.sogou.com", "douyin.com",
                  "kuaishou.com", "xiaohongshu.com", "zhihu.com", "toutiao.com", "tieba.baidu.com")

# An address in free text: a scheme-prefixed URL, or a bare www. host that clients autolink.
_ADDRESS = re.compile(r"(?i)(?:\b[a-z][a-z0-9+.-]{1,15}://|\bwww\.)[^\s<>\[\]()\"'`，。；：！？、「」（）【】]+")

# What the school's rules ask the unit to do, per kind of finding.
ACTIONS: dict[str, str] = {
    "impersonation": "请核实：如属本单位账号，请在 3 个工作日内补办备案；如非本校账号，请向平台举报仿冒并保留证据，"
                     "必要时要求对方删除或更名。",
    "deletion": "请说明删帖原因；如系误删或被平台处理，请向宣传部报告。",
    "post_hidden": "帖子仍在，但读者看不到（仅自己可见、受限或审核中）：请确认是否为本单位的设置；如系平台限制，请向宣传部报告。",
    "edit": "请核实修改内容是否经审核，并说明修改原因。",
    "profile_change": "账号名称/头像/简介发生变更，请在规定时限内办理变更备案。",
    "unfiled_change": "账号资料变更已超过规定时限仍未备案，请立即补办变更备案并作出说明。",
    "account_gone": "账号已无法访问（删除、封禁或改名），请说明情况；如已停用请办理注销备案。",
    "dormant": "账号长期未更新，请恢复运营或办理注销备案（列入年度审核）。",
    "sentiment": "请关注相关舆情，必要时会同宣传部研判处置。",
    "sentiment_spike": "提及本校的内容短时激增，请宣传部研判。",
    "crawl_blocked": "平台采集受阻（登录、验证码或风控），请检查 Cookie/代理配置。",
    "compliance": "请核实【】标出的内容；如确有错误，请及时修改或删除并发布更正，说明原因。",
    "linkage_reminder": "请在截止时间前转发该重点稿件（转发、链接或引用标题均可）。",
}


def _host_of(url: str) -> str | None:
    try:
        return urllib.parse.urlsplit(url).hostname
    except ValueError:
        return None


# The review site's own pages an alert links to (复核与证据 /findings/ID, a 舆情簇 /sentiment/clusters/ID):
# a crawled URL on the review site stays a live link only when it is one of these, never its
# login, settings or action pages.
_REVIEW_PAGE = re.compile(r"/(?:findings|cases|sentiment/clusters|linkage|scans)/\d{1,12}/?")


def _endpoint(url: str) -> str | None:
    """``host:port`` of an http(s) URL (the scheme's default port when none is written)."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        return None
    return f"{parts.hostname.lower()}:{port}" if parts.hostname else None


def allowed_hosts(cfg: Config) -> set[str]:
    """What an alert may link to: the platforms' own hosts by name (and their subdomains); a host
    the config points a platform or a watched website at, as ``host:port`` (a test platform on
    127.0.0.1 allows that one port, not every service on the machine); and the review site as
    ``review@host:port``, for its own record pages only."""
    hosts = set(PLATFORM_HOSTS)
    hosts.update(h for h in (_host_of(u) for p in catalog.all_platforms() for u in p.base_urls.values()) if h)
    configured: list[str] = []
    for name, pc in cfg.platforms.items():
        if pc.base_url:
            configured += list(pc.urls(name).values())
        configured += [site.get("url", "") for site in pc.sites]
    hosts.update(e for e in map(_endpoint, configured) if e)
    if review := _endpoint(cfg.alerts.base_url):
        hosts.add("review@" + review)
    return hosts


def safe_link(cfg: Config, url: Any, hosts: set[str] | None = None) -> str | None:
    """``url`` when it is http(s) to an allowed place (see :func:`allowed_hosts`), else None."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    parts = urllib.parse.urlsplit(url) if _host_of(url) else None
    if parts is None or parts.scheme.lower() not in ("http", "https") or parts.username or parts.password:
        return None
    host = (parts.hostname or "").lower()
    hosts = allowed_hosts(cfg) if hosts is None else hosts
    endpoint = _endpoint(url)
    if not (any(host == h or host.endswith("." + h) for h in hosts if ":" not in h) or endpoint in hosts
            or (f"review@{endpoint}" in hosts and not parts.query and not parts.fragment
                and _REVIEW_PAGE.fullmatch(parts.path))):
        return None
    # Characters that would end a link early or start markup are percent-encoded.
    return re.sub(r"[\s<>\[\]()\"'`]", lambda m: urllib.parse.quote(m.group(0)), url)


def defang(cfg: Config, text: str, hosts: set[str] | None = None) -> str:
    """Every address in ``text`` that is not an allowed link, made unclickable the way security
    reports write them: ``hxxp://evil[.]example/login``."""
    hosts = allowed_hosts(cfg) if hosts is None else hosts

    def one(m: re.Match[str]) -> str:
        address = m.group(0)
        if safe_link(cfg, address, hosts) == address:
            return address
        scheme, sep, rest = address.partition("://")
        if not sep:
            scheme, rest = "", address
        host, slash, path = rest.partition("/")
        defanged_scheme = re.sub(r"(?i)^(h)tt(ps?)$", r"\1xx\2", scheme) if scheme else ""
        return (defanged_scheme + "://" if sep else "") + host.replace(".", "[.]") + slash + path

    return _ADDRESS.sub(one, text)


def _account(cfg: Config, f: Finding) -> str:
    platform = PLATFORM_LABELS.get(f.platform or "", f.platform or "")
    d = f.details
    parts = [p for p in (platform, f"「{one_line(f.account_name, 100)}」" if f.account_name else "",
                         f"ID {one_line(f.account_id, 100)}" if f.account_id else "") if p]
    raw = d.get("profile_url") or d.get("url")
    link = safe_link(cfg, raw)
    if link:
        return " ".join(parts) + f"\n链接：{link}"
    return " ".join(parts) + ("\n链接：（不是已知平台的地址，未附链接，请在复核网站查看）" if raw else "")


def finding_text(cfg: Config, f: Finding, role: str = "责任单位") -> str:
    d = f.details
    lines = [f"【{KIND_LABELS.get(f.kind, f.kind)}】{one_line(f.title, 200)}"]
    if f.platform or f.account_name:
        lines.append(f"账号：{_account(cfg, f)}")
    reasons = d.get("reasons") or []
    if reasons:
        # Reasons quote crawled text (a compliance passage, a name): one line each, so a post's
        # own line breaks cannot write lines that read as ours (a forged 处置要求 or link line).
        lines.append("理由：" + "；".join(one_line(r, 1000) for r in reasons))
    if d.get("diff"):
        lines.append("改动：\n" + str(d["diff"])[:1500])
    lines += _sentiment_lines(cfg, d)
    lines.append(f"处置要求：{ACTIONS.get(f.kind, '请核实处理。')}")
    base = cfg.alerts.base_url.rstrip("/")
    lines.append(f"复核与证据：{base}/findings/{f.id}")
    if role == "抄送":
        lines.append("（抄送宣传部）")
    if f.revision > 1:
        lines.append(f"（第 {f.revision} 版：内容已更新）")
    return defang(cfg, "\n".join(lines))


# A mail subject or chat title is one line; a crawled name may carry line breaks (which made the
# mail header raise) or be thousands of characters long.
TITLE_NAME_MAX = 60


def one_line(text: str, limit: int | None = None) -> str:
    """``text`` as one line without control characters, cut at ``limit`` characters (with …)."""
    text, full = clean_text(str(text), limit)
    return text + ("…" if full > len(text) else "")


def _sentiment_lines(cfg: Config, d: dict) -> list[str]:
    """A sentiment finding's size, top posts and its cluster's page: a 舆情激增 alert that says only
    a count leaves the reader to go and find what people are saying."""
    lines = []
    if d.get("cluster_size"):
        platforms = "、".join(PLATFORM_LABELS.get(p, p) for p in d.get("cluster_platforms") or [])
        lines.append(f"规模：{d['cluster_size']} 条" + (f"（{platforms}）" if platforms else ""))
    carried = [str(g) for g in d.get("carried_groups") or []]
    if carried:
        lines.append("同时带动规则组" + "、".join(f"「{g}」" for g in carried) + "的激增，由本事件一并告警")
    posts = [p for p in d.get("top_posts") or [] if isinstance(p, dict)]
    if posts:
        lines.append("代表帖子：")
        for p in posts:
            link = safe_link(cfg, p.get("url"))
            lines.append(f"- {PLATFORM_LABELS.get(p.get('platform') or '', p.get('platform') or '')}："
                         f"{one_line(p.get('text') or '', 80)}" + (f" {link}" if link else ""))
    if d.get("cluster_path"):
        lines.append(f"舆情簇（全部帖子）：{cfg.alerts.base_url.rstrip('/')}{d['cluster_path']}")
    return lines


def single(cfg: Config, f: Finding, unit_name: str, role: str) -> Outgoing:
    level = "【紧急】" if f.severity == "critical" else ""
    title = (f"{level}campus-watcher：{KIND_LABELS.get(f.kind, f.kind)} — "
             f"{one_line(f.account_name or f.title, TITLE_NAME_MAX)}")
    return Outgoing(defang(cfg, title), f"{unit_name}：\n" + finding_text(cfg, f, role))


def digest(cfg: Config, findings: list[tuple[Finding, str]], unit_name: str) -> Outgoing:
    body = [f"{unit_name}：本期共有 {len(findings)} 条监测发现。", ""]
    for i, (f, role) in enumerate(findings, start=1):
        body.append(f"{i}. " + finding_text(cfg, f, role))
        body.append("")
    return Outgoing(f"campus-watcher 汇总：{len(findings)} 条监测发现", "\n".join(body).rstrip())
