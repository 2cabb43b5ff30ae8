"""Evidence for findings: the platform's raw record, its SHA-256, when it was taken, and a PNG
screenshot of the public page (Playwright driving Debian's chromium).

Files live under ``<data_dir>/evidence/<finding id>/``; each has a row in ``evidence``. They are
kept while the finding is open, whatever the retention policy; after it is closed they are
pruned once older than ``watch.evidence_retention_days``.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from loguru import logger

from watcher.config import Config
from watcher.schedule import ScheduledJob
from watcher.store import Store, accounts, dumps, loads, posts, utcnow
from watcher.store import findings as stored_findings
from watcher.store.findings import Finding

CHROMIUM = os.environ.get("CAMPUS_WATCHER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]


def _dir(cfg: Config, finding_id: int) -> Path:
    d = cfg.data_path / "evidence" / str(finding_id)
    d.mkdir(parents=True, exist_ok=True)
    return d


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def keep(cfg: Config, store: Store, finding_id: int, kind: str, data: bytes, suffix: str, *,
         url: str | None = None, content_type: str | None = None) -> dict[str, Any]:
    """Write one evidence file and its row; the row is committed only after the file is on disk."""
    path = _dir(cfg, finding_id) / f"{_stamp()}-{kind}{suffix}"
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_bytes(data)
    os.replace(tmp, path)  # never a half-written evidence file under its final name
    digest = hashlib.sha256(data).hexdigest()
    row = {"finding_id": finding_id, "kind": kind, "url": url, "path": str(path.relative_to(cfg.data_path)),
           "sha256": digest, "content_type": content_type, "captured_at": utcnow()}
    stored_findings.add_evidence(store, row)
    return row


def raw_record(store: Store, finding: Finding) -> dict[str, Any] | None:
    """The platform's own data behind a finding, as stored when it was crawled (JSON-ready: it
    is written into the evidence file as is)."""
    d = finding.details
    if finding.platform is None:
        return None
    if d.get("post_id"):
        row = posts.raw_post(store, finding.platform, d["post_id"])
    elif finding.account_id is None:
        return None
    elif finding.kind in ("profile_change", "account_gone", "unfiled_change"):
        row = accounts.raw_profile(store, finding.platform, finding.account_id)
    else:
        row = accounts.raw_account(store, finding.platform, finding.account_id)
    if row is None:
        return None
    return {**{k: v for k, v in row.items() if k != "raw"}, "platform_record": loads(row.get("raw"), None)}


def screenshot(url: str, *, width: int = 1280, height: int = 800, timeout_ms: int = 30_000) -> bytes:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height}, locale="zh-CN")
            page.goto(url, timeout=timeout_ms, wait_until="load")
            return page.screenshot(full_page=False)
        finally:
            browser.close()


def page_url(finding: Finding) -> str | None:
    d = finding.details
    return d.get("url") or d.get("profile_url")


def capture(cfg: Config, store: Store, finding: Finding, *, shots: bool = True) -> list[dict[str, Any]]:
    rows = []
    record = raw_record(store, finding)
    payload = {"finding": {k: getattr(finding, k) for k in ("id", "kind", "platform", "account_id", "account_name",
                                                            "title", "dedupe_key", "revision", "created_at")},
               "details": finding.details, "record": record, "captured_at": utcnow()}
    rows.append(keep(cfg, store, finding.id, "raw", dumps(payload).encode(), ".json",
                     url=page_url(finding), content_type="application/json"))
    avatar = cfg.data_path / record["avatar_path"] if record and record.get("avatar_path") else None
    if finding.kind == "impersonation" and avatar is not None and avatar.is_file():
        # The suspect's avatar as it was when found: shown beside the school's emblem.
        rows.append(keep(cfg, store, finding.id, "avatar", avatar.read_bytes(), avatar.suffix or ".img",
                         content_type=mimetypes.guess_type(avatar.name)[0] or "image/jpeg"))
    url = page_url(finding)
    if shots and url and (shutil.which(CHROMIUM) or Path(CHROMIUM).exists()):
        try:
            rows.append(keep(cfg, store, finding.id, "screenshot", screenshot(url), ".png", url=url,
                             content_type="image/png"))
        except Exception as e:  # noqa: BLE001 - a page that cannot be shot must not stop evidence keeping
            logger.warning("发现 #{} 截图失败（{}）：{}", finding.id, url, str(e)[:200])
    return rows


def collect(cfg: Config, store: Store, limit: int = 20) -> int:
    """Capture evidence for open findings that have none yet."""
    todo = stored_findings.without_evidence(store, limit, except_kind="crawl_blocked")
    for f in todo:
        capture(cfg, store, f, shots=cfg.watch.screenshots)
    return len(todo)


def prune(cfg: Config, store: Store, now: datetime | None = None) -> int:
    """Delete evidence of closed findings older than the retention period; open ones are kept."""
    now = now or datetime.now(UTC)
    cutoff = (now - timedelta(days=cfg.watch.evidence_retention_days)).isoformat()
    rows = stored_findings.closed_evidence_before(store, cutoff)
    for r in rows:
        (cfg.data_path / r.path).unlink(missing_ok=True)
        stored_findings.delete_evidence(store, r.id)
    return len(rows)


def _evidence(cfg: Config) -> None:
    with Store.open(cfg.db_path) as store:
        collect(cfg, store)
        prune(cfg, store)


def scheduled_jobs(cfg: Config) -> list[ScheduledJob]:
    return [ScheduledJob(id="evidence", func=_evidence, seconds=cfg.schedule.evidence_every, description="证据留存与清理")]
