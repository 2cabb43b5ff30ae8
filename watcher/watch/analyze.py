"""After a complete timeline crawl: what changed since the previous complete one.

* profile changes (name, avatar, bio, verification) → ``profile_change``; whether they were filed
  in time is :mod:`watcher.watch.filings`' question;
* a post whose text changed → ``edit`` with old and new text and a diff;
* a post that was in the previous crawl's window and is not in this one → checked directly on the
  platform; only the platform's own "it is gone" makes it a ``deletion`` (a post pushed to the
  next page, a login wall or an error never does);
* the platform says the account no longer exists → ``account_gone``.

Only runs that finished ``ok`` are compared: a blocked or partial run proves nothing by absence.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Callable
from datetime import date
from typing import Any

from loguru import logger

from spiders import catalog
from watcher import registry
from watcher.config import PLATFORM_LABELS, Config
from watcher.findings import FindingInput, record
from watcher.periods import active_periods
from watcher.store import Store, utcnow

PROFILE_FIELDS: dict[str, tuple[str, str]] = {
    # snapshot column → (registry filing field, label)
    "name": ("account_name", "名称"),
    "avatar_url": ("avatar", "头像"),
    "bio": ("bio", "简介"),
    "verified": ("verified", "认证状态"),
}

Checker = Callable[[Config, str, str, str], bool | None]


def no_check(cfg: Config, platform: str, account_id: str, post_id: str) -> bool | None:
    """The default: no answer. The round engine checks missing posts itself and calls the
    analysis again with the platform's answers (:mod:`watcher.rounds.analysis`)."""
    return None


def text_diff(old: str, new: str) -> str:
    return "\n".join(difflib.unified_diff((old or "").splitlines(), (new or "").splitlines(),
                                          "修改前", "修改后", lineterm="", n=1))


def _label(platform: str) -> str:
    return PLATFORM_LABELS.get(platform, platform)


def analyse_timeline(cfg: Config, store: Store, run_id: int, *, today: date | None = None,
                     checker: Checker = no_check) -> dict[str, int]:
    run = store.one("SELECT * FROM crawl_runs WHERE id = ?", [run_id])
    if run is None or run["status"] not in ("ok", "gone") or run["mode"] != "timeline":
        return {}
    platform, account = run["platform"], run["target"]
    today = today or date.today()
    reg = registry.find_account(store, platform, account)
    unit = reg["unit"] if reg else None
    counts = {"profile_change": 0, "edit": 0, "deletion": 0, "account_gone": 0}
    current = store.one("SELECT * FROM profile_snapshots WHERE crawl_run_id = ? ORDER BY id DESC LIMIT 1", [run_id])
    previous_run = store.one(
        """SELECT id FROM crawl_runs WHERE platform = ? AND target = ? AND mode = 'timeline' AND status = 'ok' AND id < ?
           ORDER BY id DESC LIMIT 1""", [platform, account, run_id])
    previous = store.one("SELECT * FROM profile_snapshots WHERE crawl_run_id = ? ORDER BY id DESC LIMIT 1",
                         [previous_run["id"]]) if previous_run else None
    name = (current or {}).get("name") or (reg or {}).get("account_name") or account

    if current and current["status"] == "gone":
        counts["account_gone"] += record(store, FindingInput(
            kind="account_gone", dedupe_key=f"account_gone:{platform}:{account}",
            title=f"{_label(platform)}账号「{name}」已无法访问（删除、封禁或注销）",
            severity="critical" if reg and reg["tier"] == 1 else "warning",
            platform=platform, account_id=account, account_name=name, unit=unit,
            details={"reasons": ["平台返回账号不存在"], "since": today.isoformat()}, crawl_run_id=run_id)).created
        return counts

    if current and previous and previous["status"] == "ok":
        for col, (field, label) in PROFILE_FIELDS.items():
            old, new = previous[col], current[col]
            if (old or None) == (new or None):
                continue
            digest = hashlib.sha256(str(new).encode()).hexdigest()[:12]
            counts["profile_change"] += record(store, FindingInput(
                kind="profile_change", dedupe_key=f"profile_change:{platform}:{account}:{field}:{digest}",
                title=f"{_label(platform)}账号「{previous['name'] or name}」{label}变更",
                severity="warning", platform=platform, account_id=account, account_name=current["name"] or name,
                unit=unit, crawl_run_id=run_id,
                details={"field": field, "label": label, "old": old, "new": new, "changed_on": today.isoformat(),
                         "registered": reg is not None,
                         "reasons": [f"{label}由「{old}」变为「{new}」"]})).created

    counts["edit"] += _edits(store, run, unit, name)
    if previous_run:
        counts["deletion"] += _deletions(cfg, store, run, previous_run["id"], unit, name, checker)
    return counts


def _edits(store: Store, run: dict[str, Any], unit: str | None, name: str) -> int:
    made = 0
    rows = store.query(
        """SELECT p.post_id, p.text, p.url, p.created_at FROM posts p
           WHERE p.platform = ? AND p.account_id = ? AND p.last_crawl_run_id = ?
           AND (SELECT COUNT(*) FROM post_versions v WHERE v.platform = p.platform AND v.post_id = p.post_id) > 1""",
        [run["platform"], run["target"], run["id"]])
    for p in rows:
        versions = store.query("SELECT text, text_sha256, seen_at FROM post_versions WHERE platform = ? AND post_id = ? ORDER BY id",
                               [run["platform"], p["post_id"]])
        old, new = versions[-2], versions[-1]
        if new["seen_at"] < run["started_at"]:
            continue  # the last change was seen by an earlier run and already reported
        made += record(store, FindingInput(
            kind="edit", dedupe_key=f"edit:{run['platform']}:{p['post_id']}:{new['text_sha256'][:12]}",
            title=f"{_label(run['platform'])}账号「{name}」的帖子被修改", severity="warning",
            platform=run["platform"], account_id=run["target"], account_name=name, unit=unit, crawl_run_id=run["id"],
            details={"post_id": p["post_id"], "url": p["url"], "old_text": old["text"], "new_text": new["text"],
                     "diff": text_diff(old["text"], new["text"]), "created_at": p["created_at"],
                     "reasons": ["帖子正文与上次采集不同"]})).created
    return made


def _deletions(cfg: Config, store: Store, run: dict[str, Any], previous_run_id: int, unit: str | None, name: str,
               checker: Checker) -> int:
    # In the previous complete crawl's window, missing from this one: deleted, or only pushed
    # further down the timeline. Only the platform can tell which.
    missing = store.query(
        """SELECT * FROM posts WHERE platform = ? AND account_id = ? AND status = 'live'
           AND last_crawl_run_id = ?""", [run["platform"], run["target"], previous_run_id])
    made = 0
    in_period = any(p.covers(run["platform"]) for p in active_periods(cfg, store))
    # Some pages need what the post's URL carries (a website's address, Xiaohongshu's xsec_token).
    check_by_url = catalog.get(run["platform"]).check_by == "url"
    for p in missing:
        by_url = check_by_url and p["url"]
        exists = checker(cfg, run["platform"], run["target"], p["url"] if by_url else p["post_id"])
        if exists is None:
            logger.warning("无法确认帖子 {} 是否被删除（核查未成功），暂不判定", p["post_id"])
            continue
        if exists:
            continue  # still there: it only fell out of the crawled pages
        with store.transaction():
            store.conn.execute("UPDATE posts SET status = 'deleted', last_seen = ? WHERE platform = ? AND post_id = ?",
                               [p["last_seen"], run["platform"], p["post_id"]])
            made += record(store, FindingInput(
                kind="deletion", dedupe_key=f"deletion:{run['platform']}:{p['post_id']}",
                title=f"{_label(run['platform'])}账号「{name}」删除了帖子", severity="critical" if in_period else "warning",
                platform=run["platform"], account_id=run["target"], account_name=name, unit=unit, crawl_run_id=run["id"],
                details={"post_id": p["post_id"], "url": p["url"], "text": p["text"], "created_at": p["created_at"],
                         "last_seen": p["last_seen"], "confirmed_at": utcnow(), "in_sensitive_period": in_period,
                         "reasons": ["帖子已不在时间线中，且直接访问确认已被删除"]})).created
    return made
