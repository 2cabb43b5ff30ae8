"""End to end against a fake Weibo that re-signs avatar URLs and moves follower counts ("152.3万")
on every answer, answers 503 in the middle of a round, and confirms deletions on /statuses/show.
Real crawl processes, real analysis, the alert plan; kept to two tests (crawls are slow)."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alerts import dispatch
from tests.conftest import write_config
from tests.fakeplatform import FakePlatform
from tests.spider_helpers import run_crawl
from tests.test_watch_integrity import picture
from watcher import registry
from watcher.config import load_config
from watcher.store import Store
from watcher.store.findings import list_findings
from watcher.watch.analyze import catch_up

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


def test_resigned_answers_a_503_and_a_restart(tmp_path):
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
        # the platform deletes one post and edits another; page 2 of the next round answers 503
        fake.posts = [p for p in fake.posts if p[0] != "11"]
        fake.posts = [(p, c, "北理工通知第9号（更正）" if p == "9" else t) for p, c, t in fake.posts]
        page2 = fake.find("/api/container/getIndex", {"type": "uid", "value": UID, "containerid": f"107603{UID}", "page": "2"})
        page2.status, page2.body = 503, lambda: "<html>503 Service Temporarily Unavailable</html>"
        assert round_()["status"] != "ok"
        page2.status, page2.body = 200, lambda: fake.page(2)
        assert round_()["status"] == "ok"
        with Store.open(cfg.db_path) as s:  # a restart
            catch_up(cfg, s)
        assert round_()["status"] == "ok"

    with Store.open(cfg.db_path) as s:
        assert list_findings(s, kind="profile_change") == []
        assert [f.details["post_id"] for f in list_findings(s, kind="deletion")] == ["11"]
        assert [f.details["post_id"] for f in list_findings(s, kind="edit")] == ["9"]
        imp = list_findings(s, kind="impersonation")
        assert len(imp) == 1 and imp[0].revision == 1
        later = dispatch.plan(cfg, s, datetime.now(UTC) + timedelta(minutes=1))
        kinds = {r["kind"] for r in s.query(
            "SELECT f.kind FROM deliveries d JOIN findings f ON f.id = d.finding_id WHERE d.created_at > ?",
            [s.scalar("SELECT MIN(created_at) FROM deliveries")])}
        # after the first round only the deletion, the edit and the 503 itself were new
        assert later >= 2 and kinds <= {"deletion", "edit", "crawl_blocked"}
        snaps = s.query("SELECT followers, avatar_url FROM profile_snapshots ORDER BY id")
        assert len({r["avatar_url"] for r in snaps}) == len(snaps) and len({r["followers"] for r in snaps}) == len(snaps)


def _crawl_process() -> int | None:
    """The round's crawl process: our child running watcher.rounds.process."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        if ppid == os.getpid() and b"watcher.rounds.process" in cmdline:
            return int(stat.parent.name)
    return None


def test_a_round_killed_9_after_page_one_loses_neither_the_deletion_nor_the_edit(tmp_path):
    fake = _fake(tmp_path)
    with fake:
        cfg = _config(tmp_path, fake)
        assert run_crawl(cfg, "weibo", "timeline", account=UID)["status"] == "ok"
        fake.posts = [p for p in fake.posts if p[0] != "11"]
        fake.posts = [(p, c, "北理工通知第9号（更正）" if p == "9" else t) for p, c, t in fake.posts]
        page2 = fake.find("/api/container/getIndex", {"type": "uid", "value": UID, "containerid": f"107603{UID}", "page": "2"})
        page2.delay = 30  # the round is killed while it waits for page 2
        result: dict = {}
        crawl = threading.Thread(target=lambda: result.update(run_crawl(cfg, "weibo", "timeline", account=UID)))
        crawl.start()
        deadline = time.monotonic() + 60
        with Store.open(cfg.db_path) as s:
            while not s.scalar("SELECT COUNT(*) FROM posts WHERE text = '北理工通知第9号（更正）'"):
                assert time.monotonic() < deadline, "page 1 never stored"
                time.sleep(0.1)
        pid = _crawl_process()
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        crawl.join(60)
        assert result["status"] not in ("ok", "running")
        page2.delay = 0
        with Store.open(cfg.db_path) as s:  # the edit is stored, nothing is reported yet
            assert list_findings(s, kind="edit") == [] and list_findings(s, kind="deletion") == []
        for _ in range(2):
            assert run_crawl(cfg, "weibo", "timeline", account=UID)["status"] == "ok"
    with Store.open(cfg.db_path) as s:
        assert [f.details["post_id"] for f in list_findings(s, kind="deletion")] == ["11"]
        edits = list_findings(s, kind="edit")
        assert [f.details["post_id"] for f in edits] == ["9"] and edits[0].revision == 1
        assert edits[0].details["old_text"] == "北理工通知第9号"
