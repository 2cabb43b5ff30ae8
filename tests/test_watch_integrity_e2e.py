"""End to end against a fake Weibo that re-signs avatar URLs and moves follower counts ("152.3万")
on every answer, answers 503 or "请求过于频繁" in the middle of a round, walls a check, and confirms
deletions on /statuses/show. Real crawl processes, real analysis, the alert plan, the daemon's
start-up as the restart; kept to three tests (crawls are slow)."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from alerts import dispatch
from tests.conftest import write_config
from tests.fakeplatform import FakePlatform
from tests.spider_helpers import crawl_process, run_crawl
from tests.test_watch_integrity import picture
from watcher import registry
from watcher.config import load_config
from watcher.daemon import Daemon
from watcher.rounds import records
from watcher.store import Store, deliveries
from watcher.store.findings import list_findings

UID = "1891724861"
AVATAR = "70c1f4f3ly8hq2kz9x0j1j20u00u0dhb"
SUSPECT = "7712345601"


class ResigningWeibo(FakePlatform):
    """Bodies are computed per answer (``Route.body`` may be a function)."""

    def __init__(self, directory) -> None:
        super().__init__(directory)
        self.answers = 0
        self.posts = [(str(i), f"Sun Nov {i:02d} 10:00:00 +0800 2026", f"北理工通知第{i}号") for i in range(12, 0, -1)]

    def body(self, route) -> bytes:
        return route.body().encode() if callable(route.body) else super().body(route)

    def avatar(self, file: str = AVATAR) -> str:
        self.answers += 1
        size = ["crop.0.0.1080.1080.180", "180"][self.answers % 2]
        return f"{self.base_url}/{size}/{file}.jpg?KID=imgbed,tva&Expires={1732345678 + self.answers}&ssig=AbC{self.answers}xYz"

    def followers(self) -> str:
        return f"{152.3 + self.answers / 10:.1f}万"

    def profile(self) -> str:
        return json.dumps({"ok": 1, "data": {"userInfo": {
            "id": int(UID), "screen_name": "北京理工大学", "avatar_hd": self.avatar(), "verified": True, "verified_type": 1,
            "verified_reason": "北京理工大学官方微博", "description": "北京理工大学官方微博",
            "followers_count": self.followers(), "follow_count": 420, "statuses_count": 23110}}}, ensure_ascii=False)

    def page(self, n: int) -> str:
        cards = [{"card_type": 9, "mblog": {"id": pid, "mid": pid, "created_at": created, "text": text,
                                            "reposts_count": 1, "comments_count": "1.2万", "attitudes_count": 3}}
                 for pid, created, text in self.posts[(n - 1) * 3:n * 3]]
        return json.dumps({"ok": 1, "data": {"cardlistInfo": {"page": n + 1}, "cards": cards}}, ensure_ascii=False)

    def search(self) -> str:
        user = {"id": int(SUSPECT), "screen_name": "北理工表白墙", "avatar_hd": self.avatar("006aBcDely8h0fake"),
                "verified": False, "description": "北理工的同学们看过来", "followers_count": self.followers()}
        return json.dumps({"ok": 1, "data": {"cardlistInfo": {"page": None},
                                             "cards": [{"card_type": 11, "card_group": [{"card_type": 10, "user": user}]}]}},
                          ensure_ascii=False)

    def check(self, pid: str) -> str:
        for p, _created, text in self.posts:
            if p == pid:
                return json.dumps({"ok": 1, "data": {"id": pid, "text": text}}, ensure_ascii=False)
        return '{"ok":0,"msg":"抱歉，此微博已被作者删除。","errno":"20101"}'


def _fake(tmp_path) -> ResigningWeibo:
    picture(tmp_path / "avatar.jpg", "emblem")
    fake = ResigningWeibo(tmp_path)
    fake.route("/api/container/getIndex", {"type": "uid", "value": UID}, body=fake.profile)
    for n in (1, 2):
        fake.route("/api/container/getIndex", {"value": UID, "containerid": f"107603{UID}", "page": str(n)},
                   body=lambda n=n: fake.page(n))
    fake.route("/api/container/getIndex", {"containerid": "100103type=3&q=北理工"}, body=fake.search)
    for size in ("crop.0.0.1080.1080.180", "180"):
        fake.route(f"/{size}/{AVATAR}.jpg", {}, "avatar.jpg", content_type="image/jpeg")
    for i in range(1, 13):
        fake.route("/statuses/show", {"id": str(i)}, body=lambda i=i: fake.check(str(i)))
    return fake


def _config(tmp_path, fake):
    cfg = load_config(write_config(tmp_path / "c", platforms={"weibo": {
        "enabled": True, "base_url": fake.base_url, "rate": 50, "pages": 2, "retries": 0}},
        matching={"download_avatars": True}))
    with Store.open(cfg.db_path) as s:
        registry.import_file(s, cfg.registry_path)
    return cfg


def _restart(cfg) -> None:
    """What ``watcher run`` does at start before its first job: orphaned rounds closed, analysis a
    crash cut short finished (:meth:`watcher.daemon.Daemon.prepare_store`)."""
    Daemon(cfg.source, cfg).prepare_store()


def _delete_11_and_edit_9(fake: ResigningWeibo) -> None:
    """Post 11 (page 1) is deleted, post 9 edited; post 9 moves up to page 1."""
    fake.posts = [p for p in fake.posts if p[0] != "11"]
    fake.posts = [(p, c, "北理工通知第9号（更正）" if p == "9" else t) for p, c, t in fake.posts]


def _page(fake: ResigningWeibo, n: int):
    return fake.find("/api/container/getIndex", {"type": "uid", "value": UID, "containerid": f"107603{UID}", "page": str(n)})


def _reported_once(s: Store) -> None:
    """Post 11's deletion and post 9's edit: one finding each, never revised, planned once."""
    deletions, edits = list_findings(s, kind="deletion"), list_findings(s, kind="edit")
    assert [f.details["post_id"] for f in deletions] == ["11"]
    assert [f.details["post_id"] for f in edits] == ["9"]
    assert edits[0].details["old_text"] == "北理工通知第9号" and edits[0].details["new_text"] == "北理工通知第9号（更正）"
    for f in deletions + edits:
        assert f.revision == 1
        assert {d.revision for d in deliveries.for_finding(s, f.id)} <= {1}


@pytest.mark.slow
def test_resigned_answers_three_rounds_and_a_restart_then_a_503(tmp_path):
    fake = _fake(tmp_path)
    with fake:
        cfg = _config(tmp_path, fake)

        def round_():
            assert run_crawl(cfg, "weibo", "discover", keywords=["北理工"])["status"] == "ok"
            return run_crawl(cfg, "weibo", "timeline", account=UID)

        assert round_()["status"] == "ok"
        with Store.open(cfg.db_path) as s:
            first_plan = dispatch.plan(cfg, s, datetime.now(UTC))
            assert first_plan >= 1  # the suspect, once
            assert s.one("SELECT avatar_phash FROM profile_snapshots")["avatar_phash"]
        # three more rounds of re-signed avatars and moving follower counts, a restart among them
        assert round_()["status"] == "ok"
        assert round_()["status"] == "ok"
        _restart(cfg)
        assert round_()["status"] == "ok"
        with Store.open(cfg.db_path) as s:
            assert list_findings(s, kind="profile_change") == []
            assert [(f.kind, f.revision) for f in list_findings(s)] == [("impersonation", 1)]
            assert dispatch.plan(cfg, s, datetime.now(UTC) + timedelta(minutes=1)) == 0  # zero alerts
            assert s.scalar("SELECT COUNT(*) FROM deliveries") == first_plan
            # the platform did re-sign and re-count on every answer: four snapshots, all different
            snaps = s.query("SELECT followers, avatar_url FROM profile_snapshots ORDER BY id")
            assert len(snaps) == 4
            assert len({r["avatar_url"] for r in snaps}) == 4 and len({r["followers"] for r in snaps}) == 4

        # the platform deletes one post and edits another; page 2 of the next round answers 503
        _delete_11_and_edit_9(fake)
        page2 = _page(fake, 2)
        page2.status, page2.body = 503, lambda: "<html>503 Service Temporarily Unavailable</html>"
        cut = run_crawl(cfg, "weibo", "timeline", account=UID)
        assert cut["status"] == "partial" and "503" in cut["reason"], cut
        with Store.open(cfg.db_path) as s:  # page 1 (with the edit) is stored, nothing is reported yet
            assert s.scalar("SELECT COUNT(*) FROM posts WHERE text = '北理工通知第9号（更正）'") == 1
            assert list_findings(s, kind="edit") == [] and list_findings(s, kind="deletion") == []
        page2.status, page2.body = 200, lambda: fake.page(2)
        assert run_crawl(cfg, "weibo", "timeline", account=UID)["status"] == "ok"
        _restart(cfg)
        assert run_crawl(cfg, "weibo", "timeline", account=UID)["status"] == "ok"

    with Store.open(cfg.db_path) as s:
        _reported_once(s)
        assert list_findings(s, kind="profile_change") == []
        imp = list_findings(s, kind="impersonation")
        assert len(imp) == 1 and imp[0].revision == 1
        dispatch.plan(cfg, s, datetime.now(UTC) + timedelta(minutes=2))
        kinds = {r["kind"] for r in s.query(
            "SELECT f.kind FROM deliveries d JOIN findings f ON f.id = d.finding_id WHERE d.id > ?", [first_plan])}
        # after the first round only the deletion, the edit and the 503's episode were new
        assert {"deletion", "edit"} <= kinds <= {"deletion", "edit", "crawl_blocked"}


@pytest.mark.slow
def test_a_rate_limit_mid_round_and_a_wall_on_the_check_lose_nothing(tmp_path):
    """A round refused on page 2 ("请求过于频繁") after page 1 held the edit; the next round's check
    of the missing post meets a login wall; the round after that, the wall has lifted. Meanwhile
    two new posts push two old ones past the pages a round reads: asked about, never deleted."""
    fake = _fake(tmp_path)
    with fake:
        cfg = _config(tmp_path, fake)
        assert run_crawl(cfg, "weibo", "timeline", account=UID)["status"] == "ok"   # posts 12 … 7
        _delete_11_and_edit_9(fake)
        page2 = _page(fake, 2)
        page2.body = lambda: '{"ok":0,"msg":"请求过于频繁，请稍后再试"}'
        refused = run_crawl(cfg, "weibo", "timeline", account=UID)
        assert refused["status"] == "partial" and "频繁" in refused["reason"], refused
        with Store.open(cfg.db_path) as s:
            assert records.state(s, "weibo").cooling()
            assert list_findings(s, kind="edit") == [] and list_findings(s, kind="deletion") == []
        page2.body = lambda: fake.page(2)
        check_11 = fake.find("/statuses/show", {"id": "11"})
        check_11.redirect = "/signin/login?entry=mweibo"
        fake.route("/signin/login", {}, body="<html>登录</html>", content_type="text/html")
        assert run_crawl(cfg, "weibo", "timeline", account=UID)["status"] == "ok"
        with Store.open(cfg.db_path) as s:  # the edit is reported; the deletion waits for the platform's word
            assert [f.details["post_id"] for f in list_findings(s, kind="edit")] == ["9"]
            assert list_findings(s, kind="deletion") == []
            assert s.one("SELECT status FROM posts WHERE post_id = '11'")["status"] == "pending"
            s.conn.execute("UPDATE posts SET next_check_at = '2026-01-01T00:00:00+00:00' WHERE post_id = '11'")  # back-off over
        check_11.redirect = None  # the wall lifts
        for pid in ("13", "14"):  # posts 7 and 6 leave the two pages a round reads
            fake.posts.insert(0, (pid, f"Sun Nov {pid} 10:00:00 +0800 2026", f"北理工新闻{pid}"))
        assert run_crawl(cfg, "weibo", "timeline", account=UID)["status"] == "ok"
        assert run_crawl(cfg, "weibo", "timeline", account=UID)["status"] == "ok"
        asked = [q["id"] for path, q, _ in fake.requests if path == "/statuses/show"]
    with Store.open(cfg.db_path) as s:
        _reported_once(s)
        assert s.scalar("SELECT COUNT(*) FROM posts WHERE status != 'live' AND post_id != '11'") == 0
        assert asked.count("11") == 2 and {"6", "7"} <= set(asked)  # pushed away: asked once, still live


@pytest.mark.slow
def test_a_round_killed_9_after_page_one_loses_neither_the_deletion_nor_the_edit(tmp_path):
    fake = _fake(tmp_path)
    with fake:
        cfg = _config(tmp_path, fake)
        assert run_crawl(cfg, "weibo", "timeline", account=UID)["status"] == "ok"
        _delete_11_and_edit_9(fake)
        page2 = _page(fake, 2)
        page2.delay = 30  # the round is killed while it waits for page 2
        result: dict = {}
        crawl = threading.Thread(target=lambda: result.update(run_crawl(cfg, "weibo", "timeline", account=UID)))
        crawl.start()
        deadline = time.monotonic() + 60
        with Store.open(cfg.db_path) as s:
            while not s.scalar("SELECT COUNT(*) FROM posts WHERE text = '北理工通知第9号（更正）'"):
                assert time.monotonic() < deadline, "page 1 never stored"
                time.sleep(0.1)
        pid = crawl_process()
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        crawl.join(60)
        assert result["status"] not in ("ok", "running")
        page2.delay = 0
        with Store.open(cfg.db_path) as s:  # the edit is stored, nothing is reported yet
            assert list_findings(s, kind="edit") == [] and list_findings(s, kind="deletion") == []
        _restart(cfg)
        for _ in range(2):
            assert run_crawl(cfg, "weibo", "timeline", account=UID)["status"] == "ok"
    with Store.open(cfg.db_path) as s:
        _reported_once(s)
