"""Avatars are fetched from (here: a local) server, cached, and compared with the emblem."""

import io

from PIL import Image

from tests.conftest import ROOT
from tests.fakeplatform import FakePlatform
from watcher.crawling.discovery import analyse_run
from watcher.store.accounts import Account
from watcher.store.findings import list_findings


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
        cfg.platforms["douyin"].base_url = fake.base_url  # the avatar host: the platform's (see test_fetch_confined)
        store.db["accounts"].insert_all([
            {"platform": "douyin", "account_id": "1", "name": "随手拍", "avatar_url": f"{fake.base_url}/face/a.jpg",
             "first_seen": "t", "last_seen": "t"},
            {"platform": "douyin", "account_id": "2", "name": "随手拍2", "avatar_url": f"{fake.base_url}/face/missing.jpg",
             "first_seen": "t", "last_seen": "t"}])
        store.db["crawl_seen"].insert_all([{"crawl_run_id": 1, "platform": "douyin", "account_id": i} for i in ("1", "2")])
        counts = analyse_run(cfg, store, 1)
    assert counts["suspect"] == 1 and counts["clear"] == 1
    f = list_findings(store, kind="impersonation")[0]
    assert f.account_id == "1" and any("校徽" in r for r in f.details["reasons"])
    assert (cfg.data_path / store.one("SELECT avatar_path FROM accounts WHERE account_id = '1'")["avatar_path"]).exists()


def test_an_account_that_breaks_the_matcher_costs_only_itself(cfg, store):
    from watcher.crawling.discovery import judge, matcher_for

    matcher = matcher_for(cfg, store)
    analyse = matcher._analyse

    def fragile(c, *args, **kw):
        if c.account_id == "bad":
            raise RuntimeError("boom")
        return analyse(c, *args, **kw)

    matcher._analyse = fragile
    accounts = [Account("douyin", aid, "2026-11-22", "2026-11-22", name=name, bio="")
                for aid, name in (("ok1", "北理工表白墙"), ("bad", "北理工二手"), ("ok2", "东北理疗馆"))]
    for a in accounts:
        store.db["accounts"].insert({"platform": a.platform, "account_id": a.account_id, "name": a.name, "bio": a.bio,
                                     "first_seen": a.first_seen, "last_seen": a.last_seen}, alter=False)
    counts = judge(cfg, store, accounts, matcher=matcher)
    assert counts == {"registered": 0, "suspect": 1, "clear": 1, "failed": 1}
    verdicts = {r["account_id"]: r["verdict"] for r in store.query("SELECT account_id, verdict FROM accounts")}
    assert verdicts == {"ok1": "suspect", "bad": None, "ok2": "clear"}
