"""Where each platform stands, for the operator: the session (state and age), the last round and
the last ok one, the cool-down, the current 采集受阻 episode, the requests made today against
the day's budget, a QR login waiting for its scan, and how often new posts were checked.

Read by ``watcher platforms status`` and the web app's 平台状态 page, so both say the same.
Nothing here asks a platform anything: the status is read often, the session is checked before
rounds (:mod:`watcher.sessions`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from spiders import catalog, identity
from watcher import sessions
from watcher.config import Config
from watcher.rounds.records import latest_per_platform, state
from watcher.store import Store
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
    """One row per platform, in the catalog's order."""
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
