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
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from loguru import logger

from alerts import messages
from alerts.channels import DeliveryError, Outgoing, Sender
from alerts.routing import route
from alerts.secrets import Credentials, redact
from alerts.split import LIMITS, split_message
from watcher.cleaning import printable
from watcher.config import ChannelConfig, Config, UnitConfig
from watcher.periods import active_periods, local_tz
from watcher.schedule import ScheduledJob
from watcher.store import Store, deliveries
from watcher.store import findings as stored_findings
from watcher.store.deliveries import Delivery
from watcher.store.findings import OPEN_STATUSES, Finding

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


# What people read for a delivery (the store keeps the codes): its status and its channel.
DELIVERY_STATUS = {"pending": "待发送", "sending": "发送中", "sent": "已送达", "failed": "失败", "suppressed": "已免发"}
CHANNEL_TYPES = {"email": "邮件", "wecom": "企业微信", "dingtalk": "钉钉", "feishu": "飞书", "webhook": "Webhook"}


def channel_label(key: str) -> str:
    """``cs/1:dingtalk`` → ``钉钉（第 2 个渠道）``; a key of another shape is shown as it is."""
    _, _, rest = key.partition("/")
    index, _, kind = rest.partition(":")
    if not index.isdigit() or kind not in CHANNEL_TYPES:
        return key
    return f"{CHANNEL_TYPES[kind]}（第 {int(index) + 1} 个渠道）"


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


def _when(cfg: Config, store: Store, unit: UnitConfig, finding: Finding, now: datetime) -> tuple[datetime, str]:
    critical = finding.severity == "critical"
    policy = unit.policy
    periods = active_periods(cfg, store, now)
    if any(p.alert_policy == "immediate" and p.covers(finding.platform) for p in periods):
        policy = "immediate"  # sensitive periods do not wait for tomorrow's digest
    if policy == "digest" and not critical:
        return _next_digest(unit.digest_at, now), "digest"
    quiet_end = None if critical else _in_quiet_hours(cfg, now)
    return (quiet_end or now), "immediate"


def plan(cfg: Config, store: Store, now: datetime) -> int:
    """Create deliveries for every open finding revision not planned yet; returns how many."""
    created = 0
    central = cfg.central_unit()
    for f in deliveries.unplanned(store, OPEN_STATUSES):
        r = route(cfg, store, f, now)
        with store.transaction():
            deliveries.add_plan(store, f.id, f.revision, _iso(now), "；".join(r.why) if r else "无单位可发送")
            if r is None:
                continue
            for unit, role in r.units(central):
                when, purpose = _when(cfg, store, unit, f, now)
                for i in range(len(unit.channels)):
                    created += deliveries.add(
                        store, finding_id=f.id, revision=f.revision, unit=unit.id, channel=channel_key(unit, i),
                        dedupe_key=f"{f.id}:{f.revision}:{channel_key(unit, i)}", next_attempt_at=_iso(when),
                        created_at=_iso(now), role=role, purpose=purpose)
    return created


def escalate(cfg: Config, store: Store, now: datetime) -> int:
    """Findings still open after ``alerts.escalate_after_hours`` go to the central department."""
    central = cfg.central_unit()
    if central is None:
        return 0
    cutoff = _iso(now - timedelta(hours=cfg.alerts.escalate_after_hours))
    created = 0
    for f in deliveries.open_without_escalation(store, cutoff):
        unit = cfg.unit(f.unit)
        if unit is not None and unit.central:
            continue
        with store.transaction():
            for i in range(len(central.channels)):
                created += deliveries.add(
                    store, finding_id=f.id, revision=f.revision, unit=central.id, channel=channel_key(central, i),
                    dedupe_key=f"escalate:{f.id}:{channel_key(central, i)}", next_attempt_at=_iso(now),
                    created_at=_iso(now), role="升级", purpose="escalation")
        if created:
            logger.info("发现 #{} 超过 {} 小时未复核，已升级至 {}", f.id, cfg.alerts.escalate_after_hours, central.name)
    return created


@dataclass
class Result:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    postponed: int = 0
    # error text → deliveries that failed on it this cycle: a mail server that is down fails
    # every delivery alike, and 120 identical log lines hide the one thing to fix
    errors: dict[str, int] = field(default_factory=dict)

    def log_failures(self) -> None:
        if not self.errors:
            return
        causes = "；".join(f"{n} 条：{error}" for error, n in list(self.errors.items())[:3])
        more = f"；另有 {len(self.errors) - 3} 种原因" if len(self.errors) > 3 else ""
        logger.warning("本轮告警发送失败 {} 条（{} 条稍后重试，{} 条不再重试）——{}{}",
                       sum(self.errors.values()), self.retried, self.failed, causes, more)


def _sent_last_minute(store: Store, channel: str, now: datetime) -> int:
    return deliveries.sent_since(store, channel, _iso(now - timedelta(seconds=60)))


def _compose(cfg: Config, unit: UnitConfig, rows: list[Delivery], findings: dict[int, Finding]) -> Outgoing:
    items = [(findings[r.finding_id], r.role or "责任单位") for r in rows]
    if len(items) == 1:
        f, role = items[0]
        out = messages.single(cfg, f, unit.name, role)
        if rows[0].purpose == "escalation":
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
    n = deliveries.requeue_claimed_before(store, _iso(now - CLAIM_STALE_AFTER), "发送进程中断，已重新排队")
    if n:
        logger.warning("{} 条告警的发送进程已中断，重新排队", n)
    return n


def claim_due(store: Store, now: datetime) -> tuple[str, list[Delivery]]:
    """Atomically take every due pending delivery for this sender: one UPDATE moves them to
    'sending' under a fresh token, so a row another sender already took is not taken again."""
    token = _claim_token()
    return token, deliveries.claim_due(store, token, _iso(now))


def _release(store: Store, token: str, ids: list[int], **values: Any) -> None:
    """Leave 'sending' for the given rows, only where this sender still holds the claim."""
    deliveries.release(store, token, ids, **values)


def deliver_due(cfg: Config, store: Store, now: datetime, sender: Sender | None = None) -> Result:
    sender = sender or Sender(cfg.alerts.smtp, Credentials(cfg.resolve_path(cfg.alerts.credentials_file)
                                                           if cfg.alerts.credentials_file else None))
    recover_stale_claims(store, now)
    token, due = claim_due(store, now)
    result = Result()
    if not due:
        return result
    ids = sorted({r.finding_id for r in due if r.finding_id is not None})
    findings = stored_findings.get_many(store, ids)
    groups: dict[tuple[str, str], list[Delivery]] = defaultdict(list)
    for r in due:
        f = findings.get(r.finding_id)
        if f is None or (f.status not in OPEN_STATUSES and r.purpose != "escalation"):
            _release(store, token, [r.id], status="suppressed", last_error="发现已复核关闭，无需再发送")
            continue
        # Digests combine everything due for one channel; immediate deliveries go one by one.
        batch = "digest" if r.purpose == "digest" else f"single{r.id}"
        groups[(r.channel, batch)].append(r)
    for (channel, _batch), rows in groups.items():
        try:
            _send_group(cfg, store, sender, token, channel, rows, findings, now, result)
        except Exception as e:  # noqa: BLE001 - one delivery must never stop the others
            # A message that cannot be built or handed over (platform data nothing foresaw):
            # counted as a failed attempt with a Chinese reason, retried, and the rest go on.
            logger.opt(exception=e).debug("告警发送出错的详情")
            _fail(cfg, store, token, rows, now, f"告警内容无法生成或发送（{printable(str(e))[:200] or '内部错误'}）",
                  final=False, result=result)
    result.log_failures()
    return result


def _send_group(cfg: Config, store: Store, sender: Sender, token: str, channel: str, rows: list[Delivery],
                findings: dict[int, Finding], now: datetime, result: Result) -> None:
    found = _channel(cfg, channel)
    if found is None:
        _fail(cfg, store, token, rows, now, "渠道已从配置中删除", final=True, result=result)
        return
    unit, ch = found
    limit = RATE_PER_MINUTE.get(ch.type)
    if limit is not None and _sent_last_minute(store, channel, now) >= limit:
        _release(store, token, [r.id for r in rows], status="pending",
                 next_attempt_at=_iso(now + timedelta(seconds=60)))
        result.postponed += len(rows)
        return
    msg = _compose(cfg, unit, rows, findings)
    try:
        confirmations = [sender.send(ch, Outgoing(msg.title, part))
                         for part in split_message(msg.text, LIMITS.get(ch.type, 60000))]
    except DeliveryError as e:
        _fail(cfg, store, token, rows, now, str(e), final=False, result=result)
        return
    deliveries.mark_sent(store, token, [r.id for r in rows], _iso(now), confirmations[-1])
    result.sent += len(rows)
    logger.info("告警已送达 {} {}（{} 条）：{}", unit.name, ch.type, len(rows), confirmations[-1])


def _fail(cfg: Config, store: Store, token: str, rows: list[Delivery], now: datetime, error: str, *,
          final: bool, result: Result) -> None:
    error = redact(error)
    with store.transaction():
        for r in rows:
            attempts = r.attempts + 1
            give_up = final or attempts >= cfg.alerts.max_attempts
            delay = timedelta(minutes=min(2 ** attempts, 60))
            deliveries.mark_failed_attempt(store, token, r.id, attempts=attempts, error=error,
                                           status="failed" if give_up else "pending", next_attempt_at=_iso(now + delay))
            if give_up:
                result.failed += 1
            else:
                result.retried += 1
            if attempts >= FALLBACK_AFTER_ATTEMPTS and not r.channel.endswith(":email") and r.purpose != "fallback":
                _fallback(cfg, store, r, now)
    result.errors[error] = result.errors.get(error, 0) + len(rows)


def _fallback(cfg: Config, store: Store, row: Delivery, now: datetime) -> None:
    """A bot that keeps failing: send the same finding by email (the unit's, else central's)."""
    for unit in (next((u for u in cfg.units if u.id == row.unit), None), cfg.central_unit()):
        if unit is None:
            continue
        for i, ch in enumerate(unit.channels):
            if ch.type == "email":
                deliveries.add(
                    store, finding_id=row.finding_id, revision=row.revision, unit=unit.id,
                    channel=channel_key(unit, i), dedupe_key=f"{row.dedupe_key}:fallback", next_attempt_at=_iso(now),
                    created_at=_iso(now), role=row.role, purpose="fallback")
                return


def run_once(cfg: Config, store: Store, now: datetime | None = None, sender: Sender | None = None) -> Result:
    now = now or datetime.now(UTC)
    plan(cfg, store, now)
    escalate(cfg, store, now)
    return deliver_due(cfg, store, now, sender)


def status(store: Store) -> dict[str, Any]:
    """Delivery counts by status and the deliveries not sent yet, for ``watcher alerts status``."""
    return {"counts": deliveries.counts(store), "deliveries": deliveries.unfinished(store)}


def _dispatch(cfg: Config) -> None:
    with Store.open(cfg.db_path) as store:
        run_once(cfg, store)


def scheduled_jobs(cfg: Config) -> list[ScheduledJob]:
    """Plan, escalate and deliver alerts every half minute (when any unit is configured)."""
    if not cfg.units:
        return []
    return [ScheduledJob(id="alerts", func=_dispatch, seconds=cfg.schedule.alerts_every, description="告警：分派、升级与发送")]
