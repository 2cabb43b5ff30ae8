"""Sessions in fleet mode: each worker host has its own (``watcher login`` on that host, or its
``platforms.<p>.cookies_file``), so each worker checks its own before it takes a platform's
targets, takes visitor cookies where the platform needs them as a local round does, and picks up
a renewed session file without a restart. It tells the fleet what it found in its heartbeat; the
daemon — the only one with a database — turns a lapsed session into the same 登录失效 finding as
a local round, naming the host, and resolves it once that host's session works again.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from loguru import logger

from spiders import catalog, identity
from watcher import findings, sessions
from watcher.config import Config
from watcher.store import Store
from watcher.store.findings import list_findings, record, set_status

CHECK_EVERY = 600.0  # a session is asked about at most this often, unless its files change


class HostSession:
    """One platform's session on this worker host."""

    def __init__(self, cfg: Config, platform: str, clock: Any = time.monotonic) -> None:
        self.cfg, self.platform, self.clock = cfg, platform, clock
        self.stamp: tuple[Any, ...] | None = None
        self.checked: float | None = None
        self.report: dict[str, Any] = {}

    def files(self) -> tuple[Any, ...]:
        """What the session is made of on disk, as (path, modification time) pairs."""
        pc = self.cfg.platform(self.platform)
        paths = [identity.state_path(self.cfg.data_path, self.platform),
                 identity.visitor_path(self.cfg.data_path, self.platform)]
        if pc.cookies_file:
            paths.append(self.cfg.resolve_path(pc.cookies_file))
        return tuple((str(p), _mtime(p)) for p in paths)

    def changed(self) -> bool:
        return self.stamp is not None and self.files() != self.stamp

    def due(self) -> bool:
        return self.checked is None or self.clock() - self.checked >= CHECK_EVERY or self.files() != self.stamp

    def refresh(self) -> dict[str, Any]:
        """Visitor cookies if the platform needs them, then the platform's word on the session
        (blocking: a worker runs it off its crawling thread). The report for the heartbeat."""
        cfg, platform = self.cfg, self.platform
        spec = catalog.get(platform).session
        has = sessions.has_session(cfg, platform)
        if spec is not None and spec.visitor is not None and cfg.platform(platform).visitor_cookies and not has:
            sessions.ensure_visitor(cfg, platform)
        if spec is None or not has:
            status = sessions.saved_status(cfg, platform)
            self.report = {"state": status.state, "detail": status.detail}
        else:
            status = sessions.check(cfg, platform)
            previous = sessions.meta(cfg, platform)
            more = {}
            if status.state == "lapsed":
                more["lapsed_at"] = previous.get("lapsed_at") or status.checked_at
            elif status.state == "valid":
                more["lapsed_at"] = None
            kept = sessions.keep_checked(cfg, status, **more)
            self.report = {"state": status.state, "detail": status.detail, "saved_at": status.saved_at,
                           "source": status.source, "checked_at": status.checked_at,
                           "lapsed_at": kept.get("lapsed_at")}
            if status.state == "lapsed":
                logger.warning("{}登录会话已失效（{}）：{}", catalog.label(platform), status.detail, spec.loses)
        self.stamp, self.checked = self.files(), self.clock()
        return self.report


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


def reports(worker: dict[str, Any], platform: str) -> dict[str, Any]:
    """A worker's last session report for ``platform`` (from its heartbeat)."""
    value = worker.get("sessions", {}).get(platform)
    return value if isinstance(value, dict) else {}


def note_fleet_sessions(cfg: Config, fleet: Any, store: Store, platform: str) -> None:
    """What the live workers of ``platform`` said of their sessions, kept as findings: a lapsed
    session opens (or keeps) one 登录失效 finding naming the host, a working one resolves it."""
    spec = catalog.get(platform).session
    if spec is None:
        return
    label = catalog.label(platform)
    central = cfg.central_unit()
    for w in fleet.live(platform):
        host = w["host"] or w["name"]
        rep = reports(w, platform)
        if rep.get("state") == "valid":
            for f in list_findings(store, kind=sessions.KIND, platform=platform, status="open"):
                if f.details.get("host") == host:
                    set_status(store, f.id, "resolved", actor="系统", action="resolve",
                               comment=f"采集主机 {host} 的{label}登录会话已恢复有效")
            continue
        if rep.get("state") != "lapsed":
            continue
        saved_at, since = rep.get("saved_at"), rep.get("lapsed_at") or rep.get("checked_at") or ""
        age = (sessions.SessionStatus(platform, "lapsed", saved_at=saved_at).age_text(_parse(since))
               if saved_at and since else "未知（来自 cookies_file）")
        remedy = (f"在采集主机 {host} 上运行 watcher login {platform}（使用该节点的配置文件），用部门账号的手机 App 扫描二维码；"
                  f"或在浏览器中登录后导出 Cookie，在该主机上运行 watcher login {platform} --cookies 文件；节点无需重启")
        record(store, findings.session_lapsed(
            platform, saved_at=saved_at, unit=central.id if central else None,
            signal=str(rep.get("detail") or "").split("（")[0], age=age, loses=spec.loses, remedy=remedy, since=since,
            host=host))


def _parse(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text)


def encode(reports_by_platform: dict[str, dict[str, Any]]) -> str:
    return json.dumps(reports_by_platform, ensure_ascii=False)
