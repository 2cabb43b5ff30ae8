"""The department's sessions on the platforms: saved, checked before rounds, reported when lapsed.

A session is what ``watcher login PLATFORM`` saved (a QR scan in the platform's own login page)
or an imported cookies file; both end up as ``<data_dir>/sessions/<p>/state.json`` (see
:mod:`spiders.identity`), which every round of the platform carries. ``platforms.<p>.cookies_file``
still works and counts as a session too.

Before a round, a platform that has a session is asked, with its own signal, whether the session
still logs us in (:class:`spiders.catalog.SessionSpec`: Weibo's ``/api/config`` ``data.login``,
Bilibili's ``nav`` ``data.isLogin``, Zhihu's ``/api/v4/me``, or the login cookie for platforms
whose check call is itself signed: Xiaohongshu ``web_session``, Douyin ``sessionid``, Kuaishou
``userId``). A lapsed session opens one 登录失效 finding for the central unit — the platform, the
session's age, what stops working and how to renew — which stays the same (and is sent once)
while the session stays lapsed, and is resolved by itself once a session works again.
MediaCrawler's issues show why this matters: cookies last hours to days (#896), and accounts are
logged out after a volume of requests (#646, #45).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from http.cookiejar import MozillaCookieJar
from pathlib import Path
from typing import Any, Literal

from loguru import logger

from spiders import catalog, identity
from spiders.base import load_cookies
from watcher import findings
from watcher.config import Config
from watcher.fetchguard import network_problem
from watcher.logs import remember
from watcher.store import Store
from watcher.store import findings as stored_findings
from watcher.store.findings import record, set_status
from watcher.visitor import fetch_visitor

State = Literal["none", "valid", "lapsed", "unknown"]
STATE_LABELS = {"none": "未登录", "valid": "有效", "lapsed": "已失效", "unknown": "无法确认"}
KIND = "session_lapsed"
PROBE_TIMEOUT = 15.0


class SessionError(Exception):
    """A session that cannot be saved or imported; the message says why and what to do."""


@dataclass
class SessionStatus:
    platform: str
    state: State
    detail: str = ""
    saved_at: str | None = None
    source: str | None = None  # qr / cookies (imported) / cookies_file
    checked_at: str | None = None

    def age_days(self, now: datetime | None = None) -> float | None:
        if not self.saved_at:
            return None
        now = now or datetime.now(UTC)
        return max(0.0, (now - datetime.fromisoformat(self.saved_at)).total_seconds() / 86400)

    def age_text(self, now: datetime | None = None) -> str:
        days = self.age_days(now)
        if days is None:
            return "未知"
        if days < 1:
            return f"{int(days * 24)} 小时"
        return f"{int(days)} 天"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def meta(cfg: Config, platform: str) -> dict[str, Any]:
    return identity.read_json(identity.meta_path(cfg.data_path, platform))


def _configured(cfg: Config, platform: str) -> dict[str, str]:
    p = cfg.platform(platform)
    if not p.cookies_file:
        return {}
    try:
        return load_cookies(cfg.resolve_path(p.cookies_file))
    except (OSError, ValueError) as e:
        logger.warning("{}的 Cookie 文件 {} 无法读取：{}", catalog.label(platform), p.cookies_file, e)
        return {}


def has_session(cfg: Config, platform: str) -> bool:
    return bool(identity.saved_cookies(cfg.data_path, platform) or _configured(cfg, platform))


def saved_status(cfg: Config, platform: str) -> SessionStatus:
    """What is known without asking the platform: the saved session and its last check."""
    m = meta(cfg, platform)
    if not has_session(cfg, platform):
        return SessionStatus(platform, "none", "没有保存的登录会话")
    source = m.get("source") or ("cookies_file" if not identity.saved_cookies(cfg.data_path, platform) else None)
    return SessionStatus(platform, m.get("state") or "unknown", m.get("detail") or "", m.get("saved_at"), source,
                         m.get("checked_at"))


# -- saving ---------------------------------------------------------------------------------------

def save(cfg: Config, platform: str, storage_state: dict[str, Any], source: str) -> SessionStatus:
    """Keep a session (Playwright's storage_state) for the platform's next rounds."""
    cookies = storage_state.get("cookies")
    if not isinstance(cookies, list) or not cookies:
        raise SessionError(f"{catalog.label(platform)}的登录会话中没有任何 Cookie，未保存")
    identity.write_json(identity.state_path(cfg.data_path, platform),
                        {"cookies": cookies, "origins": storage_state.get("origins") or []})
    identity.write_json(identity.meta_path(cfg.data_path, platform),
                        {"saved_at": _now(), "source": source, "state": "unknown", "detail": "尚未检查"})
    return saved_status(cfg, platform)


def read_cookie_file(path: Path) -> list[dict[str, Any]]:
    """The cookies of an exported file, with their domains where the file has them: a Netscape
    cookies.txt (browser extensions), a JSON list of cookie objects (devtools, EditThisCookie,
    Playwright) or a JSON object of name → value."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as e:
        raise SessionError(f"无法读取 Cookie 文件 {path}：{e.strerror or e}") from e
    if text.startswith(("{", "[")):
        try:
            data = json.loads(text)
        except ValueError as e:
            raise SessionError(f"Cookie 文件 {path} 不是有效的 JSON（第 {e.lineno} 行：{e.msg}）") from e
        if isinstance(data, dict) and isinstance(data.get("cookies"), list):
            data = data["cookies"]  # a Playwright storage_state
        if isinstance(data, dict):
            return [{"name": str(k), "value": str(v)} for k, v in data.items()]
        out = []
        for i, c in enumerate(data):
            if not isinstance(c, dict) or "name" not in c or "value" not in c:
                raise SessionError(f"Cookie 文件 {path} 第 {i + 1} 项缺少 name 或 value")
            cookie = {"name": str(c["name"]), "value": str(c["value"]), "path": c.get("path") or "/"}
            if c.get("domain"):
                cookie["domain"] = str(c["domain"])
            expires = c.get("expires", c.get("expirationDate"))
            if isinstance(expires, int | float):
                cookie["expires"] = float(expires)
            out.append(cookie)
        return out
    jar = MozillaCookieJar()
    try:
        jar.load(str(path), ignore_discard=True, ignore_expires=True)
    except Exception as e:  # noqa: BLE001 - http.cookiejar raises LoadError and plain OSErrors
        raise SessionError(f"Cookie 文件 {path} 既不是 JSON 也不是 Netscape cookies.txt 格式：{e}") from e
    return [{"name": c.name, "value": c.value or "", "domain": c.domain, "path": c.path or "/",
             "expires": float(c.expires) if c.expires else -1} for c in jar]


def import_cookies(cfg: Config, platform: str, path: Path) -> SessionStatus:
    cookies = read_cookie_file(path)
    if not cookies:
        raise SessionError(f"Cookie 文件 {path} 中没有 Cookie")
    host = _host_cookie_domain(cfg, platform)
    for c in cookies:
        c.setdefault("domain", host)
        c.setdefault("path", "/")
        c.setdefault("expires", -1)
    return save(cfg, platform, {"cookies": cookies, "origins": []}, "cookies")


def _host_cookie_domain(cfg: Config, platform: str) -> str:
    from urllib.parse import urlsplit

    urls = cfg.platform(platform).urls(platform)
    return urlsplit(next(iter(urls.values()))).hostname or ""


# -- checking -------------------------------------------------------------------------------------

def check(cfg: Config, platform: str) -> SessionStatus:
    """Ask the platform whether our session logs us in (no finding, no state written)."""
    spec = catalog.get(platform).session
    base = saved_status(cfg, platform)
    if spec is None or base.state == "none":
        return base
    cookies = identity.session_values(cfg.data_path, platform, _configured(cfg, platform))
    kind = spec.probe[0]
    if kind == "cookie":
        name = spec.probe[1]
        saved = {c["name"]: c for c in identity.saved_cookies(cfg.data_path, platform)}
        expires = float((saved.get(name) or {}).get("expires") or -1)
        if name not in cookies:
            return _with(base, "lapsed", f"会话中没有登录 Cookie {name}")
        if expires > 0 and expires < datetime.now(UTC).timestamp():
            when = datetime.fromtimestamp(expires, UTC).isoformat(timespec="minutes")
            return _with(base, "lapsed", f"登录 Cookie {name} 已于 {when} 过期")
        return _with(base, "valid", f"会话中有登录 Cookie {name}")
    _, base_key, path, field = spec.probe
    urls = cfg.platform(platform).urls(platform)
    url = urls.get(base_key, next(iter(urls.values()))) + path
    info = catalog.get(platform)
    req = urllib.request.Request(url, headers={
        "User-Agent": info.user_agent, "Accept": "application/json, text/plain, */*",
        "Referer": url.split(path)[0] + "/",
        "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())})
    proxied = f"（经 platforms.{platform}.proxy 代理）" if cfg.platform(platform).proxy else ""
    try:
        with opener(cfg, platform).open(req, timeout=PROBE_TIMEOUT) as resp:
            data = json.loads(resp.read().decode("utf-8", "replace"))
    except urllib.error.HTTPError as e:
        if e.code in (401, 403, 432):
            return _with(base, "lapsed", f"{path} 返回 HTTP {e.code}（未登录）")
        return _with(base, "unknown", f"{path} 返回 HTTP {e.code}{proxied}")
    except (OSError, ValueError) as e:
        return _with(base, "unknown", f"无法检查登录状态{proxied}：{network_problem(getattr(e, 'reason', e))}"[:200])
    value: Any = data
    for key in field.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    if value:
        return _with(base, "valid", f"{path} 显示已登录")
    return _with(base, "lapsed", f"{path} 显示未登录（{field} = {json.dumps(value, ensure_ascii=False)}）")


def opener(cfg: Config, platform: str) -> urllib.request.OpenerDirector:
    """What the session check talks to the platform through: the platform's own proxy
    (``platforms.<p>.proxy``) when it has one, as its crawls do (:mod:`watcher.rounds.process`) —
    a platform that only answers through the proxy must be asked through it; otherwise urllib's
    default, the service's ``https_proxy``/``http_proxy``/``no_proxy`` environment."""
    proxy = cfg.platform(platform).proxy
    if not proxy:
        return urllib.request.build_opener()
    remember(urllib.parse.urlsplit(proxy).password)  # hidden wherever a log line would show it
    return urllib.request.build_opener(urllib.request.ProxyHandler({"http": proxy, "https": proxy}))


def _with(base: SessionStatus, state: State, detail: str) -> SessionStatus:
    return SessionStatus(base.platform, state, detail, base.saved_at, base.source, _now())


VISITOR_TTL = 3600.0      # visitor cookies are taken again after an hour
VISITOR_SPACING = 600.0   # and not more often than every ten minutes, whatever happens


def ensure_visitor(cfg: Config, platform: str) -> bool:
    """Fresh visitor cookies for a platform that needs them and has no session; whether there
    are some. A failure costs nothing but the cookies: the round then reports the refusal."""
    path = identity.visitor_path(cfg.data_path, platform)
    held = identity.read_json(path)
    age = datetime.now(UTC).timestamp() - float(held.get("fetched_at") or 0)
    tried = datetime.now(UTC).timestamp() - float(held.get("tried_at") or 0)
    if held.get("cookies") and age < VISITOR_TTL or tried < VISITOR_SPACING:
        return bool(held.get("cookies"))
    try:
        cookies = fetch_visitor(cfg, platform)
    except Exception as e:  # noqa: BLE001 - no browser, no network: the round says the rest
        logger.warning("{}访客 Cookie 获取失败：{}", catalog.label(platform), str(e).splitlines()[0][:160])
        cookies = []
    now = datetime.now(UTC).timestamp()
    if cookies:
        identity.write_json(path, {"cookies": cookies, "fetched_at": now, "tried_at": now})
        logger.info("{}已获取 {} 个访客 Cookie", catalog.label(platform), len(cookies))
    else:
        identity.write_json(path, {**held, "tried_at": now})
    return bool(cookies or held.get("cookies"))


def before_round(cfg: Config, platform: str, store: Store) -> SessionStatus | None:
    """Check the platform's session before a round; keep the result and tell people when it
    lapsed (or that it works again). Without a session, take the visitor cookies the platform
    hands any browser, where it needs them. None when there is no session to check."""
    spec = catalog.get(platform).session
    if (spec is not None and spec.visitor is not None and cfg.platform(platform).visitor_cookies
            and not has_session(cfg, platform)):
        ensure_visitor(cfg, platform)
    if spec is None or not has_session(cfg, platform):
        return None
    status = check(cfg, platform)
    if status.state == "unknown":
        _remember(cfg, status)
        return status  # the round itself will say whether the platform is reachable
    note(cfg, platform, store, status)
    return status


def _remember(cfg: Config, status: SessionStatus, **more: Any) -> dict[str, Any]:
    m = meta(cfg, status.platform)
    m.update(state=status.state, detail=status.detail, checked_at=status.checked_at, **more)
    if status.saved_at is None and "saved_at" not in m:
        m["source"] = status.source or "cookies_file"
    identity.write_json(identity.meta_path(cfg.data_path, status.platform), m)
    return m


def note(cfg: Config, platform: str, store: Store, status: SessionStatus) -> None:
    """Record a checked session: a lapse opens (or keeps) the finding, a working one resolves it."""
    label = catalog.label(platform)
    if status.state == "valid":
        _remember(cfg, status, lapsed_at=None)
        open_ids = stored_findings.open_ids(store, KIND, platform)
        for fid in open_ids:
            set_status(store, fid, "resolved", actor="系统", action="resolve", comment=f"{label}登录会话已恢复有效")
        if open_ids:
            logger.info("{}登录会话已恢复有效，自动关闭登录失效提醒", label)
        return
    if status.state != "lapsed":
        return
    m = meta(cfg, platform)
    lapsed_at = m.get("lapsed_at") or status.checked_at or _now()
    _remember(cfg, status, lapsed_at=lapsed_at)
    spec = catalog.get(platform).session
    assert spec is not None
    # Computed once, when the lapse was first seen: the finding must not change every round.
    age = (SessionStatus(platform, "lapsed", saved_at=status.saved_at).age_text(datetime.fromisoformat(lapsed_at))
           if status.saved_at else "未知（来自 cookies_file）")
    central = cfg.central_unit()
    signal = status.detail.split("（")[0]
    remedy = (f"在服务器上运行 watcher login {platform}，用部门账号的手机 App 扫描终端中的二维码（也保存为 PNG）；"
              f"或在浏览器中登录后导出 Cookie，运行 watcher login {platform} --cookies 文件")
    record(store, findings.session_lapsed(platform, saved_at=status.saved_at, unit=central.id if central else None,
                                          signal=signal, age=age, loses=spec.loses, remedy=remedy, since=lapsed_at))
    logger.warning("{}登录会话已失效（{}）：{}", label, status.detail, spec.loses)


def keep_checked(cfg: Config, status: SessionStatus, **more: Any) -> dict[str, Any]:
    """Keep a check's result beside the session (a fleet worker's, whose daemon notes findings)."""
    return _remember(cfg, status, **more)
