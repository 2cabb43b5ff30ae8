"""The record of rounds: ``crawl_rounds`` (one per round), ``crawl_runs`` (one per target of a
round) and ``platform_state`` (cool-down and the current 采集受阻 episode of each platform).

Only a run that finished ``ok`` (or ``gone``) is complete and trustworthy: analysis that
concludes something from absence (a post gone, an account gone) ignores every other run.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from loguru import logger

from spiders import catalog
from spiders.catalog import BUDGET_SPENT
from watcher import findings
from watcher.store import Store, scans
from watcher.store import findings as stored_findings
from watcher.store.findings import record, set_status
from watcher.store.rounds import (
    DONE,
    CrawlRun,
    LatestRound,
    PlatformState,
    analysis_failed,
    close_round,
    close_run,
    close_unfinished,
    get_round,
    get_run,
    last_finished_round,
    last_round_started,
    latest_rounds,
    open_round,
    progress,
    round_runs,
    running_round,
    running_rounds,
    set_round_details,
    set_stop_reason,
    start_run,
    state,
    upsert_state,
)

# The round engine, the crawl process and the fleet keep calling the record through this module
# (records.close_run …); the statements themselves live in watcher.store.rounds.
__all__ = [
    "DONE", "STATUS_LABELS", "PlatformState", "after_round", "analysis_failed", "close_round", "close_run", "close_unfinished",
    "get_round", "get_run", "last_finished_round", "last_round_started", "latest_per_platform", "open_round", "progress", "reap_orphans",
    "round_runs", "running_round", "set_round_details", "set_stop_reason", "start_run", "state", "summarize",
]

STATUS_LABELS = {
    "queued": "排队中", "running": "进行中", "ok": "完成", "partial": "部分完成", "blocked": "受阻",
    "failed": "失败", "unreachable": "无法连接", "gone": "账号已不存在", "interrupted": "被中断",
}
CHINA = ZoneInfo("Asia/Shanghai")  # the budget's calendar (spiders.identity counts requests by it)
COOLDOWN_FIRST = timedelta(minutes=15)
COOLDOWN_MAX = timedelta(hours=6)


def summarize(runs: list[CrawlRun], halted: str | None = None) -> tuple[str, str | None]:
    """A round's status from its runs' statuses."""
    statuses = [r.status for r in runs]
    if not statuses:
        return "ok", None
    if "interrupted" in statuses:
        return "interrupted", next(r.reason for r in runs if r.status == "interrupted")
    if halted:
        return "blocked", halted
    if all(s in ("ok", "gone") for s in statuses):
        return "ok", None
    bad = [s for s in statuses if s not in ("ok", "gone")]
    if len(bad) == len(statuses) and len(set(bad)) == 1:
        return bad[0], next(r.reason for r in runs if r.status == bad[0])
    counts = {s: statuses.count(s) for s in dict.fromkeys(statuses)}
    return "partial", "；".join(f"{STATUS_LABELS[s]} {n}" for s, n in counts.items())


def latest_per_platform(store: Store) -> list[LatestRound]:
    """The last round of every platform, with its cool-down, for the dashboard and the CLI."""
    return latest_rounds(store)


def reap_orphans(store: Store) -> int:
    """Rounds left 'running' by a process that no longer exists (killed -9, power loss): their
    unfinished runs are ``interrupted``, so they are neither trusted nor waited for."""
    n = 0
    for row in running_rounds(store):
        if row.pid and row.pid != os.getpid() and _alive(row.pid):
            continue
        n += close_unfinished(store, row.id, "interrupted", "采集进程已不存在（服务被强制终止或重启），本次结果不完整")
        close_round(store, row.id, "interrupted", "采集进程已不存在（服务被强制终止或重启）", {})
    scans.fail_orphaned(store, {r.scan_request_id for r in running_rounds(store)}, "执行扫描的进程已终止")
    return n


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


# -- cool-down and the 采集受阻 episode -------------------------------------------------------------


EPISODES = {
    # round status → (title, what to do)
    "blocked": ("采集受阻", "平台冷却结束后自动重试；如持续受阻，请更新登录 Cookie（platforms.{p}.cookies_file）或降低采集频率"),
    # A whole round fails on a parser that raised (the page changed) or on the platform's own
    # server errors (HTTP 5xx, which pass): the reason says which; the advice covers both.
    "failed": ("采集失败", "请查看采集记录中的原因：平台服务器出错（HTTP 5xx）时下一轮自动重试，无需处理；"
                           "页面或接口已改版（解析出错、接口变更）时请升级 campus-watcher"),
    "unreachable": ("无法连接", "请检查服务器的网络、DNS 与代理设置（platforms.{p}.base_url）"),
}


BUDGET_EPISODE = ("今日请求预算已用完", "明天 0 点（北京时间）自动恢复，无需处理；如果每天都用完，请调长巡检间隔"
                  "（schedule.watch_every）或减少页数（platforms.{p}.pages），watcher check-config 给出可行的间隔")


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
    budget = refused and BUDGET_SPENT in (reason or "")
    if trouble:
        since = st.blocked_since or now.isoformat(timespec="seconds")
        values: dict[str, Any] = {"blocked_since": since, "blocked_rounds": st.blocked_rounds + 1, "reason": reason,
                                  "last_round_id": round_id}
        if budget:
            # The budget is a day of China's calendar: pausing less would only spend the next
            # round on refusals, pausing longer would miss tomorrow's first rounds.
            tomorrow = datetime.combine(now.astimezone(CHINA).date() + timedelta(days=1), datetime.min.time(),
                                        tzinfo=CHINA)
            values.update(cooldown_until=tomorrow.astimezone(UTC).isoformat(timespec="seconds"))
            logger.warning("{}今日请求预算已用完，暂停至明天 0 点（北京时间）；常常不够用时请调长巡检间隔"
                           "（watcher check-config 给出可行的间隔）", label)
        elif refused:
            level = st.cooldown_level + 1
            pause = min(COOLDOWN_FIRST * (2 ** (level - 1)), COOLDOWN_MAX)
            values.update(cooldown_until=(now + pause).isoformat(timespec="seconds"), cooldown_level=level)
            logger.warning("{}采集受阻，暂停 {} 分钟：{}", label, int(pause.total_seconds() // 60), reason)
        title, remedy = BUDGET_EPISODE if budget else EPISODES[trouble]
        with store.transaction():
            upsert_state(store, platform, **values)
            rec = record(store, findings.crawl_blocked(
                platform, trouble=trouble, since=since, title=title, reason=_first_reason(reason),
                remedy=remedy.format(p=platform)))
            upsert_state(store, platform, finding_id=rec.id)
    elif status == "ok":
        with store.transaction():
            upsert_state(store, platform, cooldown_until=None, cooldown_level=0, blocked_since=None, blocked_rounds=0,
                    reason=None, finding_id=None, last_ok_at=now.isoformat(timespec="seconds"), last_round_id=round_id)
            open_ids = stored_findings.open_ids(store, "crawl_blocked", platform)
            for fid in open_ids:
                set_status(store, fid, "resolved", actor="系统", action="resolve", comment=f"{label}采集已恢复正常")
        if open_ids:
            logger.info("{}采集已恢复，自动关闭 {} 条采集问题发现", label, len(open_ids))
    else:
        with store.transaction():
            upsert_state(store, platform, last_round_id=round_id)
    return state(store, platform)


def _first_reason(reason: str | None) -> str:
    """The cause without the per-round tallies, so the episode's finding does not change (and
    is not sent again) with every round."""
    return (reason or "平台拒绝了采集").split("（此前已完成")[0]


