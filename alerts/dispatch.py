"""The delivery log: plan who gets what, deliver when due, retry, fall back, escalate.

Learnt from Prometheus Alertmanager: a finding revision is planned once (``alert_plans``), each
(finding, revision, unit, channel) becomes one row in ``deliveries`` whose unique
``dedupe_key`` makes a restart or a second planner unable to plan it twice; a changed finding
(new revision) is planned again. A sender claims due rows in one UPDATE (pending → sending,
under its own token) before sending, so however many senders run (the daemon, ``watcher alerts
send``), each row goes to one of them; a claim left by a sender that died is released after
:data:`CLAIM_STALE_AFTER`. Delivery honours per-unit policy (immediate or a daily digest),
quiet hours (critical findings excepted), per-channel rate limits, retries with exponential
backoff, falls back to email when a bot keeps failing, and escalates to the central
department when a finding stays unreviewed.

Every function takes ``now`` so that tests drive the clock.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from loguru import logger

from alerts import messages
from alerts.channels import DeliveryError, Outgoing, Sender
from alerts.routing import route
from alerts.secrets import Credentials, redact
from alerts.split import LIMITS, split_message
from watcher.config import ChannelConfig, Config, UnitConfig
from watcher.findings import OPEN_STATUSES
from watcher.periods import active_periods, local_tz
from watcher.schedule import ScheduledJob
from watcher.store import Store, loads

# Messages a bot accepts per minute before it starts dropping them (DingTalk documents 20).
RATE_PER_MINUTE: dict[str, int] = {"dingtalk": 20, "wecom": 20, "feishu": 100}
FALLBACK_AFTER_ATTEMPTS = 3
# A claim older than this is a sender that died mid-way; longer than any send takes (SMTP and
# bot timeouts are under a minute, a long digest is a few parts).
CLAIM_STALE_AFTER = timedelta(minutes=10)


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).replace(microsecond=0).isoformat()


def _parse(s: str) -> datetime:
    t = datetime.fromisoformat(s)
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def channel_key(unit: UnitConfig, index: int) -> str:
    return f"{unit.id}/{index}:{unit.channels[index].type}"


def _channel(cfg: Config, key: str) -> tuple[UnitConfig, ChannelConfig] | None:
    unit_id, rest = key.split("/", 1)
    index = int(rest.split(":", 1)[0])
    unit = next((u for u in cfg.units if u.id == unit_id), None)
    if unit is None or index >= len(unit.channels):
        return None
    return unit, unit.channels[index]


def _in_quiet_hours(cfg: Config, now: datetime) -> datetime | None:
    """End of the current quiet hours, or None when it is not quiet now."""
    if not cfg.alerts.quiet_hours:
        return None
    start, end = cfg.alerts.quiet_hours
    local = now.astimezone(local_tz())
    t = local.time()
    quiet = (start <= t < end) if start < end else (t >= start or t < end)
    if not quiet:
        return None
    day = local.date() if t < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=local_tz())


def _next_digest(at: time, now: datetime) -> datetime:
    local = now.astimezone(local_tz())
    candidate = datetime.combine(local.date(), at, tzinfo=local_tz())
    return candidate if candidate > local else candidate + timedelta(days=1)


def _when(cfg: Config, store: Store, unit: UnitConfig, finding: dict[str, Any], now: datetime) -> tuple[datetime, str]:
    critical = finding.get("severity") == "critical"
    policy = unit.policy
    periods = active_periods(cfg, store, now)
    if any(p.alert_policy == "immediate" and p.covers(finding.get("platform")) for p in periods):
        policy = "immediate"  # sensitive periods do not wait for tomorrow's digest
    if policy == "digest" and not critical:
        return _next_digest(unit.digest_at, now), "digest"
    quiet_end = None if critical else _in_quiet_hours(cfg, now)
    return (quiet_end or now), "immediate"


def plan(store: Store, cfg: Config, now: datetime) -> int:
    """Create deliveries for every open finding revision not planned yet; returns how many."""
    rows = store.query(
        f"""SELECT f.* FROM findings f LEFT JOIN alert_plans p ON p.finding_id = f.id AND p.revision = f.revision
            WHERE p.finding_id IS NULL AND f.status IN ({','.join('?' * len(OPEN_STATUSES))})""",
        list(OPEN_STATUSES),
    )
    created = 0
    central = cfg.central_unit()
    for f in rows:
        f["details"] = loads(f["details"], {})
        r = route(cfg, store, f, now)
        with store.transaction():
            store.conn.execute("INSERT OR IGNORE INTO alert_plans (finding_id, revision, planned_at, route) VALUES (?, ?, ?, ?)",
                               [f["id"], f["revision"], _iso(now), "；".join(r.why) if r else "无单位可发送"])
            if r is None:
                continue
            for unit, role in r.units(central):
                when, purpose = _when(cfg, store, unit, f, now)
                for i in range(len(unit.channels)):
                    key = f"{f['id']}:{f['revision']}:{channel_key(unit, i)}"
                    cur = store.conn.execute(
                        """INSERT OR IGNORE INTO deliveries (finding_id, revision, unit, channel, dedupe_key, status,
                           attempts, next_attempt_at, created_at, role, purpose) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?)""",
                        [f["id"], f["revision"], unit.id, channel_key(unit, i), key, _iso(when), _iso(now), role, purpose],
                    )
                    created += cur.rowcount
    return created


def escalate(store: Store, cfg: Config, now: datetime) -> int:
    """Findings still open after ``alerts.escalate_after_hours`` go to the central department."""
    central = cfg.central_unit()
    if central is None:
        return 0
    cutoff = _iso(now - timedelta(hours=cfg.alerts.escalate_after_hours))
    rows = store.query(
        """SELECT f.id, f.revision, f.unit FROM findings f WHERE f.status = 'open' AND f.created_at <= ?
           AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.finding_id = f.id AND d.purpose = 'escalation')""",
        [cutoff],
    )
    created = 0
    for f in rows:
        unit = cfg.unit(f["unit"])
        if unit is not None and unit.central:
            continue
        with store.transaction():
            for i in range(len(central.channels)):
                cur = store.conn.execute(
                    """INSERT OR IGNORE INTO deliveries (finding_id, revision, unit, channel, dedupe_key, status, attempts,
                       next_attempt_at, created_at, role, purpose) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, '升级', 'escalation')""",
                    [f["id"], f["revision"], central.id, channel_key(central, i), f"escalate:{f['id']}:{channel_key(central, i)}",
                     _iso(now), _iso(now)],
                )
                created += cur.rowcount
        if created:
            logger.info("发现 #{} 超过 {} 小时未复核，已升级至 {}", f["id"], cfg.alerts.escalate_after_hours, central.name)
    return created


@dataclass
class Result:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    postponed: int = 0


def _sent_last_minute(store: Store, channel: str, now: datetime) -> int:
    return store.scalar("SELECT COUNT(*) FROM deliveries WHERE channel = ? AND status = 'sent' AND sent_at > ?",
                        [channel, _iso(now - timedelta(seconds=60))]) or 0


def _compose(cfg: Config, unit: UnitConfig, rows: list[dict[str, Any]], findings: dict[int, dict[str, Any]]) -> Outgoing:
    items = [(findings[r["finding_id"]], r["role"] or "责任单位") for r in rows]
    if len(items) == 1:
        f, role = items[0]
        out = messages.single(cfg, f, unit.name, role)
        if rows[0]["purpose"] == "escalation":
            out = Outgoing("【升级】" + out.title, f"以下发现已超过 {cfg.alerts.escalate_after_hours:g} 小时未复核：\n" + out.text)
        return out
    return messages.digest(cfg, items, unit.name)


def _claim_token() -> str:
    """Who holds a claim: host, process and a per-call nonce (two threads of one process, or two
    calls in one thread, never share a token)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def recover_stale_claims(store: Store, now: datetime) -> int:
    """Claims older than :data:`CLAIM_STALE_AFTER` belong to a sender that died between claiming
    and recording the outcome: they go back to pending. (If it died after the receiver accepted
    the message, that message is sent a second time: at least once beats never.)"""
    with store.transaction():
        cur = store.conn.execute(
            """UPDATE deliveries SET status = 'pending', claimed_by = NULL, claimed_at = NULL,
               last_error = '发送进程中断，已重新排队' WHERE status = 'sending' AND claimed_at <= ?""",
            [_iso(now - CLAIM_STALE_AFTER)])
    if cur.rowcount:
        logger.warning("{} 条告警的发送进程已中断，重新排队", cur.rowcount)
    return cur.rowcount


def claim_due(store: Store, now: datetime) -> tuple[str, list[dict[str, Any]]]:
    """Atomically take every due pending delivery for this sender: one UPDATE moves them to
    'sending' under a fresh token, so a row another sender already took is not taken again."""
    token = _claim_token()
    with store.transaction():
        store.conn.execute(
            """UPDATE deliveries SET status = 'sending', claimed_by = ?, claimed_at = ?
               WHERE status = 'pending' AND next_attempt_at <= ?""", [token, _iso(now), _iso(now)])
    rows = store.query("SELECT * FROM deliveries WHERE status = 'sending' AND claimed_by = ? ORDER BY id", [token])
    return token, rows


def _release(store: Store, token: str, ids: list[int], **values: Any) -> None:
    """Leave 'sending' for the given rows, only where this sender still holds the claim."""
    sets = ", ".join(f"{k} = ?" for k in values)
    with store.transaction():
        for i in ids:
            store.conn.execute(
                f"UPDATE deliveries SET {sets}, claimed_by = NULL, claimed_at = NULL "
                "WHERE id = ? AND status = 'sending' AND claimed_by = ?", [*values.values(), i, token])


def deliver_due(store: Store, cfg: Config, now: datetime, sender: Sender | None = None) -> Result:
    sender = sender or Sender(cfg.alerts.smtp, Credentials(cfg.resolve_path(cfg.alerts.credentials_file)
                                                           if cfg.alerts.credentials_file else None))
    recover_stale_claims(store, now)
    token, due = claim_due(store, now)
    result = Result()
    if not due:
        return result
    ids = sorted({r["finding_id"] for r in due if r["finding_id"] is not None})
    findings = {}
    for f in store.query(f"SELECT * FROM findings WHERE id IN ({','.join('?' * len(ids))})", ids):
        f["details"] = loads(f["details"], {})
        findings[f["id"]] = f
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in due:
        f = findings.get(r["finding_id"])
        if f is None or (f["status"] not in OPEN_STATUSES and r["purpose"] != "escalation"):
            _release(store, token, [r["id"]], status="suppressed", last_error="发现已复核关闭，无需再发送")
            continue
        # Digests combine everything due for one channel; immediate deliveries go one by one.
        batch = "digest" if r["purpose"] == "digest" else f"single{r['id']}"
        groups[(r["channel"], batch)].append(r)
    for (channel, _batch), rows in groups.items():
        _send_group(store, cfg, sender, token, channel, rows, findings, now, result)
    return result


def _send_group(store: Store, cfg: Config, sender: Sender, token: str, channel: str, rows: list[dict[str, Any]],
                findings: dict[int, dict[str, Any]], now: datetime, result: Result) -> None:
    found = _channel(cfg, channel)
    if found is None:
        _fail(store, cfg, token, rows, now, "渠道已从配置中删除", final=True, result=result)
        return
    unit, ch = found
    limit = RATE_PER_MINUTE.get(ch.type)
    if limit is not None and _sent_last_minute(store, channel, now) >= limit:
        _release(store, token, [r["id"] for r in rows], status="pending",
                 next_attempt_at=_iso(now + timedelta(seconds=60)))
        result.postponed += len(rows)
        return
    msg = _compose(cfg, unit, rows, findings)
    try:
        confirmations = [sender.send(ch, Outgoing(msg.title, part))
                         for part in split_message(msg.text, LIMITS.get(ch.type, 60000))]
    except DeliveryError as e:
        _fail(store, cfg, token, rows, now, str(e), final=False, result=result)
        return
    with store.transaction():
        for r in rows:
            store.conn.execute(
                """UPDATE deliveries SET status = 'sent', attempts = attempts + 1, sent_at = ?, confirmation = ?,
                   last_error = NULL, claimed_by = NULL, claimed_at = NULL WHERE id = ? AND claimed_by = ?""",
                [_iso(now), confirmations[-1], r["id"], token],
            )
    result.sent += len(rows)
    logger.info("告警已送达 {} {}（{} 条）：{}", unit.name, ch.type, len(rows), confirmations[-1])


def _fail(store: Store, cfg: Config, token: str, rows: list[dict[str, Any]], now: datetime, error: str, *,
          final: bool, result: Result) -> None:
    error = redact(error)
    with store.transaction():
        for r in rows:
            attempts = r["attempts"] + 1
            give_up = final or attempts >= cfg.alerts.max_attempts
            delay = timedelta(minutes=min(2 ** attempts, 60))
            store.conn.execute(
                """UPDATE deliveries SET attempts = ?, last_error = ?, status = ?, next_attempt_at = ?,
                   claimed_by = NULL, claimed_at = NULL WHERE id = ? AND claimed_by = ?""",
                [attempts, error, "failed" if give_up else "pending", _iso(now + delay), r["id"], token],
            )
            if give_up:
                result.failed += 1
            else:
                result.retried += 1
            if attempts >= FALLBACK_AFTER_ATTEMPTS and not r["channel"].endswith(":email") and r["purpose"] != "fallback":
                _fallback(store, cfg, r, now)
    logger.warning("告警发送失败（{} 条），{}：{}", len(rows), "不再重试" if final else "稍后重试", error)


def _fallback(store: Store, cfg: Config, row: dict[str, Any], now: datetime) -> None:
    """A bot that keeps failing: send the same finding by email (the unit's, else central's)."""
    for unit in (next((u for u in cfg.units if u.id == row["unit"]), None), cfg.central_unit()):
        if unit is None:
            continue
        for i, ch in enumerate(unit.channels):
            if ch.type == "email":
                store.conn.execute(
                    """INSERT OR IGNORE INTO deliveries (finding_id, revision, unit, channel, dedupe_key, status, attempts,
                       next_attempt_at, created_at, role, purpose) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?, 'fallback')""",
                    [row["finding_id"], row["revision"], unit.id, channel_key(unit, i), f"{row['dedupe_key']}:fallback",
                     _iso(now), _iso(now), row["role"]],
                )
                return


def run_once(store: Store, cfg: Config, now: datetime | None = None, sender: Sender | None = None) -> Result:
    now = now or datetime.now(UTC)
    plan(store, cfg, now)
    escalate(store, cfg, now)
    return deliver_due(store, cfg, now, sender)


def status(store: Store) -> dict[str, Any]:
    counts = {r["status"]: r["n"] for r in store.query("SELECT status, COUNT(*) AS n FROM deliveries GROUP BY status")}
    problems = store.query(
        """SELECT d.id, d.finding_id, d.unit, d.channel, d.status, d.attempts, d.last_error, d.next_attempt_at, f.title
           FROM deliveries d LEFT JOIN findings f ON f.id = d.finding_id
           WHERE d.status IN ('pending', 'sending', 'failed') ORDER BY d.status, d.next_attempt_at LIMIT 200"""
    )
    return {"counts": counts, "deliveries": problems}


def _dispatch(cfg: Config) -> None:
    with Store.open(cfg.db_path) as store:
        run_once(store, cfg)


def scheduled_jobs(cfg: Config) -> list[ScheduledJob]:
    """Plan, escalate and deliver alerts every half minute (when any unit is configured)."""
    if not cfg.units:
        return []
    return [ScheduledJob(id="alerts", func=_dispatch, seconds=cfg.schedule.alerts_every, description="告警：分派、升级与发送")]
