import hashlib
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from tests.fakeplatform import FakePlatform
from watcher.store.findings import FindingInput, get, record, set_status
from watcher.watch import evidence

CHROMIUM = Path(evidence.CHROMIUM)
needs_browser = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium (/usr/bin/chromium) not installed")


def _finding(store, url):
    store.db["accounts"].insert({"platform": "weibo", "account_id": "77", "name": "北理工表白墙", "bio": "树洞",
                                 "first_seen": "t", "last_seen": "t", "raw": '{"id": 77, "screen_name": "北理工表白墙"}'})
    rec = record(store, FindingInput(kind="impersonation", dedupe_key="impersonation:weibo:77", title="疑似仿冒",
                                     platform="weibo", account_id="77", account_name="北理工表白墙",
                                     details={"reasons": ["名称含本校简称"], "profile_url": url}))
    f = get(store, rec.id)
    return f


@pytest.mark.browser
@needs_browser
def test_raw_record_hash_and_screenshot(cfg, store, tmp_path):
    fake = FakePlatform(tmp_path)
    fake.route("/u/77", {}, body="<html><body style='background:#fee'><h1>北理工表白墙</h1><p>树洞</p></body></html>",
               content_type="text/html; charset=utf-8")
    with fake:
        cfg.platforms["weibo"].base_url = fake.base_url  # the page is on the platform's host
        f = _finding(store, f"{fake.base_url}/u/77")
        rows = evidence.capture(cfg, store, f)
    kinds = {r["kind"]: r for r in rows}
    assert set(kinds) == {"raw", "screenshot"}
    raw = (cfg.data_path / kinds["raw"]["path"]).read_bytes()
    assert hashlib.sha256(raw).hexdigest() == kinds["raw"]["sha256"]
    assert "北理工表白墙" in raw.decode() and '"screen_name"' in raw.decode()
    png = (cfg.data_path / kinds["screenshot"]["path"]).read_bytes()
    assert hashlib.sha256(png).hexdigest() == kinds["screenshot"]["sha256"]
    assert Image.open(io.BytesIO(png)).size == (1280, 800)
    assert store.scalar("SELECT COUNT(*) FROM evidence WHERE finding_id = ?", [f.id]) == 2


def test_unreachable_page_still_keeps_the_raw_record(cfg, store):
    f = _finding(store, "http://127.0.0.1:9/nothing-here")
    rows = evidence.capture(cfg, store, f)
    assert [r["kind"] for r in rows][0] == "raw"


def test_evidence_is_kept_while_open_and_pruned_after_closing(cfg, store):
    f = _finding(store, None)
    evidence.capture(cfg, store, f, shots=False)
    later = datetime.now(UTC) + timedelta(days=cfg.watch.evidence_retention_days + 1)
    assert evidence.prune(cfg, store, later) == 0            # open: kept whatever the age
    set_status(store, f.id, "resolved", actor="t", action="已处理")
    path = cfg.data_path / store.one("SELECT path FROM evidence")["path"]
    assert evidence.prune(cfg, store, datetime.now(UTC)) == 0  # closed but recent
    assert evidence.prune(cfg, store, later) == 1
    assert not path.exists()


def test_collect_only_once_per_finding(cfg, store):
    cfg.watch.screenshots = False
    _finding(store, None)
    assert evidence.collect(cfg, store) == 1
    assert evidence.collect(cfg, store) == 0
