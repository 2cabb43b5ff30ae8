"""The record of rounds: ``crawl_rounds`` (one per round), ``crawl_runs`` (one per target of a
round) and ``platform_state`` (cool-down and the current 采集受阻 episode of each platform).

Only a run that finished ``ok`` (or ``gone``) is complete and trustworthy: analysis that
concludes something from absence (a post gone, an account gone) ignores every other run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from loguru import logger

from spiders import catalog
from spiders.base import Target
from watcher import findings
from watcher.store import Store, dumps, loads, utcnow
from watcher.store.findings import record, set_status

DONE = ("ok", "partial", "blocked", "failed", "unreachable", "gone", "interrupted")
STATUS_LABELS = {
    "queued": "排队中", "running": "进行中", "ok": "完成", "partial": "部分完成", "blocked": "受阻",
    "failed": "失败", "unreachable": "无法连接", "gone": "账号已不存在", "interrupted": "被中断",
}
COOLDOWN_FIRST = timedelta(minutes=15)
COOLDOWN_MAX = timedelta(hours=6)


def open_round(store: Store, platform: str, mode: str, targets: list[Target],
               scan_request_id: int | None = None) -> tuple[int, dict[str, int]]:
    """Record a round and one queued run per target; returns the round id and key → run id."""
    now = utcnow()
    with store.transaction():
        rid = int(store.conn.execute(
            "INSERT INTO crawl_rounds (platform, mode, status, targets, scan_request_id, pid, started_at) "
            "VALUES (?, ?, 'running', ?, ?, ?, ?)",
            [platform, mode, len(targets), scan_request_id, os.getpid(), now]).lastrowid)
        runs = {}
        for t in targets:
            runs[t.key] = int(store.conn.execute(
                "INSERT INTO crawl_runs (platform, mode, target, status, pid, scan_request_id, started_at, round_id) "
                "VALUES (?, ?, ?, 'queued', ?, ?, ?, ?)",
                [platform, mode, t.key, os.getpid(), scan_request_id, now, rid]).lastrowid)
    return rid, runs


def start_run(store: Store, run_id: int) -> None:
    with store.transaction():
        store.conn.execute("UPDATE crawl_runs SET status = 'running', started_at = ? WHERE id = ? AND status = 'queued'",
                           [utcnow(), run_id])


def close_run(store: Store, run_id: int, status: str, reason: str | None = None,
              details: dict[str, Any] | None = None) -> bool:
    """Close one target's run; False when it was already closed."""
    if status not in DONE:
        raise ValueError(status)
    with store.transaction():
        cur = store.conn.execute(
            "UPDATE crawl_runs SET status = ?, reason = ?, details = ?, finished_at = ? "
            "WHERE id = ? AND status IN ('queued', 'running')",
            [status, reason, dumps(details or {}), utcnow(), run_id])
    return cur.rowcount > 0


def close_unfinished(store: Store, round_id: int, status: str, reason: str) -> int:
    with store.transaction():
        cur = store.conn.execute(
            "UPDATE crawl_runs SET status = ?, reason = ?, finished_at = ? "
            "WHERE round_id = ? AND status IN ('queued', 'running')", [status, reason, utcnow(), round_id])
    return cur.rowcount


def get_run(store: Store, run_id: int) -> dict[str, Any] | None:
    row = store.one("SELECT * FROM crawl_runs WHERE id = ?", [run_id])
    if row:
        row["details"] = loads(row["details"], {})
    return row


def round_runs(store: Store, round_id: int) -> list[dict[str, Any]]:
    rows = store.query("SELECT * FROM crawl_runs WHERE round_id = ? ORDER BY id", [round_id])
    for r in rows:
        r["details"] = loads(r["details"], {})
    return rows


def get_round(store: Store, round_id: int) -> dict[str, Any] | None:
    row = store.one("SELECT * FROM crawl_rounds WHERE id = ?", [round_id])
    if row:
        row["details"] = loads(row["details"], {})
    return row


def set_stop_reason(store: Store, round_id: int, why: str) -> None:
    """Why the round is being stopped (``daemon``, ``timeout``): the crawl process reads it to word
    the runs it leaves unfinished."""
    with store.transaction():
        store.conn.execute("UPDATE crawl_rounds SET stop_reason = COALESCE(stop_reason, ?) WHERE id = ?", [why, round_id])


def progress(store: Store, round_id: int) -> tuple[int, int]:
    row = store.one("SELECT COUNT(*) AS total, SUM(status NOT IN ('queued', 'running')) AS done FROM crawl_runs "
                    "WHERE round_id = ?", [round_id]) or {}
    return int(row.get("done") or 0), int(row.get("total") or 0)


def summarize(runs: list[dict[str, Any]], halted: str | None = None) -> tuple[str, str | None]:
    """A round's status from its runs' statuses."""
    statuses = [r["status"] for r in runs]
    if not statuses:
        return "ok", None
    if "interrupted" in statuses:
        return "interrupted", next(r["reason"] for r in runs if r["status"] == "interrupted")
    if halted:
        return "blocked", halted
    if all(s in ("ok", "gone") for s in statuses):
        return "ok", None
    bad = [s for s in statuses if s not in ("ok", "gone")]
    if len(bad) == len(statuses) and len(set(bad)) == 1:
        return bad[0], next(r["reason"] for r in runs if r["status"] == bad[0])
    counts = {s: statuses.count(s) for s in dict.fromkeys(statuses)}
    return "partial", "；".join(f"{STATUS_LABELS[s]} {n}" for s, n in counts.items())


def close_round(store: Store, round_id: int, status: str, reason: str | None, details: dict[str, Any]) -> None:
    with store.transaction():
        store.conn.execute(
            "UPDATE crawl_rounds SET status = ?, reason = ?, details = ?, finished_at = ? WHERE id = ? AND status = 'running'",
            [status, reason, dumps(details), utcnow(), round_id])


def set_round_details(store: Store, round_id: int, details: dict[str, Any]) -> None:
    with store.transaction():
        store.conn.execute("UPDATE crawl_rounds SET details = ? WHERE id = ?", [dumps(details), round_id])


def last_round_started(store: Store, platform: str, mode: str) -> str | None:
    """When the last scheduled round of this kind started (on-demand scans do not count)."""
    return store.scalar("SELECT MAX(started_at) FROM crawl_rounds WHERE platform = ? AND mode = ? "
                        "AND scan_request_id IS NULL", [platform, mode])


def latest_per_platform(store: Store) -> list[dict[str, Any]]:
    """The last round of every platform, with its cool-down, for the dashboard and the CLI."""
    rows = store.query(
        """SELECT r.*, s.cooldown_until, s.blocked_since, s.blocked_rounds, s.last_ok_at
           FROM crawl_rounds r JOIN (SELECT platform, MAX(id) AS id FROM crawl_rounds GROUP BY platform) m ON m.id = r.id
           LEFT JOIN platform_state s ON s.platform = r.platform ORDER BY r.platform""")
    now = datetime.now(UTC)
    for r in rows:
        r["details"] = loads(r["details"], {})
        r["cooling"] = bool(r["cooldown_until"]) and datetime.fromisoformat(r["cooldown_until"]) > now
    return rows


def reap_orphans(store: Store) -> int:
    """Rounds left 'running' by a process that no longer exists (killed -9, power loss): their
    unfinished runs are ``interrupted``, so they are neither trusted nor waited for."""
    n = 0
    for row in store.query("SELECT id, pid FROM crawl_rounds WHERE status = 'running'"):
        if row["pid"] and row["pid"] != os.getpid() and _alive(row["pid"]):
            continue
        n += close_unfinished(store, row["id"], "interrupted", "采集进程已不存在（服务被强制终止或重启），本次结果不完整")
        close_round(store, row["id"], "interrupted", "采集进程已不存在（服务被强制终止或重启）", {})
    with store.transaction():
        live = {r["scan_request_id"] for r in store.query("SELECT scan_request_id FROM crawl_rounds WHERE status = 'running'")}
        for row in store.query("SELECT id FROM scan_requests WHERE status = 'running'"):
            if row["id"] in live:
                continue
            store.conn.execute("UPDATE scan_requests SET status = 'failed', finished_at = ?, summary = ? WHERE id = ?",
                               [utcnow(), dumps({"error": "执行扫描的进程已终止"}), row["id"]])
    return n


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


# -- cool-down and the 采集受阻 episode -------------------------------------------------------------


@dataclass
class PlatformState:
    platform: str
    cooldown_until: datetime | None
    cooldown_level: int
    blocked_since: str | None
    blocked_rounds: int
    reason: str | None
    last_ok_at: str | None

    def cooling(self, now: datetime | None = None) -> bool:
        return self.cooldown_until is not None and self.cooldown_until > (now or datetime.now(UTC))


def state(store: Store, platform: str) -> PlatformState:
    row = store.one("SELECT * FROM platform_state WHERE platform = ?", [platform]) or {}
    until = row.get("cooldown_until")
    return PlatformState(platform, datetime.fromisoformat(until) if until else None, row.get("cooldown_level") or 0,
                         row.get("blocked_since"), row.get("blocked_rounds") or 0, row.get("reason"), row.get("last_ok_at"))


EPISODES = {
    # round status → (title, what to do)
    "blocked": ("采集受阻", "平台冷却结束后自动重试；如持续受阻，请更新登录 Cookie（platforms.{p}.cookies_file）或降低采集频率"),
    "failed": ("采集失败", "平台的页面或接口可能已改版：请查看采集记录中的原因，并升级 campus-watcher"),
    "unreachable": ("无法连接", "请检查服务器的网络、DNS 与代理设置（platforms.{p}.base_url）"),
}


def after_round(store: Store, platform: str, status: str, reason: str | None, round_id: int, *,
                refused: bool, now: datetime | None = None) -> PlatformState:
    """Update the platform's cool-down and its trouble episode after a round.

    ``refused``: the platform refused us (the round halted on blocks, or every target it tried
    was blocked) → pause from 15 minutes, doubling up to 6 hours. A round that refused, failed
    or could not connect opens (or keeps) one finding for the episode, whose content stays the
    same while the episode lasts, so it is sent once. A round that ended ``ok`` resets the pause
    and resolves the episode's findings. An interrupted round changes nothing (the caller does
    not call this for it)."""
    now = now or datetime.now(UTC)
    st = state(store, platform)
    label = catalog.label(platform)
    trouble = "blocked" if refused else status if status in ("failed", "unreachable") else None
    if trouble:
        since = st.blocked_since or now.isoformat(timespec="seconds")
        values: dict[str, Any] = {"blocked_since": since, "blocked_rounds": st.blocked_rounds + 1, "reason": reason,
                                  "last_round_id": round_id}
        if refused:
            level = st.cooldown_level + 1
            pause = min(COOLDOWN_FIRST * (2 ** (level - 1)), COOLDOWN_MAX)
            values.update(cooldown_until=(now + pause).isoformat(timespec="seconds"), cooldown_level=level)
            logger.warning("{}采集受阻，暂停 {} 分钟：{}", label, int(pause.total_seconds() // 60), reason)
        title, remedy = EPISODES[trouble]
        with store.transaction():
            _upsert(store, platform, **values)
            rec = record(store, findings.crawl_blocked(
                platform, trouble=trouble, since=since, title=title, reason=_first_reason(reason),
                remedy=remedy.format(p=platform)))
            _upsert(store, platform, finding_id=rec.id)
    elif status == "ok":
        with store.transaction():
            _upsert(store, platform, cooldown_until=None, cooldown_level=0, blocked_since=None, blocked_rounds=0,
                    reason=None, finding_id=None, last_ok_at=now.isoformat(timespec="seconds"), last_round_id=round_id)
            open_ids = [r["id"] for r in store.query(
                "SELECT id FROM findings WHERE kind = 'crawl_blocked' AND platform = ? AND status = 'open'", [platform])]
            for fid in open_ids:
                set_status(store, fid, "resolved", actor="系统", action="resolve", comment=f"{label}采集已恢复正常")
        if open_ids:
            logger.info("{}采集已恢复，自动关闭 {} 条采集问题发现", label, len(open_ids))
    else:
        with store.transaction():
            _upsert(store, platform, last_round_id=round_id)
    return state(store, platform)


def _first_reason(reason: str | None) -> str:
    """The cause without the per-round tallies, so the episode's finding does not change (and
    is not sent again) with every round."""
    return (reason or "平台拒绝了采集").split("（此前已完成")[0]


def _upsert(store: Store, platform: str, **values: Any) -> None:
    values["updated_at"] = utcnow()
    cols = ", ".join(values)
    store.conn.execute(
        f"INSERT INTO platform_state (platform, {cols}) VALUES (?, {', '.join('?' * len(values))}) "
        f"ON CONFLICT(platform) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in values)}",
        [platform, *values.values()])
