"""The 舆情 page: clusters with filters, the chart (SVG, no script), a cluster's posts, decisions audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from tests.test_web import login
from tests.web_helpers import seed
from watcher.sentiment import analyze
from watcher.store import Store
from watcher.store import mentions as mentions_store
from watcher.web.app import create_app

ORIGINAL = "北理工食堂今天中午的饭里吃出虫子，找窗口理论还被骂，太恶心了，学校管不管"


@pytest.fixture
def site(cfg):
    seed(cfg)
    now = datetime.now(UTC)

    def post(i, text, hours, platform="weibo"):
        t = (now - timedelta(hours=hours)).isoformat()
        return {"platform": platform, "post_id": f"s{i}", "account_id": f"u{i}", "text": text, "created_at": t,
                "first_seen": t, "last_seen": t, "status": "live", "url": f"https://m.weibo.cn/detail/s{i}"}

    with Store.open(cfg.db_path) as store:
        store.db["posts"].insert_all([post(i, f"转发微博 //@路人{i}:{ORIGINAL}", 2 + i * 0.1, "douyin" if i == 3 else "weibo")
                                      for i in range(6)] + [post(50, "北理工图书馆今天开放到晚上十点", 30),
                                                            post(51, "<script>alert(1)</script>北理工宿舍停电没人管", 40)])
        analyze(cfg, store, now=now)
    return TestClient(create_app(cfg)), cfg


def test_the_page_lists_clusters_with_filters_and_an_svg_chart(site):
    client, cfg = site
    login(client, "xcb")
    r = client.get("/sentiment")
    assert r.status_code == 200
    assert "<svg" in r.text and "<script>alert" not in r.text and "&lt;script&gt;" in r.text
    assert "吃出虫子" in r.text and "图书馆" not in r.text            # negative clusters by default
    assert "图书馆" in client.get("/sentiment", params={"polarity": "all"}).text
    assert "吃出虫子" in client.get("/sentiment", params={"platform": "douyin"}).text
    assert "停电" not in client.get("/sentiment", params={"platform": "douyin"}).text
    assert "没有符合条件" in client.get("/sentiment", params={"group": "不存在的组"}).text
    with Store.open(cfg.db_path) as store:
        groups = {c.group_name for c in mentions_store.list_clusters(store) if "虫子" in c.representative}
    (group,) = groups
    assert "吃出虫子" in client.get("/sentiment", params={"group": group}).text
    assert "停电" not in client.get("/sentiment", params={"period": "1d"}).text   # 40 hours ago
    assert client.get("/sentiment", params={"period": "nonsense"}).status_code == 200
    assert "script-src" in r.headers.get("content-security-policy", "") or "default-src" in r.headers.get(
        "content-security-policy", "")


def test_a_cluster_shows_its_posts_and_a_decision_is_audited(site):
    client, cfg = site
    token = login(client, "xcb")
    with Store.open(cfg.db_path) as store:
        (cluster,) = [c for c in mentions_store.list_clusters(store) if "虫子" in c.representative]
    page = client.get(f"/sentiment/clusters/{cluster.id}")
    assert page.status_code == 200 and page.text.count("m.weibo.cn/detail/s") == 6 and "待研判" in page.text
    bad = client.post(f"/sentiment/clusters/{cluster.id}/decide", data={"decision": "maybe", "csrf_token": token})
    assert "请选择研判结论" in bad.text
    r = client.post(f"/sentiment/clusters/{cluster.id}/decide",
                    data={"decision": "handled", "comment": "已联系后勤", "csrf_token": token})
    assert r.status_code == 200 and "已记录：已处置" in r.text
    assert "已处置" in client.get(f"/sentiment/clusters/{cluster.id}").text
    audit = client.get("/audit").text
    assert "舆情已处置" in audit and f"舆情话题 #{cluster.id}" in audit and "sentiment_cluster" not in audit
    assert client.post(f"/sentiment/clusters/{cluster.id}/decide", data={"decision": "handled"}).status_code == 403
    assert client.get("/sentiment/clusters/99999").status_code == 404


def test_unit_reviewers_do_not_see_the_page(site):
    client, _ = site
    login(client, "cs")
    assert client.get("/sentiment").status_code == 403
