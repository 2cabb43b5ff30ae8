"""Avatars are fetched from (here: a local) server, cached, and compared with the emblem."""

import io

from PIL import Image

from tests.conftest import ROOT
from tests.fakeplatform import FakePlatform
from watcher.crawling.discovery import analyse_run
from watcher.findings import list_findings


def test_avatar_showing_the_emblem_makes_a_suspect(cfg, store, tmp_path):
    cfg.matching.download_avatars = True
    emblem = Image.open(ROOT / "config" / "logos" / "emblem.png").convert("RGB").resize((120, 120))
    buf = io.BytesIO()
    emblem.save(buf, "JPEG", quality=60)
    (tmp_path / "a.jpg").write_bytes(buf.getvalue())
    fake = FakePlatform(tmp_path)
    fake.route("/face/a.jpg", {}, "a.jpg", content_type="image/jpeg")
    fake.route("/face/missing.jpg", {}, body="nope", status=404, content_type="text/plain")
    with fake:
        store.db["accounts"].insert_all([
            {"platform": "douyin", "account_id": "1", "name": "随手拍", "avatar_url": f"{fake.base_url}/face/a.jpg",
             "first_seen": "t", "last_seen": "t"},
            {"platform": "douyin", "account_id": "2", "name": "随手拍2", "avatar_url": f"{fake.base_url}/face/missing.jpg",
             "first_seen": "t", "last_seen": "t"}])
        store.db["crawl_seen"].insert_all([{"crawl_run_id": 1, "platform": "douyin", "account_id": i} for i in ("1", "2")])
        counts = analyse_run(cfg, store, 1)
    assert counts["suspect"] == 1 and counts["clear"] == 1
    f = list_findings(store, kind="impersonation")[0]
    assert f["account_id"] == "1" and any("校徽" in r for r in f["details"]["reasons"])
    assert (cfg.data_path / store.one("SELECT avatar_path FROM accounts WHERE account_id = '1'")["avatar_path"]).exists()
