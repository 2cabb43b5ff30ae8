"""Findings: what analysis concluded and a person should see.

A finding is identified by a ``dedupe_key`` that names *what* it is about (``impersonation:
weibo:123``, ``deletion:weibo:4890``). Recording the same thing again is a no-op; recording it
with different content (a new name, a new reason) bumps ``revision``, which is what alerting
keys on to send a changed finding again and never an unchanged one.

Only what a reviewer acts on makes a new revision (:func:`fingerprint`): title, severity, name,
unit and the details except :data:`watcher.store.fingerprint.UNREVISED_DETAILS` (follower counts and other metrics, an
avatar's signed URL), with a score counted by its band. Those still change the stored details,
silently: what is shown stays current, nothing is re-sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from watcher.store import Store, dumps, loads, utcnow, where
from watcher.store.fingerprint import fingerprint_of

Kind = Literal[
    "impersonation",
    "deletion",
    "edit",
    "profile_change",
    "unfiled_change",
    "account_gone",
    "dormant",
    "sentiment",
    "sentiment_spike",
    "crawl_blocked",
    "session_lapsed",
]
Severity = Literal["info", "warning", "critical"]

KIND_LABELS: dict[str, str] = {
    "impersonation": "疑似仿冒账号",
    "deletion": "删帖",
    "edit": "帖子被修改",
    "profile_change": "账号资料变更",
    "unfiled_change": "变更未按时备案",
    "account_gone": "账号消失/被封/改名",
    "dormant": "僵尸账号（长期未更新）",
    "sentiment": "舆情关注",
    "sentiment_spike": "舆情激增",
    "crawl_blocked": "平台采集受阻",
    "session_lapsed": "登录失效",
}

STATUS_LABELS: dict[str, str] = {
    "open": "待处理",
    "confirmed": "已确认仿冒",
    "false_positive": "误报",
    "reported": "已向平台举报",
    "resolved": "已解决",
}

OPEN_STATUSES = ("open", "confirmed", "reported")


@dataclass
class FindingInput:
    kind: str
    dedupe_key: str
    title: str
    severity: Severity = "warning"
    platform: str | None = None
    account_id: str | None = None
    account_name: str | None = None
    unit: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    crawl_run_id: int | None = None


@dataclass
class Recorded:
    id: int
    created: bool
    changed: bool
    revision: int


def fingerprint(f: FindingInput) -> str:
    return fingerprint_of(f.kind, f.title, f.severity, f.account_name, f.unit, f.details)


def record(store: Store, f: FindingInput) -> Recorded:
    """Insert or update a finding; must be called inside ``store.transaction()`` by batches,
    or alone (it opens its own)."""
    fp = fingerprint(f)
    now = utcnow()
    with store.transaction():
        row = store.one("SELECT id, fingerprint, revision, status, details FROM findings WHERE dedupe_key = ?",
                        [f.dedupe_key])
        if row is None:
            cur = store.conn.execute(
                """INSERT INTO findings (kind, severity, platform, account_id, account_name, unit, title,
                   details, dedupe_key, fingerprint, revision, status, crawl_run_id, created_at, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 'open', ?, ?, ?)""",
                [f.kind, f.severity, f.platform, f.account_id, f.account_name, f.unit, f.title,
                 dumps(f.details), f.dedupe_key, fp, f.crawl_run_id, now, now],
            )
            return Recorded(int(cur.lastrowid), True, False, 1)
        if row["fingerprint"] == fp:
            if row["details"] != dumps(f.details):  # new metrics: shown, not re-sent
                store.conn.execute("UPDATE findings SET details = ? WHERE id = ?", [dumps(f.details), row["id"]])
            return Recorded(row["id"], False, False, row["revision"])
        revision = row["revision"] + 1
        # A finding closed as resolved that comes back changed needs eyes again; a reviewer's
        # "false positive" stands until the content changes, which is exactly this case too.
        status = "open" if row["status"] in ("resolved", "false_positive") else row["status"]
        store.conn.execute(
            """UPDATE findings SET severity = ?, account_name = ?, unit = ?, title = ?, details = ?,
               fingerprint = ?, revision = ?, status = ?, crawl_run_id = ?, updated_at = ? WHERE id = ?""",
            [f.severity, f.account_name, f.unit, f.title, dumps(f.details), fp, revision, status,
             f.crawl_run_id, now, row["id"]],
        )
        return Recorded(row["id"], False, True, revision)


def get(store: Store, finding_id: int) -> dict[str, Any] | None:
    row = store.one("SELECT * FROM findings WHERE id = ?", [finding_id])
    if row:
        row["details"] = loads(row["details"], {})
    return row


def list_findings(
    store: Store,
    *,
    status: str | None = None,
    kind: str | None = None,
    unit: str | None = None,
    platform: str | None = None,
    search: str | None = None,
    open_only: bool = False,
    limit: int = 200,
    offset: int = 0,
) -> list[dict[str, Any]]:
    open_clause = [(f"status IN ({','.join('?' * len(OPEN_STATUSES))})", list(OPEN_STATUSES))] if open_only else []
    clause, params = where({"status": status, "kind": kind, "unit": unit, "platform": platform}, search=search,
                           search_columns=("title", "account_name", "account_id"), extra=open_clause)
    sql = "SELECT * FROM findings" + clause
    sql += " ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?"
    rows = store.query(sql, [*params, limit, offset])
    for r in rows:
        r["details"] = loads(r["details"], {})
    return rows


def set_status(store: Store, finding_id: int, status: str, *, actor: str, action: str,
               comment: str | None = None, reference: str | None = None) -> None:
    """Change a finding's status and write the decision to the audit trail, atomically."""
    if status not in STATUS_LABELS:
        raise ValueError(f"未知状态 {status!r}")
    now = utcnow()
    with store.transaction():
        store.conn.execute("UPDATE findings SET status = ?, updated_at = ? WHERE id = ?", [status, now, finding_id])
        store.conn.execute(
            "INSERT INTO review_actions (finding_id, action, comment, reference, actor, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            [finding_id, action, comment, reference, actor, now],
        )
