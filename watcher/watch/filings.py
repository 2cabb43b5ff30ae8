"""Were profile changes of registered accounts filed (变更备案) in time?

A detected change is in time when a change filing for the same field exists within the
school's window (see :func:`watcher.watch.workdays.filing_window`); then the change finding is
resolved. Once the window has passed without one, an ``unfiled_change`` finding goes to the
owning unit. Before the deadline nothing is said: the unit still has time.
"""

from __future__ import annotations

from datetime import date, timedelta

from watcher import registry
from watcher.config import PLATFORM_LABELS, Config
from watcher.findings import FindingInput, list_findings, record, set_status
from watcher.store import Store
from watcher.watch.workdays import filing_window

# How long before a change a filing still counts as "for this change" under "after" rules.
EARLY_FILING = timedelta(days=30)


def check_filings(cfg: Config, store: Store, today: date | None = None) -> dict[str, int]:
    today = today or date.today()
    rule = cfg.watch.filing_deadline
    counts = {"filed": 0, "unfiled": 0, "waiting": 0}
    for f in list_findings(store, kind="profile_change", status="open", limit=10_000):
        d = f["details"]
        reg = registry.find_account(store, f["platform"], f["account_id"])
        if reg is None or not d.get("changed_on"):
            continue
        changed = date.fromisoformat(d["changed_on"])
        _, latest = filing_window(changed, rule)
        earliest = changed - (timedelta(days=90) if rule.mode == "working_days_before" else EARLY_FILING)
        filed = [x for x in registry.filings_for(store, reg["id"])
                 if x["kind"] == "change" and x["field"] == d.get("field")
                 and earliest <= date.fromisoformat(x["filed_date"]) <= latest]
        if filed:
            set_status(store, f["id"], "resolved", actor="system", action="已按时变更备案",
                       comment=f"备案日期 {filed[-1]['filed_date']}")
            counts["filed"] += 1
            continue
        if today <= latest:
            counts["waiting"] += 1
            continue
        label = PLATFORM_LABELS.get(f["platform"], f["platform"])
        counts["unfiled"] += record(store, FindingInput(
            kind="unfiled_change", dedupe_key=f"unfiled:{f['dedupe_key']}",
            title=f"{label}账号「{f['account_name']}」{d.get('label', d.get('field'))}变更未按时备案",
            severity="warning", platform=f["platform"], account_id=f["account_id"], account_name=f["account_name"],
            unit=reg["unit"],
            details={"field": d.get("field"), "old": d.get("old"), "new": d.get("new"), "changed_on": d["changed_on"],
                     "deadline": latest.isoformat(), "rule": f"{rule.mode}:{rule.days}", "change_finding": f["id"],
                     "reasons": [f"{d['changed_on']} 发现{d.get('label', '')}变更，应于 {latest.isoformat()} 前完成变更备案，"
                                 f"至 {today.isoformat()} 仍无备案记录"]})).created
    return counts


def check_dormant(cfg: Config, store: Store, today: date | None = None) -> int:
    """Registered accounts with no post for ``watch.dormant_days`` (listed for the annual review)."""
    today = today or date.today()
    made = 0
    for reg in registry.active_accounts(store):
        last = store.scalar("SELECT MAX(created_at) FROM posts WHERE platform = ? AND account_id = ?",
                            [reg["platform"], reg["account_id"]])
        if not last:
            continue  # never crawled (or no dated posts): no evidence either way
        idle = (today - date.fromisoformat(last[:10])).days
        if idle < cfg.watch.dormant_days:
            continue
        made += record(store, FindingInput(
            kind="dormant", dedupe_key=f"dormant:{reg['platform']}:{reg['account_id']}",
            title=f"{PLATFORM_LABELS.get(reg['platform'], reg['platform'])}账号「{reg['account_name']}」超过 {cfg.watch.dormant_days} 天未更新",
            severity="info", platform=reg["platform"], account_id=reg["account_id"], account_name=reg["account_name"],
            unit=reg["unit"],
            details={"last_post": last, "idle_days_at_detection": cfg.watch.dormant_days,
                     "reasons": [f"最近一条帖子发布于 {last[:10]}，超过 {cfg.watch.dormant_days} 天未更新"]})).created
    return made
