"""After a complete timeline crawl: what changed, reported once, never lost.

* profile changes (name, avatar, bio, verification) against the last *analysed* snapshot →
  ``profile_change``; avatars are compared by image (:mod:`watcher.watch.avatars`), metrics never;
  whether a change was filed in time is :mod:`watcher.watch.filings`' question;
* a post whose current text differs from its last *reported* version, whichever run stored it
  (a run killed before its analysis loses nothing) → ``edit`` with old and new text and a diff;
* a stored post inside the window this crawl covered but not in it → ``pending`` (待核实), kept
  across runs and restarts; :func:`confirm_pending` asks the platform about due pending posts
  and only the platform's own "it is gone" makes a ``deletion`` (with its time bounds and its
  cause: 作者删除, 平台删除或屏蔽, or 未知 when the platform does not say who); a post the platform
  says is private, restricted or under review still exists: it is ``hidden`` (a ``post_hidden``
  finding, never a deletion) and asked about again later; a check that says nothing (wall,
  error, cut short) is retried later with back-off; a post pushed to a later page is outside the
  window and never pending;
* the platform says the account no longer exists → ``account_gone``.

Only runs that finished ``ok`` are analysed: a blocked or partial run proves nothing by absence.

The round engine calls, per account: :func:`analyse_timeline` (or :func:`analyse_account`),
then, unless the platform is cooling down, :func:`confirm_pending` with the round's checker on
the :func:`due_pending` posts.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from loguru import logger

from spiders import catalog
from spiders.items import DELETION_CAUSES, GONE_CAUSES, PostCheck
from watcher import cleaning, findings, registry, timefmt
from watcher.compliance.posts import check_account as check_compliance
from watcher.config import PLATFORM_LABELS, Config
from watcher.crawling.avatars import client as avatar_client
from watcher.crawling.avatars import fetch_by_content
from watcher.crawling.discovery import judge_unjudged
from watcher.periods import active_periods, local_tz
from watcher.store import Store, accounts, posts, rounds
from watcher.store.accounts import Snapshot
from watcher.store.findings import record
from watcher.store.posts import TimelinePost
from watcher.timefmt import parse_stored
from watcher.watch import avatars

# What a post that still exists but readers cannot see may be: never a deletion.
HIDDEN_CAUSES = ("restricted", "under_review")

PROFILE_FIELDS: dict[str, tuple[str, str]] = {
    # snapshot column → (registry filing field, label)
    "name": ("account_name", "名称"),
    "avatar_url": ("avatar", "头像"),
    "bio": ("bio", "简介"),
    "verified": ("verified", "认证状态"),
    "verified_reason": ("verified", "认证说明"),
}

# What a check of one post answered: True exists / False gone / None no conclusion, or the
# spider's PostCheck itself (which also says why a gone post is gone).
Answer = bool | None | PostCheck
# (platform, account_id, post id or URL) → the answer
Checker = Callable[[str, str, str], Answer]
# avatar URL → a local copy of the image, or None when it cannot be fetched
AvatarFetcher = Callable[[str], Path | None]

CHECK_BACKOFF_FIRST = timedelta(minutes=15)
CHECK_BACKOFF_MAX = timedelta(hours=12)
# A post the platform says still exists although the timeline no longer shows it (hidden from
# the list, pinned elsewhere): not asked about again before this.
RECHECK_PRESENT_AFTER = timedelta(hours=24)
# A post the platform says is private, restricted or under review: asked again after this
# (doubling while it stays hidden, up to RECHECK_HIDDEN_MAX) — it may come back, or be deleted.
RECHECK_HIDDEN_AFTER = timedelta(hours=24)
RECHECK_HIDDEN_MAX = timedelta(days=7)
CONFIRM_LIMIT = 20
# Consecutive unanswered checks after which the rest wait for the next round (a wall answers
# every check the same way; asking more only prolongs it).
GIVE_UP_AFTER_UNKNOWN = 2


def default_avatar_fetcher(cfg: Config) -> AvatarFetcher:
    """Downloads avatars when ``matching.download_avatars`` allows it; otherwise fetches nothing
    (avatars are then compared by their normalised URL)."""
    if not cfg.matching.download_avatars:
        return lambda url: None

    def fetch(url: str) -> Path | None:
        with avatar_client(cfg) as client:  # platform image hosts only, bounded (watcher.fetchguard)
            return fetch_by_content(cfg, url, client)

    return fetch


def text_diff(old: str, new: str) -> str:
    return "\n".join(difflib.unified_diff((old or "").splitlines(), (new or "").splitlines(),
                                          "修改前", "修改后", lineterm="", n=1))


def _label(platform: str) -> str:
    return PLATFORM_LABELS.get(platform, platform)


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).replace(microsecond=0).isoformat()


def _local(iso: str | None) -> str:
    """A stored UTC time as people read it (the configured zone)."""
    if not iso:
        return "未知"
    t = datetime.fromisoformat(iso)
    return (t if t.tzinfo else t.replace(tzinfo=UTC)).astimezone(local_tz()).strftime("%Y-%m-%d %H:%M")


@dataclass
class _Account:
    platform: str
    account_id: str
    name: str
    unit: str | None
    tier: int | None


def _account(store: Store, platform: str, account_id: str) -> _Account:
    reg = registry.find_account(store, platform, account_id)
    name = accounts.latest_name(store, platform, account_id) or (reg.account_name if reg else None) or account_id
    return _Account(platform, account_id, name, reg.unit if reg else None, reg.tier if reg else None)


# -- one analysed run -----------------------------------------------------------------------------


def analyse_timeline(cfg: Config, store: Store, run_id: int, *, today: date | None = None,
                     checker: Checker | None = None, now: datetime | None = None,
                     fetch_avatar: AvatarFetcher | None = None) -> dict[str, int]:
    """Analyse one ``ok`` (or ``gone``) timeline run of one account (``crawl_runs.target``). With a
    ``checker``, the account's due pending posts are then confirmed through it."""
    run = rounds.get_run(store, run_id)
    if run is None or run.status not in ("ok", "gone") or run.mode != "timeline" or run.target is None:
        return {}
    return analyse_account(cfg, store, run.platform, run.target, run_id, today=today, checker=checker,
                           now=now, fetch_avatar=fetch_avatar)


def analyse_account(cfg: Config, store: Store, platform: str, account_id: str, run_id: int, *,
                    today: date | None = None, checker: Checker | None = None,
                    now: datetime | None = None, fetch_avatar: AvatarFetcher | None = None) -> dict[str, int]:
    """Analyse what run ``run_id`` stored for one account, whose timeline that run crawled
    completely (the caller knows: only a complete crawl may conclude anything from absence)."""
    now = now or datetime.now(UTC)
    today = today or now.astimezone(local_tz()).date()
    acc = _account(store, platform, account_id)
    counts = {"profile_change": 0, "edit": 0, "pending": 0, "deletion": 0, "account_gone": 0}
    current = accounts.snapshot_of_run(store, run_id, platform, account_id)

    if current and current.status == "gone":
        counts["account_gone"] += record(store, findings.account_gone(
            acc.platform, acc.account_id, acc.name, acc.unit, tier=acc.tier, since=today.isoformat(),
            run_id=run_id)).created
        accounts.mark_analysed(store, current.id)
        return counts

    if current:
        counts["profile_change"] += _profile_changes(cfg, store, run_id, current, acc, today,
                                                     fetch_avatar or default_avatar_fetcher(cfg))
    counts["edit"] += _report_edits(store, acc, run_id)
    counts["compliance"] = check_compliance(cfg, store, platform, account_id, run_id, now=now)  # 错敏, #31
    counts["pending"] += mark_missing(store, platform, account_id, run_id, now)
    if checker is not None:
        done = confirm_pending(cfg, store, platform, account_id, checker, now=now)
        counts["deletion"] += done.get("deleted", 0)
    return counts


# -- profile --------------------------------------------------------------------------------------


def _avatar_image(store: Store, snap: Snapshot, baseline: Snapshot | None, fetch: AvatarFetcher) -> Snapshot:
    """Give the snapshot its avatar's pHash and local copy: the baseline's when the URL names
    the same upload (no download), else a fresh download when possible."""
    url = snap.avatar_url
    if not url or snap.avatar_phash:
        return snap
    path: str | None = None
    digest: str | None = None
    if baseline and baseline.avatar_phash and avatars.avatar_key(baseline.avatar_url) == avatars.avatar_key(url):
        path, digest = baseline.avatar_path, baseline.avatar_phash
    else:
        try:
            local = fetch(url)
        except Exception:  # noqa: BLE001 - an avatar that cannot be fetched is compared by its URL
            logger.exception("下载头像 {} 时出错", url)
            local = None
        if local is not None:
            digest = avatars.phash(local)
            path = str(local)
    if digest:
        accounts.set_avatar_image(store, snap.id, digest, path)
    return replace(snap, avatar_phash=digest, avatar_path=path)


def _profile_changes(cfg: Config, store: Store, run_id: int, current: Snapshot, acc: _Account, today: date,
                     fetch: AvatarFetcher) -> int:
    if current.analysed_at:
        return 0  # analysed already (analysis may be asked twice for one run): nothing new
    baseline = accounts.analysed_before(store, acc.platform, acc.account_id, current.id)
    current = _avatar_image(store, current, baseline, fetch)
    made = 0
    if baseline is not None:
        for col, (field, label) in PROFILE_FIELDS.items():
            change = _avatar_change(baseline, current) if col == "avatar_url" else _field_change(baseline, current, col)
            if change is None:
                continue
            identity, reasons, extra = change
            digest = hashlib.sha256(identity.encode()).hexdigest()[:12]
            old, new = getattr(baseline, col), getattr(current, col)
            made += record(store, findings.profile_change(
                acc.platform, acc.account_id, old_name=baseline.name or acc.name,
                new_name=current.name or acc.name, unit=acc.unit, column=col, identity_digest=digest,
                field=field, label=label, old=old, new=new, changed_on=today.isoformat(), reasons=reasons,
                extra=extra, run_id=run_id)).created
    accounts.mark_analysed(store, current.id)
    return made


def _as_cleaned(col: str, value: Any) -> Any:
    """A stored text as the cleaning edge writes it today: a snapshot stored before that edge
    existed (a name not in NFC, with a control character, longer than the cap) must not read as a
    change the first time the same name comes back cleaned."""
    if isinstance(value, str) and col in cleaning.LIMITS:
        return cleaning.clean_text(value, cleaning.LIMITS[col], keep_lines=col in cleaning.MULTI_LINE)[0]
    return value


def _field_change(old: Snapshot, new: Snapshot, col: str) -> tuple[str, list[str], dict[str, Any]] | None:
    a, b = _as_cleaned(col, getattr(old, col)), _as_cleaned(col, getattr(new, col))
    if b is None:
        return None  # the platform did not say this time: no conclusion
    if (a if a != "" else None) == (b if b != "" else None):
        return None
    label = PROFILE_FIELDS[col][1]
    if col == "verified":
        words = {1: "已认证", 0: "未认证", None: "未知"}
        return str(b), [f"{label}由「{words.get(a, a)}」变为「{words.get(b, b)}」"], {}
    return str(b), [f"{label}由「{a or '（空）'}」变为「{b or '（空）'}」"], {}


def _avatar_change(old: Snapshot, new: Snapshot) -> tuple[str, list[str], dict[str, Any]] | None:
    is_changed, how = avatars.changed(old.avatar_url, old.avatar_phash, new.avatar_url, new.avatar_phash)
    if not is_changed:
        return None
    identity = new.avatar_phash or avatars.avatar_key(new.avatar_url) or ""
    images = {"old_image": old.avatar_path, "new_image": new.avatar_path,
              "old_phash": old.avatar_phash, "new_phash": new.avatar_phash, "compared_by": how}
    reason = (f"头像图片已更换（{how}）：原头像 {old.avatar_url or '（无）'}"
              f"{'（存档 ' + old.avatar_path + '）' if old.avatar_path else ''}；"
              f"新头像 {new.avatar_url or '（无）'}"
              f"{'（存档 ' + new.avatar_path + '）' if new.avatar_path else ''}")
    return identity, [reason], images


# -- edits ----------------------------------------------------------------------------------------


def _report_edits(store: Store, acc: _Account, run_id: int | None = None) -> int:
    """Every post of the account whose current text was never analysed is compared with its
    last analysed version; the current version then becomes the baseline."""
    rows = posts.unreported_versions(store, acc.platform, acc.account_id)
    made = 0
    for p in rows:
        base = posts.last_reported_version(store, acc.platform, p.post_id)
        with store.transaction():
            if base is not None and base.text_sha256 != p.text_sha256:
                made += record(store, findings.edit(
                    acc.platform, acc.account_id, acc.name, acc.unit, post_id=p.post_id,
                    text_sha256=p.text_sha256, url=p.url, old_text=base.text, new_text=p.text,
                    diff=text_diff(base.text, p.text), created_at=p.created_at, run_id=run_id)).created
            # microseconds: the order of analyses, even two in one second
            posts.mark_version_reported(store, p.version_id, datetime.now(UTC).isoformat())
    return made


# -- missing posts: pending until the platform says ----------------------------------------------




def _window_start(store: Store, platform: str, account_id: str, run_id: int) -> datetime | None:
    """The oldest moment this run's pages covered: the date of the last post in feed order (not
    the oldest date seen — a pinned post is old and on top)."""
    return parse_stored(posts.last_created_in_run(store, run_id, platform, account_id))


def mark_missing(store: Store, platform: str, account_id: str, run_id: int, now: datetime | None = None) -> int:
    """Posts this complete crawl did not see become ``pending``; returns how many did now.

    Whichever earlier run stored them, two kinds are missing: a post inside this run's window
    (newer than the last post of its feed) — the timeline should have shown it; and a post that
    has left the window since it was last seen and was not asked about since — deleted and
    pushed to a later page look the same from here, so the platform is asked once.
    """
    now = now or datetime.now(UTC)
    can_check = catalog.get(platform).supports("check")
    candidates = posts.live_not_seen_by(store, platform, account_id, run_id)
    start = _window_start(store, platform, account_id, run_id)
    missing = []
    for c in candidates:
        created = parse_stored(c.created_at)
        in_window = start is not None and created is not None and created >= start
        left_unasked = can_check and (c.present_checked_at is None or c.present_checked_at < c.last_seen)
        if in_window or left_unasked:
            missing.append(c)
    posts.mark_pending(store, platform, [c.post_id for c in missing], _iso(now))
    if missing:
        logger.info("{} {}：{} 条帖子不在本次时间线中，待核实", platform, account_id, len(missing))
    return len(missing)


def due_pending(store: Store, platform: str, account_id: str, now: datetime | None = None,
                limit: int | None = None) -> list[TimelinePost]:
    """Pending posts of one account whose next check is due, oldest-missing first."""
    now = now or datetime.now(UTC)
    return posts.due_pending(store, platform, account_id, _iso(now), limit)


def confirm_pending(cfg: Config, store: Store, platform: str, account_id: str, checker: Checker, *,
                    now: datetime | None = None, limit: int = CONFIRM_LIMIT,
                    give_up_after: int | None = GIVE_UP_AFTER_UNKNOWN) -> dict[str, int]:
    """Ask the platform, through ``checker``, about the account's due pending posts (at most
    ``limit``): gone → ``deletion`` finding; still there → live; no answer → retried later.
    ``give_up_after`` unanswered checks in a row end the loop (None: a checker that only looks
    up answers already obtained asks nobody, so it never needs to stop)."""
    now = now or datetime.now(UTC)
    counts = {"deleted": 0, "present": 0, "unknown": 0, "hidden": 0}
    # Some pages need what the post's URL carries (a website's address, Xiaohongshu's xsec_token).
    by_url = catalog.get(platform).check_by == "url"
    acc = _account(store, platform, account_id)
    unknown_in_a_row = 0
    for p in due_pending(store, platform, account_id, now, limit):
        try:
            answer = checker(platform, account_id, p.url if by_url and p.url else p.post_id)
        except Exception:  # noqa: BLE001 - a broken check proves nothing; the post stays pending
            logger.exception("核查帖子 {} 时出错", p.post_id)
            answer = None
        outcome = conclude(cfg, store, acc, p, answer, now)
        counts[outcome] = counts.get(outcome, 0) + 1
        if outcome != "unknown":
            unknown_in_a_row = 0
            continue
        unknown_in_a_row += 1
        if give_up_after is not None and unknown_in_a_row >= give_up_after:
            break
    return counts


def _said(answer: Answer) -> tuple[bool | None, str | None, str | None]:
    """(exists, cause, what the platform said) of an answer; a bare False is gone, cause unknown."""
    if isinstance(answer, PostCheck):
        return answer.exists, answer.cause, answer.reason
    if answer is False:
        return False, "unknown", None
    return answer, None, None


def conclude(cfg: Config, store: Store, acc: _Account, p: TimelinePost, answer: Answer, now: datetime) -> str:
    """What one answer about a pending (or hidden) post means: ``present`` (live again),
    ``deleted`` (作者删除 / 平台删除或屏蔽, or gone for a reason the platform does not say: a
    ``deletion``), ``hidden`` (仅自己可见或受限 / 审核中: the post exists — never a deletion),
    ``unknown`` (no conclusion: retried later with back-off)."""
    exists, cause, said = _said(answer)
    if exists is None:
        _back_off(store, p, now)
        return "unknown"
    if exists:
        _still_there(store, p, now)
        return "present"
    if cause in HIDDEN_CAUSES:
        _hidden(cfg, store, acc, p, now, cause, said)
        return "hidden"
    made = _confirm_deleted(cfg, store, acc, p, now, cause if cause in DELETION_CAUSES else "unknown", said)
    return "deleted" if made else "already_concluded"


def _back_off(store: Store, p: TimelinePost, now: datetime) -> None:
    attempts = (p.check_attempts or 0) + 1
    delay = min(CHECK_BACKOFF_FIRST * 2 ** (attempts - 1), CHECK_BACKOFF_MAX)
    logger.warning("无法确认帖子 {} 是否被删除（核查未得到结论，第 {} 次），{} 后再试", p.post_id, attempts, delay)
    posts.back_off(store, p.platform, p.post_id, attempts=attempts, next_check_at=_iso(now + delay), at=_iso(now),
                   reason="核查未得到结论（登录墙、错误或被中断）")


def _still_there(store: Store, p: TimelinePost, now: datetime) -> None:
    posts.still_there(store, p.platform, p.post_id, at=_iso(now), next_check_at=_iso(now + RECHECK_PRESENT_AFTER))


def _confirm_deleted(cfg: Config, store: Store, acc: _Account, p: TimelinePost, now: datetime,
                     cause: str = "unknown", said: str | None = None) -> int:
    in_period = any(x.covers(acc.platform) for x in active_periods(cfg, store, now))
    confirmed = _iso(now)
    label = GONE_CAUSES.get(cause, GONE_CAUSES["unknown"])
    with store.transaction():
        if not posts.confirm_deleted(store, acc.platform, p.post_id, confirmed, f"平台确认已删除（{label}）"):
            return 0  # reappeared (or confirmed by someone else) while we were asking
        return int(record(store, findings.deletion(
            acc.platform, acc.account_id, acc.name, acc.unit, post=p, confirmed_at=confirmed, in_period=in_period,
            reason=f"帖子最后一次出现在时间线：{_local(p.last_seen)}；首次发现不在时间线：{_local(p.missing_since)}；"
                   f"平台确认已删除：{_local(confirmed)}（{timefmt.zone_label()}）",
            cause=cause, said=said, tier=acc.tier)).created)


def _hidden(cfg: Config, store: Store, acc: _Account, p: TimelinePost, now: datetime, cause: str,
            said: str | None) -> None:
    """The post exists but readers cannot see it (private, restricted, under review): no
    deletion. Its own finding (unless ``watch.hidden_posts`` is ``none``), and asked again later."""
    attempts = (p.check_attempts or 0) + 1 if p.status == "hidden" else 1
    delay = min(RECHECK_HIDDEN_AFTER * 2 ** (attempts - 1), RECHECK_HIDDEN_MAX)
    label = GONE_CAUSES[cause]
    why = f"平台答复帖子不可见（{label}）"
    with store.transaction():
        if not posts.mark_hidden(store, acc.platform, p.post_id, at=_iso(now), next_check_at=_iso(now + delay),
                                 attempts=attempts, reason=why):
            return
        # Reported once per cause: asking again and hearing the same is no news.
        if cfg.watch.hidden_posts == "finding" and not (p.status == "hidden" and p.last_check_reason == why):
            record(store, findings.post_hidden(
                acc.platform, acc.account_id, acc.name, acc.unit, post=p, cause=cause, said=said,
                checked_at=_iso(now),
                reason=f"帖子最后一次出现在时间线：{_local(p.last_seen)}；平台答复{label}：{_local(_iso(now))}"
                       f"（{timefmt.zone_label()}）；帖子仍存在，不是删帖，将于 {_local(_iso(now + delay))} 再次核查"))


def confirm_checked_live(cfg: Config, store: Store, platform: str, account_id: str,
                         answers: dict[str, Answer], now: datetime | None = None) -> dict[str, int]:
    """The answers of direct post checks (the early-life checks of new posts, a ``check``
    round) about the account's posts: a post the platform says is gone or hidden becomes pending
    at once and is concluded like one a timeline missed; a live one notes the check."""
    now = now or datetime.now(UTC)
    acc = _account(store, platform, account_id)
    counts: dict[str, int] = {}
    for post_id, answer in answers.items():
        exists, _cause, _said_text = _said(answer)
        if exists is None:
            continue
        stored = posts.get(store, platform, post_id)
        if stored is None or stored.account_id != account_id or stored.status == "deleted":
            continue
        if exists and stored.status == "live":
            posts.note_live_check(store, platform, post_id, _iso(now))
            counts["present"] = counts.get("present", 0) + 1
            continue
        if stored.status == "live":
            posts.mark_pending(store, platform, [post_id], _iso(now))
            stored = posts.get(store, platform, post_id) or stored
        outcome = conclude(cfg, store, acc, stored, answer, now)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


# -- after a crash ---------------------------------------------------------------------------------


def catch_up(cfg: Config, store: Store) -> dict[str, int]:
    """At daemon start: finish what a crash cut short, without touching the network. Accounts a
    discovery run stored but never judged are judged; the newest timeline run of an account,
    if it finished ``ok`` but was never analysed, is analysed (its missing posts become pending;
    confirming them is the next round's job)."""
    counts = {"judged": 0, "analysed": 0}
    try:
        counts["judged"] = sum(judge_unjudged(cfg, store).values())
    except Exception:  # noqa: BLE001 - the daemon starts anyway; the next discovery judges them
        logger.exception("补做未判定账号的判定时出错")
    for run_id in accounts.unanalysed_timeline_runs(store):
        try:
            analyse_timeline(cfg, store, run_id, fetch_avatar=lambda url: None)
            counts["analysed"] += 1
        except Exception:  # noqa: BLE001 - one broken run must not keep the daemon from starting
            logger.exception("补做采集 #{} 的分析时出错", run_id)
    if counts["judged"] or counts["analysed"]:
        logger.info("补做上次中断的分析：判定账号 {} 个，巡检分析 {} 次", counts["judged"], counts["analysed"])
    return counts
