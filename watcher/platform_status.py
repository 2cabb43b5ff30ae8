"""Where each platform stands, for the operator: the session (state and age), the last round and
the last ok one, the cool-down, the current 采集受阻 episode, the requests made today against
the day's budget, a QR login waiting for its scan, and how often new posts were checked.

Read by ``watcher platforms status`` and the web app's 平台状态 page, so both say the same.
Nothing here asks a platform anything: the status is read often, the session is checked before
rounds (:mod:`watcher.sessions`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from spiders import catalog, identity
from watcher import capacity, sessions
from watcher.config import Config
from watcher.rounds.records import STATUS_LABELS, latest_per_platform, state
from watcher.store import Store
from watcher.timefmt import local_time, zone_label
from watcher.watch import early


def login_marker(cfg: Config, platform: str) -> Path:
    """Written by ``watcher login`` while it waits for the scan (see :mod:`watcher.login`)."""
    return identity.session_dir(cfg.data_path, platform) / "login.json"


def qr_png_path(cfg: Config, platform: str) -> Path:
    return identity.session_dir(cfg.data_path, platform) / "login-qr.png"


def pending_login(cfg: Config, platform: str, now: datetime | None = None) -> dict[str, Any] | None:
    """The QR login waiting for its scan, if one is: when it started and until when it waits.
    None once it ended, or when the process that wrote it died before its deadline passed."""
    marker = identity.read_json(login_marker(cfg, platform))
    try:
        deadline = datetime.fromisoformat(str(marker.get("deadline")))
    except ValueError:
        return None
    if deadline <= (now or datetime.now(UTC)) or not qr_png_path(cfg, platform).is_file():
        return None
    return {"started_at": marker.get("started_at"), "deadline": marker.get("deadline")}


def rows(cfg: Config, store: Store) -> list[dict[str, Any]]:
    """One row per platform, in the catalog's order: the enabled ones first. ``plain`` says in
    words how the platform stands and ``action`` what (if anything) someone has to do; the rest
    (session, rounds, HTTP codes) is the detail behind it."""
    from watcher.rounds.plan import overdue

    estimates = {e.platform: e for e in capacity.estimate(cfg, capacity.accounts_from_store(store))}
    out = _rows(cfg, store)
    for r in out:
        late = overdue(cfg, store, r["platform"]) if r["enabled"] and r["last_status"] == "running" else None
        est = estimates.get(r["platform"])
        r["capacity"] = est.summary() if est and est.targets else None
        r["capacity_problems"] = est.problems if est else []
        r["capacity_advice"] = est.advice if est else []
        r["overdue"] = late.text() if late else overran(store, r["platform"])
        r["plain"], r["action"] = assess(r, est, late is not None)
    return sorted(out, key=lambda r: not r["enabled"])


def overran(store: Store, platform: str) -> str | None:
    """The last watch round took longer than its interval (rounds due meanwhile were skipped)."""
    from watcher.rounds.records import last_finished_round

    rnd = last_finished_round(store, platform, "timeline")
    over = rnd.details.get("overran") if rnd else None
    if not isinstance(over, dict):
        return None
    return (f"上一轮巡检（#{rnd.id}）用时 {capacity.duration_text(over.get('seconds', 0))}，超过巡检间隔 "
            f"{capacity.duration_text(over.get('interval', 0))}，其间到期的轮次被跳过。{over.get('advice', '')}")


def assess(r: dict[str, Any], est: capacity.Estimate | None, late: bool) -> tuple[str, str | None]:
    """How the platform stands, in words, and what someone has to do (None: nothing). Only an
    enabled platform can need anything; a login is only asked for when rounds do not succeed
    without one."""
    if not r["enabled"]:
        return "未启用", None
    p = r["platform"]
    advice = (est.advice[0] if est and est.advice else None)
    if r["login_pending"]:
        return "扫码登录进行中", "请用部门账号的手机 App 扫描本页上方的二维码"
    if r["cooldown_until"] and catalog.BUDGET_SPENT in (r["last_reason"] or ""):
        return (f"今日请求预算已用完，明天 0 点（{zone_label()}）自动恢复",
                f"如果每天都用完：{advice}" if advice else None)
    working = r["last_status"] in ("ok", "partial", "running") and not r["blocked_since"]
    login = r["session_state"] in ("none", "lapsed") and r["session_needed"]
    # the words first; the platform's codes and cookie names stay in the detail (session_hint)
    login_action = f"在服务器上运行 watcher login {p} 扫码登录（也可导入 Cookie，见 watcher login --help）"
    if r["cooldown_until"]:
        again = r["blocked_rounds"] and r["blocked_rounds"] >= 3
        return (f"平台暂时拒绝了采集，暂停至 {local_time(r['cooldown_until'])}，之后自动重试",
                login_action if login else
                f"如连续多轮受阻：在服务器上运行 watcher login {p} 换新的登录会话，或调长巡检间隔" if again else None)
    if r["session_state"] == "lapsed" or (login and not working):
        what = "登录已失效" if r["session_state"] == "lapsed" else "需要登录"
        loses = re.sub(r"（[^）]*）", "", r["session_loses"] or "") or "部分采集"
        return f"{what}：{loses}无法进行", login_action
    if r["blocked_since"]:
        return (f"自 {local_time(r['blocked_since'])} 起采集不正常（连续 {r['blocked_rounds']} 轮）",
                "查看“详情”中的原因；平台服务器出错时会自动重试")
    if late or r["overdue"]:
        return "巡检超过了巡检间隔，到期的轮次被跳过", advice
    if est is not None and not est.fits:
        return "巡检间隔做不到（见详情中的估算）", advice
    if r["last_status"] is None:
        return "尚未采集", None
    if r["last_status"] == "running":
        return "采集进行中", None
    if r["last_status"] == "interrupted":
        return "上一轮被中断，下一轮自动重新采集", None
    return f"正常（最近一轮{STATUS_LABELS.get(r['last_status'], r['last_status'])}）", None


def _rows(cfg: Config, store: Store) -> list[dict[str, Any]]:
    enabled = set(cfg.enabled_platforms())
    latest = {r.platform: r for r in latest_per_platform(store)}
    fleet = _fleet_figures(cfg)
    out = []
    for info in catalog.all_platforms():
        last = latest.get(info.name)
        st = state(store, info.name)
        out.append({
            "platform": info.name, "label": info.label, "enabled": info.name in enabled,
            "modes": "、".join(catalog.MODE_LABELS[m] for m in info.modes),
            "browser": info.browser, "last_round": last.id if last else None,
            "last_mode": last.mode if last else None, "last_status": last.status if last else None,
            "last_reason": last.reason if last else None, "last_started_at": last.started_at if last else None,
            "cooldown_until": st.cooldown_until.isoformat() if st.cooling() and st.cooldown_until else None,
            "blocked_since": st.blocked_since, "blocked_rounds": st.blocked_rounds, "last_ok_at": st.last_ok_at,
            **session_columns(cfg, info),
            "requests_today": identity.requests_today(cfg.data_path, info.name),
            "daily_budget": cfg.platform(info.name).pace(info.name).daily or None,
            "login_pending": pending_login(cfg, info.name) if info.session else None,
            # the early-life cadence of new posts: target and reached (watcher.watch.early)
            "early_cadence": (cadence := early.cadence(cfg, store, info.name)),
            "early_cadence_text": early.describe(cadence),
        })
        if fleet is not None:
            out[-1].update(_fleet_columns(fleet, info.name))
    return out


def _fleet_figures(cfg: Config) -> dict[str, Any] | None:
    """In fleet mode the requests are counted per exit address in Redis and each worker host
    has its own session (:mod:`watcher.distributed.status`); None when crawling locally."""
    if not cfg.crawl.distributed:
        return None
    from watcher.distributed.status import platform_figures

    return platform_figures(cfg)


def _fleet_columns(fleet: dict[str, Any], platform: str) -> dict[str, Any]:
    fig = fleet["platforms"].get(platform) or {}
    return {"requests_today": fig.get("requests_today", 0), "daily_budget": fig.get("daily_budget") or None,
            "exits": fig.get("exits", []), "host_sessions": fig.get("hosts", []), "fleet_error": fleet["error"]}


def session_columns(cfg: Config, info: catalog.Platform) -> dict[str, Any]:
    """The session as last checked. ``session_needed``: the platform's main modes do not work
    without one, so "未登录" there reads "需要登录"."""
    if info.session is None:
        return {"session_state": None, "session_label": "无需登录", "session_age": None, "session_checked_at": None,
                "session_detail": None, "session_needed": False, "session_hint": None, "session_loses": None}
    st = sessions.saved_status(cfg, info.name)
    label = sessions.STATE_LABELS[st.state]
    if st.state == "none" and info.session.required:
        label = "需要登录"
    return {"session_state": st.state, "session_label": label,
            "session_age": st.age_text() if st.saved_at else None, "session_checked_at": st.checked_at,
            "session_detail": st.detail or None, "session_needed": info.session.required,
            "session_hint": info.session_hint or None, "session_loses": info.session.loses}
