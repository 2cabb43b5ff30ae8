"""Done-when test of the watch: a platform whose data changes between two crawls."""

from datetime import date, timedelta

import pytest

from tests.conftest import write_config
from tests.fakeplatform import FIXTURES, FakePlatform
from tests.spider_helpers import run_crawl
from watcher import registry
from watcher.config import load_config
from watcher.store import Store
from watcher.store.findings import list_findings
from watcher.watch.filings import check_dormant, check_filings

UID = "1891724861"


@pytest.fixture
def fake():
    f = FakePlatform(FIXTURES / "weibo_watch")
    f.route("/api/container/getIndex", {"type": "uid", "value": UID}, "profile.json")
    f.route("/api/container/getIndex", {"value": UID, "containerid": f"107603{UID}", "page": "1"}, "posts_p1.json")
    f.route("/statuses/show", {"id": "4"}, body='{"ok":0,"msg":"抱歉，此微博已被作者删除。","errno":"20101"}')
    f.route("/statuses/show", {"id": "3"}, body='{"ok":1,"data":{"id":"3","text":"校园开放日预约开始"}}')
    with f:
        yield f


def test_deletion_edit_rename_and_no_false_deletion(tmp_path, fake):
    cfg = load_config(write_config(tmp_path / "c", platforms={
        "weibo": {"enabled": True, "base_url": fake.base_url, "rate": 50, "pages": 1, "retries": 0}},
        watch={"filing_deadline": {"mode": "working_days_after", "days": 3}}))
    with Store.open(cfg.db_path) as s:
        registry.import_file(s, cfg.registry_path)

    fake.dataset = "before"
    assert run_crawl(cfg, "weibo", "timeline", account=UID)["status"] == "ok"
    fake.dataset = "after"
    assert run_crawl(cfg, "weibo", "timeline", account=UID)["status"] == "ok"

    with Store.open(cfg.db_path) as s:
        deletions = list_findings(s, kind="deletion")
        edits = list_findings(s, kind="edit")
        changes = list_findings(s, kind="profile_change")
        assert [d.details["post_id"] for d in deletions] == ["4"]          # one confirmed deletion
        assert s.one("SELECT status FROM posts WHERE post_id = '3'")["status"] == "live"  # pushed out, not deleted
        assert s.one("SELECT status FROM posts WHERE post_id = '4'")["status"] == "deleted"
        assert len(edits) == 1 and edits[0].details["post_id"] == "5"
        diff = edits[0].details["diff"]
        assert "-北京理工大学冬季运动会12月5日举行" in diff and "+北京理工大学冬季运动会改为12月6日举行" in diff
        assert len(changes) == 1
        change = changes[0].details
        assert (change["field"], change["old"], change["new"]) == ("account_name", "北京理工大学", "北京理工大学官方")
        assert changes[0].unit == "党委宣传部"

        changed = date.fromisoformat(change["changed_on"])
        assert check_filings(cfg, s, today=changed + timedelta(days=1))["unfiled"] == 0
        assert list_findings(s, kind="unfiled_change") == []
        assert check_filings(cfg, s, today=changed + timedelta(days=15))["unfiled"] == 1
        unfiled = list_findings(s, kind="unfiled_change")
        assert len(unfiled) == 1 and unfiled[0].unit == "党委宣传部"

        # a third, unchanged crawl reports nothing new
        before = s.scalar("SELECT COUNT(*) FROM findings")
    assert run_crawl(cfg, "weibo", "timeline", account=UID)["status"] == "ok"
    with Store.open(cfg.db_path) as s:
        assert s.scalar("SELECT COUNT(*) FROM findings") == before


def test_filed_change_is_resolved(tmp_path, store, cfg):
    from watcher.findings import FindingInput, record

    registry.import_file(store, cfg.registry_path)
    record(store, FindingInput(kind="profile_change", dedupe_key="pc:1", title="名称变更", platform="weibo",
                               account_id=UID, account_name="北理工官微",
                               details={"field": "account_name", "old": "北京理工大学", "new": "北理工官微",
                                        "changed_on": "2025-09-30"}))
    registry.file_change(store, "weibo", UID, "account_name", "北理工官微", filed_date="2025-10-10")
    assert check_filings(cfg, store, today=date(2025, 10, 20))["filed"] == 1
    assert list_findings(store, kind="profile_change")[0].status == "resolved"
    assert list_findings(store, kind="unfiled_change") == []


def test_dormant_accounts(store, cfg):
    registry.import_file(store, cfg.registry_path)
    store.db["posts"].insert({"platform": "weibo", "post_id": "x", "account_id": "5612340001", "text": "旧帖",
                              "created_at": "2026-01-01T10:00:00+08:00", "first_seen": "x", "last_seen": "x"})
    assert check_dormant(cfg, store, today=date(2026, 6, 1)) == 0
    assert check_dormant(cfg, store, today=date(2026, 7, 15)) == 1
    assert check_dormant(cfg, store, today=date(2026, 8, 15)) == 0  # already listed
    assert list_findings(store, kind="dormant")[0].unit == "计算机学院"


def test_account_gone(tmp_path, fake):
    cfg = load_config(write_config(tmp_path / "c", platforms={
        "weibo": {"enabled": True, "base_url": fake.base_url, "rate": 50, "pages": 1, "retries": 0}}))
    with Store.open(cfg.db_path) as s:
        registry.import_file(s, cfg.registry_path)
    fake.routes.clear()
    fake.route("/api/container/getIndex", {"type": "uid", "value": UID}, body='{"ok":0,"msg":"用户不存在"}')
    assert run_crawl(cfg, "weibo", "timeline", account=UID)["status"] == "gone"
    with Store.open(cfg.db_path) as s:
        gone = list_findings(s, kind="account_gone")
    assert len(gone) == 1 and gone[0].severity == "critical" and gone[0].unit == "党委宣传部"


def test_deletion_check_gets_the_post_url_where_the_page_needs_it(store, cfg):
    """Xiaohongshu's note page needs the xsec_token the timeline gave: the check is asked with
    the stored URL, and a post the platform confirms deleted becomes a finding."""
    from spiders.base import Target
    from watcher.rounds import records
    from watcher.watch.analyze import analyse_timeline

    def start() -> int:
        return records.open_round(store, "xiaohongshu", "timeline", [Target.for_mode("timeline", uid)])[1][uid]

    uid, url = "5f1a2b3c000000000100abcd", "https://www.xiaohongshu.com/explore/n1?xsec_token=ABx1&xsec_source=pc_user"
    first = start()
    store.conn.execute("INSERT INTO posts (platform, post_id, account_id, text, url, first_seen, last_seen, "
                       "last_crawl_run_id) VALUES ('xiaohongshu', 'n1', ?, '北理工初雪', ?, '2026-11-20', '2026-11-20', ?)",
                       [uid, url, first])
    records.close_run(store, first, "ok")
    second = start()
    records.close_run(store, second, "ok")
    asked = []
    counts = analyse_timeline(cfg, store, second, checker=lambda p, a, post: asked.append(post) or False)
    assert asked == [url] and counts["deletion"] == 1
