"""Takedown cases: opened by a reviewer's 已向平台举报, closed by the platform's own answer.

* :func:`start` — the report: a case with its deadline (``takedown.overdue_workdays`` working days
  after the local day of the report, by the Chinese holiday calendar);
* :func:`after_check` — a watch round crawled the reported account's profile (the round planning
  adds it, :func:`recheck_targets`): the platform says it is gone → 已下架 (``gone``); it answers
  with a new name the matcher no longer takes for the school → 已下架 (``renamed``); otherwise
  the case stays open with what was seen. Only a complete answer counts: a blocked or failed
  crawl proves nothing and is not even an attempt;
* :func:`sweep` — hourly: a case past its deadline raises one 举报超期未下架 finding (the alert
  goes to the unit's reviewers with a copy to the central unit); a removed account whose finding
  discovery reopened under a new name gets a new case linked to the old one;
* :func:`figures` — per platform and month: reported, removed, median and P90 time to removal,
  still open.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from loguru import logger

from spiders import catalog
from watcher import findings, timefmt
from watcher.config import Config
from watcher.crawling.discovery import matcher_for
from watcher.matching import Candidate
from watcher.schedule import ScheduledJob
from watcher.store import Store, dumps
from watcher.store import accounts as stored_accounts
from watcher.store import cases as stored_cases
from watcher.store import findings as stored_findings
from watcher.store.cases import Case
from watcher.store.findings import Finding
from watcher.store.rounds import CrawlRun
from watcher.watch import evidence
from watcher.watch.workdays import add_workdays

SYSTEM = "campus-watcher"
REPORTABLE = ("impersonation",)


class CaseError(ValueError):
    """A finding that cannot be followed as a case (says why in Chinese)."""


def _utc(iso: str) -> datetime:
    t = datetime.fromisoformat(iso)
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def hours_between(start: str, end: str) -> float:
    return round((_utc(end) - _utc(start)).total_seconds() / 3600, 2)


def duration(hours: float | None) -> str:
    """``50.5`` → ``2 天 2 小时``: what people read of a time to removal."""
    if hours is None:
        return ""
    total = max(0, round(hours))
    days, rest = divmod(total, 24)
    return f"{days} 天 {rest} 小时" if days else f"{rest} 小时"


def deadline_for(cfg: Config, reported_at: str) -> date:
    return add_workdays(timefmt.local_date(reported_at), cfg.takedown.overdue_workdays)


def start(cfg: Config, store: Store, finding: Finding, *, reference: str | None, actor: str,
          now: str | None = None) -> int:
    """Open (or, when reported again, note on) the finding's case; its id."""
    if finding.kind not in REPORTABLE or not finding.platform or not finding.account_id:
        raise CaseError(f"发现 #{finding.id}（{findings.KIND_LABELS.get(finding.kind, finding.kind)}）"
                        "不是可向平台举报的仿冒账号")
    reported_at = now or datetime.now(UTC).replace(microsecond=0).isoformat()
    case_id, _ = stored_cases.open_case(
        store, finding_id=finding.id, platform=finding.platform, account_id=finding.account_id,
        account_name=finding.account_name, unit=finding.unit, reference=reference, actor=actor,
        deadline=deadline_for(cfg, reported_at).isoformat(), reported_at=reported_at)
    return case_id


def report(cfg: Config, store: Store, finding: Finding, *, reference: str, actor: str,
           now: str | None = None) -> int:
    """已向平台举报 from the CLI: the finding's status and audit trail, and its case, together
    (``now``: when it was reported, if not just now)."""
    if finding.kind not in REPORTABLE:
        raise CaseError(f"发现 #{finding.id}（{findings.KIND_LABELS.get(finding.kind, finding.kind)}）"
                        "不是可向平台举报的仿冒账号")
    with store.transaction():
        stored_findings.set_status(store, finding.id, "reported", actor=actor, action="已向平台举报",
                                   reference=reference)
        return start(cfg, store, finding, reference=reference, actor=actor, now=now)


def cases_of(store: Store, finding_id: int) -> list[Case]:
    """A finding's cases, newest first (a comeback after removal is a second case)."""
    return stored_cases.for_finding(store, finding_id)


# -- re-checks -----------------------------------------------------------------------------------


def recheck_targets(store: Store, platform: str) -> list[str]:
    """The reported accounts a watch round of ``platform`` re-checks besides the registered ones."""
    return stored_cases.open_accounts(store, platform)


def is_case_account(store: Store, platform: str, account_id: str) -> bool:
    return account_id in stored_cases.open_accounts(store, platform)


@dataclass
class Verdict:
    removed: bool
    outcome: str | None
    note: str
    name: str | None = None
    reasons: list[str] = field(default_factory=list)


def judge_answer(cfg: Config, store: Store, platform: str, account_id: str, status: str, name: str | None,
                 bio: str | None, avatar: str | None) -> Verdict:
    """What the platform's answer about a reported account means for its case."""
    if status == "gone":
        return Verdict(True, "gone", "平台答复账号不存在（已删除、封禁或注销）")
    shown = (name or "").strip()
    if not shown:  # an answer without a name proves no rename: the case waits for the next round
        return Verdict(False, None, "平台返回了账号资料但没有名称，本轮不作结论")
    result = matcher_for(cfg, store).match(Candidate(platform, account_id, shown, bio or "", avatar))
    if result.verdict != "suspect":
        return Verdict(True, "renamed", f"账号已改名为「{shown}」，按当前名称规则不再是仿冒嫌疑", shown)
    return Verdict(False, None, f"账号仍在，名称「{shown}」（匹配分 {result.score}）", shown, list(result.reasons))


def after_check(cfg: Config, store: Store, run: CrawlRun) -> int:
    """Conclude the open cases of the account a timeline run crawled completely; how many closed."""
    if run.target is None or run.status not in ("ok", "gone"):
        return 0
    stored_cases.withdraw_closed(store)  # a reviewer's 误报 since the report: not concluded from here
    open_cases = stored_cases.open_for_account(store, run.platform, run.target)
    if not open_cases:
        return 0
    snap = stored_accounts.snapshot_of_run(store, run.id, run.platform, run.target)
    if snap is None:
        return 0  # a complete run that stored no profile: nothing the platform said about the account
    # Concluded here, not by the watch of registered accounts: its restart catch-up
    # (watcher.watch.analyze.catch_up) must not take an impersonator's rename for a profile change.
    stored_accounts.mark_analysed(store, snap.id)
    avatar = cfg.data_path / snap.avatar_path if snap.avatar_path else None
    verdict = judge_answer(cfg, store, run.platform, run.target, snap.status, snap.name, snap.bio,
                           str(avatar) if avatar is not None and avatar.is_file() else None)
    closed = 0
    for case in open_cases:
        if not verdict.removed:
            stored_cases.checked(store, case.id, verdict.note, run_id=run.id, at=snap.taken_at)
            continue
        hours = hours_between(case.reported_at, snap.taken_at)
        note = f"{verdict.note}；举报后 {duration(hours)}下架"
        with store.transaction():
            if not stored_cases.close_removed(store, case.id, outcome=verdict.outcome or "gone", name=verdict.name,
                                              removed_at=snap.taken_at, hours=hours, note=note, run_id=run.id):
                continue
            stored_findings.set_status(store, case.finding_id, "resolved", actor=SYSTEM, action="平台已下架",
                                       comment=note)
        closed += 1
        _keep_answer(cfg, store, case, snap.raw, verdict, run)
        logger.info("举报案件 #{}：{}「{}」{}", case.id, catalog.label(case.platform), case.account_name, note)
    return closed


def _keep_answer(cfg: Config, store: Store, case: Case, raw: str | None, verdict: Verdict, run: CrawlRun) -> None:
    """The platform's answer that closed the case, kept as the finding's evidence: the proof that
    the impersonator is gone."""
    try:
        payload = {"case_id": case.id, "platform": case.platform, "account_id": case.account_id,
                   "outcome": verdict.outcome, "note": verdict.note, "crawl_run_id": run.id, "platform_answer": raw}
        evidence.keep(cfg, store, case.finding_id, "removal", dumps(payload).encode(), ".json",
                      content_type="application/json")
    except OSError as e:  # the case is closed either way; the answer is also in the snapshot
        logger.warning("保存案件 #{} 的下架答复失败：{}", case.id, e)


# -- reminders and reappearances ------------------------------------------------------------------


def remind(cfg: Config, store: Store, today: date | None = None) -> list[int]:
    """One 举报超期未下架 finding per open case past its deadline; the case ids reminded."""
    today = today or datetime.now(UTC).astimezone(timefmt.zone()).date()
    done = []
    for case in stored_cases.due_reminders(store, today.isoformat()):
        with store.transaction():
            if not stored_cases.mark_reminded(store, case.id, f"超过 {cfg.takedown.overdue_workdays} 个工作日未下架，"
                                                              "已提醒复核员并抄送宣传部"):
                continue
            stored_findings.record(store, findings.takedown_overdue(
                case_id=case.id, finding_id=case.finding_id, platform=case.platform, account_id=case.account_id,
                account_name=case.account_name, unit=case.unit, reported_on=timefmt.local_time(case.reported_at),
                deadline=case.deadline, workdays=cfg.takedown.overdue_workdays, reference=case.reference))
        done.append(case.id)
    return done


def reopen_reappeared(cfg: Config, store: Store) -> list[int]:
    """New cases for removed accounts that are back under a new name (discovery reopened their
    finding); each points at the case it follows."""
    made = []
    for row in stored_cases.reappeared(store):
        old = stored_cases.get(store, row["case_id"])
        f = stored_findings.get(store, row["finding_id"])
        if old is None or f is None:
            continue
        with store.transaction():
            case_id, created = stored_cases.open_case(
                store, finding_id=f.id, platform=old.platform, account_id=old.account_id,
                account_name=row["account_name"], unit=f.unit, reference=None, actor=SYSTEM,
                deadline=deadline_for(cfg, row["updated_at"]).isoformat(), reported_at=row["updated_at"],
                previous_id=old.id)
            if created:
                stored_findings.set_status(store, f.id, "reported", actor=SYSTEM, action="案件重新打开",
                                           comment=f"该账号曾于案件 #{old.id} 下架，现以「{row['account_name']}」再次出现；"
                                                   "请重新向平台举报")
        made.append(case_id)
    return made


def sweep(cfg: Config, store: Store, today: date | None = None) -> dict[str, list[int]]:
    """The hourly work: cases of findings a reviewer closed otherwise are withdrawn, overdue ones
    reminded once, comebacks reopened."""
    return {"withdrawn": stored_cases.withdraw_closed(store), "reminded": remind(cfg, store, today),
            "reopened": reopen_reappeared(cfg, store)}


def _job(cfg: Config) -> None:
    with Store.open(cfg.db_path) as store:
        done = sweep(cfg, store)
    if done["reminded"] or done["reopened"]:
        logger.info("举报跟踪：超期提醒 {} 件，重新打开 {} 件", len(done["reminded"]), len(done["reopened"]))


def scheduled_jobs(cfg: Config) -> list[ScheduledJob]:
    return [ScheduledJob(id="takedown", func=_job, seconds=3600, run_at_start=True, description="举报超期提醒与复现检查")]


# -- figures -------------------------------------------------------------------------------------


def p90(values: list[float]) -> float | None:
    """The 90th percentile by nearest rank (a value that occurred: with 3 cases, the slowest)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


@dataclass
class Row:
    platform: str
    month: str
    reported: int = 0
    removed: int = 0
    still_open: int = 0
    hours: list[float] = field(default_factory=list)

    @property
    def label(self) -> str:
        return catalog.label(self.platform) if self.platform != "*" else "合计"

    @property
    def median(self) -> float | None:
        return statistics.median(self.hours) if self.hours else None

    @property
    def p90(self) -> float | None:
        return p90(self.hours)

    def as_dict(self) -> dict[str, Any]:
        return {"platform": self.platform, "platform_label": self.label, "month": self.month,
                "reported": self.reported, "removed": self.removed, "still_open": self.still_open,
                "median_hours": self.median, "p90_hours": self.p90}


def figures(store: Store, *, unit: str | None = None, year: int | None = None) -> list[Row]:
    """Per platform and local month: cases reported that month, cases removed that month (their
    time to removal gives the median and P90), and of that month's reports how many are still
    open. A last row per month ("*") sums the platforms."""
    rows: dict[tuple[str, str], Row] = {}

    def at(platform: str, when: str) -> Row:
        month = timefmt.local_date(when).strftime("%Y-%m")
        return rows.setdefault((month, platform), Row(platform, month))

    for r in stored_cases.figures_rows(store, unit=unit):
        for key in (r["platform"], "*"):
            rep = at(key, r["reported_at"])
            rep.reported += 1
            rep.still_open += r["status"] == "open"
            if r["status"] == "removed" and r["removed_at"]:
                rem = at(key, r["removed_at"])
                rem.removed += 1
                rem.hours.append(float(r["hours_to_removal"] or 0))
    out = sorted(rows.values(), key=lambda x: (x.month, x.platform == "*", catalog.names().index(x.platform)
                                               if x.platform in catalog.names() else 99))
    if year is not None:
        out = [x for x in out if x.month.startswith(f"{year}-")]
    return out


def totals(rows: list[Row]) -> Row:
    """All months of ``rows`` summed (their "*" rows)."""
    t = Row("*", "")
    for x in rows:
        if x.platform == "*":
            t.reported += x.reported
            t.removed += x.removed
            t.still_open += x.still_open
            t.hours += x.hours
    return t
