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
import re
import shutil
import threading
import time
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from loguru import logger

from watcher.cleaning import printable
from watcher.config import Config
from watcher.fetchguard import FetchPolicy, Refused
from watcher.schedule import ScheduledJob
from watcher.store import Store, accounts, dumps, loads, posts, utcnow
from watcher.store import findings as stored_findings
from watcher.store.findings import Finding

CHROMIUM = os.environ.get("CAMPUS_WATCHER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--dns-prefetch-disable",
                 "--force-webrtc-ip-handling-policy=disable_non_proxied_udp"]


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


# Hops of a redirect chain the evidence browser follows, each checked like the first request.
MAX_HOPS = 5
SCREENSHOT_SECONDS = 30.0


class Stopped(Exception):
    """Raised by :func:`screenshot` when the daemon is stopping: no page is shot after that."""


def screenshot(url: str, *, policy: FetchPolicy | None = None, platform: str | None = None,
               stop: threading.Event | None = None, width: int = 1280, height: int = 800,
               seconds: float = SCREENSHOT_SECONDS) -> bytes:
    """A PNG of the page at ``url``, confined by ``policy`` (see :mod:`watcher.fetchguard`):
    the page and everything it loads — each hop of a redirect included — must be a URL the
    policy allows for ``platform``, else that request is never made. Scripts run only where
    the page needs them (the platforms' app pages). :class:`~watcher.fetchguard.Refused` for
    a page that may not be shot, :class:`Stopped` once ``stop`` is set."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    policy = policy or FetchPolicy()
    url = policy.check(url, platform)  # file:, internal addresses … : no browser at all
    if stop is not None and stop.is_set():
        raise Stopped()
    end = time.monotonic() + seconds
    refused: list[str] = []
    hop: dict[str, str | None] = {"next": None}

    def left_ms() -> float:
        return max(1.0, (end - time.monotonic()) * 1000)

    def allowed(target: str) -> bool:
        try:
            policy.check(target, platform)
            return True
        except Refused as e:
            refused.append(f"{target[:200]}：{e}")
            return False

    def route(r: Any) -> None:
        request = r.request
        if (stop is not None and stop.is_set()) or time.monotonic() > end or not allowed(request.url):
            r.abort("blockedbyclient")
            return
        try:
            resp = r.fetch(max_redirects=0, timeout=min(left_ms(), 10_000))
            if request.is_navigation_request() and request.frame.parent_frame is None:
                location = resp.headers.get("location")
                if 300 <= resp.status < 400 and location:
                    # The page's next hop is navigated to as a page of its own (routed here
                    # again); the browser never follows a redirect by itself.
                    hop["next"] = urllib.parse.urljoin(request.url, location)
                    r.fulfill(status=200, content_type="text/html", body="")
                    return
            else:
                for _ in range(MAX_HOPS):
                    location = resp.headers.get("location")
                    if not (300 <= resp.status < 400 and location):
                        break
                    target = urllib.parse.urljoin(request.url, location)
                    if not allowed(target):
                        r.abort("blockedbyclient")
                        return
                    resp = r.fetch(url=target, max_redirects=0, timeout=min(left_ms(), 10_000))
            r.fulfill(response=resp)
        except PlaywrightError:
            r.abort("failed")

    def socket_route(ws: Any) -> None:
        if allowed(ws.url.replace("ws", "http", 1)):
            ws.connect_to_server()
        else:
            ws.close()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN",
                                          java_script_enabled=policy.needs_script(url), service_workers="block",
                                          accept_downloads=False)
            context.route("**/*", route)
            context.route_web_socket(re.compile(".*"), socket_route)
            page = context.new_page()
            target: str | None = url
            for _ in range(MAX_HOPS + 1):
                if stop is not None and stop.is_set():
                    raise Stopped()
                hop["next"] = None
                try:
                    page.goto(target, timeout=left_ms(), wait_until="load")
                except PlaywrightError:
                    if stop is not None and stop.is_set():
                        raise Stopped() from None  # the stop aborted the page's requests
                    raise
                target = hop["next"]
                if target is None:
                    break
                if not allowed(target):
                    raise Refused(refused[-1])
            else:
                raise Refused(f"重定向超过 {MAX_HOPS} 次")
            if stop is not None and stop.is_set():
                raise Stopped()
            if refused:
                logger.info("截图 {} 时拦截了 {} 个请求：{}", printable(url[:200]), len(refused), printable(refused[0]))
            return page.screenshot(full_page=False, timeout=left_ms())
        finally:
            browser.close()


def page_url(finding: Finding) -> str | None:
    d = finding.details
    return d.get("url") or d.get("profile_url")


def capture(cfg: Config, store: Store, finding: Finding, *, shots: bool = True,
            stop: threading.Event | None = None) -> list[dict[str, Any]]:
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
    if shots and isinstance(url, str) and url and (shutil.which(CHROMIUM) or Path(CHROMIUM).exists()):
        try:
            png = screenshot(url, policy=FetchPolicy.from_config(cfg), platform=finding.platform, stop=stop)
            rows.append(keep(cfg, store, finding.id, "screenshot", png, ".png", url=url, content_type="image/png"))
        except Stopped:
            raise
        except Refused as e:
            logger.warning("发现 #{} 的页面不截图（{}）：{}", finding.id, printable(url[:200]), e)
        except Exception as e:  # noqa: BLE001 - a page that cannot be shot must not stop evidence keeping
            logger.warning("发现 #{} 截图失败（{}）：{}", finding.id, printable(url[:200]), printable(str(e))[:200])
    return rows


def collect(cfg: Config, store: Store, limit: int = 20, stop: threading.Event | None = None) -> int:
    """Capture evidence for open findings that have none yet; ends at once when ``stop`` is set
    (the daemon is stopping: no page is shot after it said 已停止)."""
    todo = stored_findings.without_evidence(store, limit, except_kind="crawl_blocked")
    done = 0
    for f in todo:
        if stop is not None and stop.is_set():
            break
        try:
            capture(cfg, store, f, shots=cfg.watch.screenshots, stop=stop)
        except Stopped:
            break
        except Exception as e:  # noqa: BLE001 - one finding's evidence must not stop the others'
            logger.warning("发现 #{} 的证据留存失败，下次重试：{}", f.id, printable(str(e))[:200])
            continue
        done += 1
    return done


def prune(cfg: Config, store: Store, now: datetime | None = None) -> int:
    """Delete evidence of closed findings older than the retention period; open ones are kept."""
    now = now or datetime.now(UTC)
    cutoff = (now - timedelta(days=cfg.watch.evidence_retention_days)).isoformat()
    rows = stored_findings.closed_evidence_before(store, cutoff)
    for r in rows:
        (cfg.data_path / r.path).unlink(missing_ok=True)
        stored_findings.delete_evidence(store, r.id)
    return len(rows)


def _evidence(cfg: Config, stop: threading.Event | None = None) -> None:
    with Store.open(cfg.db_path) as store:
        collect(cfg, store, stop=stop)
        if stop is None or not stop.is_set():
            prune(cfg, store)


def scheduled_jobs(cfg: Config) -> list[ScheduledJob]:
    return [ScheduledJob(id="evidence", func=_evidence, seconds=cfg.schedule.evidence_every, stoppable=True,
                         description="证据留存与清理")]
