"""Were profile changes of registered accounts filed (变更备案) in time?

A detected change is in time when a change filing for the same field exists within the
school's window (see :func:`watcher.watch.workdays.filing_window`); then the change finding is
resolved. Once the window has passed without one, an ``unfiled_change`` finding goes to the
owning unit. Before the deadline nothing is said: the unit still has time.
"""

from __future__ import annotations

from datetime import date, timedelta

from watcher import dormancy, findings, registry
from watcher.config import Config
from watcher.schedule import ScheduledJob
from watcher.store import Store
from watcher.store.findings import list_findings, record, set_status
from watcher.timefmt import local_today
from watcher.watch.workdays import filing_window

# How long before a change a filing still counts as "for this change" under "after" rules.
EARLY_FILING = timedelta(days=30)


def check_filings(cfg: Config, store: Store, today: date | None = None) -> dict[str, int]:
    today = today or local_today()
    rule = cfg.watch.filing_deadline
    counts = {"filed": 0, "unfiled": 0, "waiting": 0}
    for f in list_findings(store, kind="profile_change", status="open", limit=10_000):
        d = f.details
        reg = registry.find_account(store, f.platform, f.account_id)
        if reg is None or not d.get("changed_on"):
            continue
        changed = date.fromisoformat(d["changed_on"])
        _, latest = filing_window(changed, rule)
        earliest = changed - (timedelta(days=90) if rule.mode == "working_days_before" else EARLY_FILING)
        filed = [x for x in registry.filings_for(store, reg.id)
                 if x.kind == "change" and x.field == d.get("field")
                 and earliest <= date.fromisoformat(x.filed_date) <= latest]
        if filed:
            set_status(store, f.id, "resolved", actor="system", action="已按时变更备案",
                       comment=f"备案日期 {filed[-1].filed_date}")
            counts["filed"] += 1
            continue
        if today <= latest:
            counts["waiting"] += 1
            continue
        counts["unfiled"] += record(store, findings.unfiled_change(
            f, reg.unit, deadline=latest.isoformat(), rule=f"{rule.mode}:{rule.days}",
            today=today.isoformat())).created
    return counts


def check_dormant(cfg: Config, store: Store, today: date | None = None) -> int:
    """Registered accounts dormant by :func:`watcher.dormancy.is_dormant` (listed for the annual
    review), days counted in the configured zone as the reports count them."""
    today = today or local_today()
    last_posts = dormancy.last_posts(store, today)
    made = 0
    for reg in registry.active_accounts(store):
        last = last_posts.get((reg.platform, reg.account_id))
        if last is None:
            continue  # never crawled (or no dated posts): no evidence either way
        idle = dormancy.idle_days(last, today)
        if not dormancy.is_dormant(idle, cfg.watch.dormant_days):
            continue
        made += record(store, findings.dormant(
            reg.platform, reg.account_id, reg.account_name, reg.unit, last_post=last.isoformat(),
            last_day=dormancy.local_date(last).isoformat(), idle=idle, days=cfg.watch.dormant_days)).created
    return made


def _deadlines(cfg: Config) -> None:
    with Store.open(cfg.db_path) as store:
        check_filings(cfg, store)
        check_dormant(cfg, store)


def scheduled_jobs(cfg: Config) -> list[ScheduledJob]:
    return [ScheduledJob(id="deadlines", func=_deadlines, seconds=3600, run_at_start=True,
                         description="变更备案时限与僵尸账号")]
