"""The review site for daily work: a first-run page, decisions by kind, a note kept on error,
what a finding page shows for each kind, the scan page without a daemon."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from tests.test_web import login, site  # noqa: F401 - the fixture
from tests.web_helpers import screenshot_png
from watcher.findings import FindingInput, record
from watcher.store import Store
from watcher.watch.evidence import keep
from watcher.web.app import create_app


def test_first_run_page_explains_how_to_add_a_user(cfg):
    page = TestClient(create_app(cfg)).get("/findings").text
    assert "还没有任何用户" in page and "watcher users add" in page and str(cfg.source) in page


def test_an_edit_offers_no_report_and_refuses_one(site):  # noqa: F811
    client, ids, cfg = site
    token = login(client, "xcb")
    page = client.get(f"/findings/{ids['edit']}").text
    assert 'value="resolved"' in page and 'value="reported"' not in page and 'value="confirm"' not in page
    assert 'name="reference"' not in page
    r = client.post(f"/findings/{ids['edit']}/decide", data={"action": "reported", "reference": "x", "csrf_token": token})
    assert r.status_code == 400 and "不适用于帖子被修改" in r.text
    imp = client.get(f"/findings/{ids['9001']}").text
    assert 'value="reported"' in imp and 'value="confirm"' in imp


def test_the_typed_note_survives_a_form_error_and_success_says_so(site):  # noqa: F811
    client, ids, cfg = site
    token = login(client, "xcb")
    r = client.post(f"/findings/{ids['9001']}/decide",
                    data={"action": "reported", "comment": "已电话联系平台客服", "csrf_token": token})
    assert r.status_code == 400 and "举报编号" in r.text
    assert "已电话联系平台客服</textarea>" in r.text and 'value="reported" checked' in r.text
    r = client.post(f"/findings/{ids['9001']}/decide",
                    data={"action": "reported", "reference": "JB-1", "comment": "已举报", "csrf_token": token})
    assert r.status_code == 200 and "已记录：已向平台举报" in r.text


def test_a_deletion_shows_its_time_bounds_and_the_post_link(site):  # noqa: F811
    client, ids, cfg = site
    with Store.open(cfg.db_path) as s:
        fid = record(s, FindingInput(
            kind="deletion", dedupe_key="deletion:weibo:49", title="微博账号「北京理工大学」删除了帖子", platform="weibo",
            account_id="1891724861", details={"post_id": "49", "url": "https://m.weibo.cn/detail/49", "text": "通知",
                                              "last_seen": "2026-11-20T02:00:00+00:00",
                                              "first_missed": "2026-11-20T03:00:00+00:00",
                                              "confirmed_at": "2026-11-20T03:05:00+00:00"})).id
    login(client, "xcb")
    page = client.get(f"/findings/{fid}").text
    assert "2026-11-20 10:00" in page and "2026-11-20 11:00" in page and "2026-11-20 11:05" in page
    assert 'href="https://m.weibo.cn/detail/49"' in page and "北京时间" in page


def test_a_profile_change_shows_its_filing_deadline_and_a_way_to_file(site):  # noqa: F811
    client, ids, cfg = site
    with Store.open(cfg.db_path) as s:
        fid = record(s, FindingInput(
            kind="profile_change", dedupe_key="profile_change:weibo:1891724861:name:x", title="名称变更",
            platform="weibo", account_id="1891724861", account_name="北理工新名",
            details={"field": "account_name", "label": "名称", "old": "北京理工大学", "new": "北理工新名",
                     "changed_on": "2026-11-20"})).id  # a Friday: 3 working days → Wednesday
    login(client, "xcb")
    page = client.get(f"/findings/{fid}").text
    assert "变更备案期限：2026-11-25" in page and 'href="/registry/weibo/1891724861#change"' in page


def test_evidence_json_is_formatted_and_the_avatar_is_beside_the_emblem(site):  # noqa: F811
    client, ids, cfg = site
    with Store.open(cfg.db_path) as s:
        keep(cfg, s, ids["9001"], "raw", b'{"finding":{"id":1,"name":"\\u5317\\u7406\\u5de5"}}', ".json",
             content_type="application/json")
        keep(cfg, s, ids["9001"], "avatar", screenshot_png("avatar"), ".png", content_type="image/png")
    login(client, "xcb")
    page = client.get(f"/findings/{ids['9001']}").text
    assert '{\n  &#34;finding&#34;: {\n    &#34;id&#34;: 1,\n    &#34;name&#34;: &#34;北理工&#34;' in page
    assert 'alt="疑似仿冒账号的头像"' in page and 'src="/logo/0"' in page
    logo = client.get("/logo/0")
    assert logo.status_code == 200 and logo.headers["content-type"] == "image/png"
    assert client.get("/logo/5").status_code == 404


def test_the_scan_page_says_when_no_daemon_is_running(site):  # noqa: F811
    client, ids, cfg = site
    token = login(client, "xcb")
    r = client.post("/scans", data={"mode": "all", "platform": "", "csrf_token": token})
    assert r.status_code == 200 and "没有正在运行的监测服务" in r.text and "watcher scan" in r.text


@pytest.mark.parametrize("path", ["/logo/0"])
def test_the_emblem_needs_a_login(site, path):  # noqa: F811
    client, _, _ = site
    assert client.get(path, follow_redirects=False).status_code == 303


def test_dashboard_chart_of_findings_per_day_by_kind(site):  # noqa: F811
    from datetime import UTC, datetime

    from watcher.web import charts

    client, ids, cfg = site
    login(client, "xcb")
    page = client.get("/").text
    assert '<svg class="chart"' in page and "最近 14 天每日发现" in page
    assert "疑似仿冒账号" in page.split('<svg class="chart"')[1].split("</svg>")[0]
    assert "<script" not in page and "style=" not in page  # the CSP allows neither
    # counted by the local day: 23:30 UTC on the 19th is the 20th in China
    series = charts.per_day([SimpleNamespace(created_at="2026-11-19T23:30:00+00:00", kind="edit"),
                             SimpleNamespace(created_at="2026-11-20T01:00:00+00:00", kind="edit"),
                             SimpleNamespace(created_at="2026-11-18T01:00:00+00:00", kind="deletion")],
                            datetime(2026, 11, 20, tzinfo=UTC).date(), days=3)
    assert [(d.isoformat(), dict(c)) for d, c in series] == [
        ("2026-11-18", {"deletion": 1}), ("2026-11-19", {}), ("2026-11-20", {"edit": 2})]


def _many(cfg, n: int) -> list[int]:
    with Store.open(cfg.db_path) as s:
        return [record(s, FindingInput(kind="sentiment", dedupe_key=f"sentiment:weibo:{i}", title=f"舆情第{i:03d}条",
                                       platform="weibo", account_id="1891724861")).id for i in range(n)]


def test_findings_pages_sorting_and_date_range(site):  # noqa: F811
    client, ids, cfg = site
    _many(cfg, 60)
    login(client, "xcb")
    first = client.get("/findings?kind=sentiment&sort=created&order=asc").text
    assert "共 60 条，第 1/2 页" in first and "舆情第000条" in first and "舆情第059条" not in first
    second = client.get("/findings?kind=sentiment&sort=created&order=asc&page=2").text
    assert "舆情第059条" in second and "舆情第000条" not in second and "上一页" in second
    assert "没有符合条件的发现" in client.get("/findings?kind=sentiment&until=2020-01-01").text
    assert "共 60 条" in client.get("/findings?kind=sentiment&since=2020-01-01").text
    assert "日期 &#39;yesterday&#39; 无效" in client.get("/findings?since=yesterday").text


def test_bulk_decision_changes_only_what_fits(site):  # noqa: F811
    client, ids, cfg = site
    token = login(client, "xcb")
    r = client.post("/findings/bulk", data={"ids": [str(ids["edit"]), str(ids["9001"])], "action": "confirm",
                                             "comment": "批量", "csrf_token": token, "back": "kind="})
    assert r.status_code == 200 and "已记录：确认仿冒，共 1 条" in r.text and f"#{ids['edit']}" in r.text
    with Store.open(cfg.db_path) as s:
        assert s.one("SELECT status FROM findings WHERE id = ?", [ids["9001"]])["status"] == "confirmed"
        assert s.one("SELECT status FROM findings WHERE id = ?", [ids["edit"]])["status"] == "open"
    r = client.post("/findings/bulk", data={"ids": [str(ids["edit"])], "action": "resolved", "csrf_token": token})
    assert "已记录：已解决，共 1 条" in r.text
    assert client.post("/findings/bulk", data={"ids": [str(ids["edit"])], "action": "resolved"}).status_code == 403


def test_export_to_xlsx_is_the_listed_selection(site):  # noqa: F811
    import io

    from openpyxl import load_workbook

    client, ids, cfg = site
    _many(cfg, 3)
    login(client, "xcb")
    r = client.get("/findings/export.xlsx?kind=sentiment")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert rows[0][:4] == ("编号", "类型", "严重程度", "标题") and "北京时间" in rows[0][9]
    assert len(rows) == 4 and {row[1] for row in rows[1:]} == {"舆情关注"}


def test_name_rules_are_listed_and_removable(site):  # noqa: F811
    from watcher.crawling.discovery import matcher_for
    from watcher.matching import Candidate
    from watcher.web import rules

    client, ids, cfg = site
    with Store.open(cfg.db_path) as s:
        rules.add_rule(s, "allow", "北理工表白墙", "学生自发", "xcb")
        rid = s.scalar("SELECT id FROM name_rules")
        assert matcher_for(cfg, s).match(Candidate("douyin", "x", "北理工表白墙")).verdict == "clear"
    token = login(client, "xcb")
    page = client.get("/rules").text
    assert "北理工表白墙" in page and f'action="/rules/{rid}/remove"' in page and "北京工业大学" in page  # config others
    r = client.post(f"/rules/{rid}/remove", data={"csrf_token": token})
    assert r.status_code == 200 and "已从白名单移除「北理工表白墙」" in r.text
    with Store.open(cfg.db_path) as s:
        assert matcher_for(cfg, s).match(Candidate("douyin", "x", "北理工表白墙")).verdict == "suspect"
        assert s.one("SELECT action FROM audit_log WHERE target = ?", [f"rule:{rid}"])["action"] == "移除名单"


def test_registry_record_page_shows_every_field_and_the_history(site):  # noqa: F811
    client, ids, cfg = site
    token = login(client, "xcb")
    r = client.post("/registry/weibo/1891724861/change", data={"field": "account_name", "value": "北京理工大学官微",
                                                               "filed_date": "2026-11-20", "csrf_token": token})
    assert r.status_code == 200
    page = client.get("/registry/weibo/1891724861").text
    for label in ("账号类型", "用途", "开设日期", "负责人办公电话", "运营人邮箱", "粉丝数", "备案日期", "最近年审日期"):
        assert f"<th>{label}</th>" in page, label
    assert "010-68910000" in page and "变更备案" in page and "北京理工大学官微" in page and "2026-11-20" in page
    assert client.get("/registry/weibo/nope").status_code == 404
    assert 'href="/registry/weibo/1891724861"' in client.get("/registry").text


def test_registry_import_and_export_through_the_site(site):  # noqa: F811
    import io

    from openpyxl import load_workbook

    client, ids, cfg = site
    token = login(client, "xcb")
    exported = client.get("/registry/export.xlsx")
    assert exported.status_code == 200
    rows = list(load_workbook(io.BytesIO(exported.content)).active.iter_rows(values_only=True))
    assert rows[0][0] == "平台" and len(rows) > 5
    bad = "平台,账号名称,账号ID,开设单位,级别\n脸书,某号,1,党委宣传部,一级\n微博,新号,77,党委宣传部,四级\n".encode()
    r = client.post("/registry/import", data={"csrf_token": token}, files={"file": ("台账.csv", bad, "text/csv")})
    assert r.status_code == 200 and "台账.csv：发现 2 处错误" in r.text and "第 2 行" in r.text and "第 3 行" in r.text
    good = "平台,账号名称,账号ID,开设单位,级别\n微博,北理工新号,7788,党委宣传部,一级\n".encode()
    r = client.post("/registry/import", data={"csrf_token": token}, files={"file": ("新台账.csv", good, "text/csv")})
    assert "已导入 新台账.csv：新增 1 条" in r.text
    assert "北理工新号" in client.get("/registry?q=7788").text
    r = client.post("/registry/import", data={"csrf_token": token}, files={"file": ("x.xlsx", b"PK\x03\x04no", "application/zip")})
    assert "无法读取该 XLSX 文件" in r.text


def test_a_findings_alert_deliveries_read_in_chinese(site):  # noqa: F811
    from datetime import UTC, datetime

    from alerts import dispatch

    client, ids, cfg = site
    with Store.open(cfg.db_path) as s:
        assert dispatch.plan(cfg, s, datetime.now(UTC)) > 0
        central = next(u for u in cfg.units if u.central)
    login(client, "xcb")
    page = client.get(f"/findings/{ids['9001']}").text
    table = page[page.index("<h2>告警发送</h2>"):]
    assert central.name in table and "邮件（第 1 个渠道）" in table and "待发送" in table
    assert f"{central.id}/0:email" not in table and ">pending<" not in table


def test_closing_an_account_asks_first_names_it_and_a_central_reviewer_can_undo_it(site):  # noqa: F811
    client, ids, cfg = site
    token = login(client, "xcb")
    listed = client.get("/registry").text
    assert 'action="/registry/weibo/1891724861/close"' not in listed  # no one-click 注销 on the list
    ask = client.get("/registry/weibo/1891724861/close").text
    assert "确定要注销 <strong>微博「北京理工大学」（账号ID 1891724861，党委宣传部）</strong> 吗？" in ask
    # a post without the confirmation only leads to the question
    r = client.post("/registry/weibo/1891724861/close", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("/registry/weibo/1891724861/close")
    with Store.open(cfg.db_path) as s:
        assert s.scalar("SELECT status FROM registry_accounts WHERE account_id = '1891724861'") == "active"
    r = client.post("/registry/weibo/1891724861/close", data={"csrf_token": token, "confirm": "yes", "note": "误点"})
    assert "已注销微博「北京理工大学」（账号ID 1891724861，党委宣传部）" in r.text and "撤销注销" in r.text
    r = client.post("/registry/weibo/1891724861/reopen", data={"csrf_token": token, "note": "误操作"})
    assert "已撤销注销：微博「北京理工大学」（账号ID 1891724861，党委宣传部）恢复为在用" in r.text
    history = r.text[r.text.index("<h2>备案记录</h2>"):]
    assert "<td>注销</td>" in history and "<td>撤销注销</td>" in history and "<td>在用</td>" in history
    assert "active" not in history and "closed" not in history
    with Store.open(cfg.db_path) as s:
        assert s.scalar("SELECT status FROM registry_accounts WHERE account_id = '1891724861'") == "active"
    audit = client.get("/audit").text
    assert "撤销注销" in audit and "说明：误操作" in audit and "{" not in audit.split("<h2>其他操作</h2>")[1]
    # a unit reviewer can neither close nor undo
    with Store.open(cfg.db_path) as s:
        from tests.web_helpers import PASSWORD
        from watcher.web import auth

        auth.add_user(s, "unit1", PASSWORD, "unit", "计算机学院")
    other = TestClient(create_app(cfg))
    unit_token = login(other, "unit1")
    assert other.post("/registry/weibo/1891724861/reopen", data={"csrf_token": unit_token}).status_code == 403


def test_registry_page_filters_and_pages(site):  # noqa: F811
    from watcher import registry as reg

    client, ids, cfg = site
    login(client, "xcb")
    with Store.open(cfg.db_path) as s:
        for i in range(130):
            reg.add_account(s, reg.RegistryRecord(platform="zhihu", account_name=f"北理工测试号{i}",
                                                  account_id=f"t{i:03d}", unit="研究生院", tier=3))
    first = client.get("/registry?platform=zhihu").text
    assert "共 131 个账号，第 1/2 页" in first  # the example registry's one Zhihu account and ours
    assert first.count("<tr><td>知乎</td>") == 100 and 'href="/registry?platform=zhihu&amp;status=active&amp;page=2"' in first
    second = client.get("/registry?platform=zhihu&status=active&page=2").text
    assert "第 2/2 页" in second and second.count("<tr><td>知乎</td>") == 31
    closed = client.get("/registry?status=closed").text
    assert "北理工招生" in closed and "北理工测试号" not in closed
    assert "<option value=\"unit\">开设单位</option>" in client.get("/registry").text  # field names in words


def test_a_sentiment_finding_shows_its_score_in_words_and_offers_no_name_list(site):  # noqa: F811
    client, ids, cfg = site
    token = login(client, "xcb")
    with Store.open(cfg.db_path) as s:
        rec = record(s, FindingInput(kind="sentiment", dedupe_key="sentiment:cluster:99", title="舆情关注（食堂）：饭菜太差",
                                     severity="warning", details={"reasons": ["负面（得分 -2.0）：太差"], "score": -2.0,
                                                                  "text": "饭菜太差", "negative": True}))
    page = client.get(f"/findings/{rec.id}").text
    assert "匹配分数" not in page and "命中「」" not in page and "情感得分" in page and "-2.0" in page
    assert "加入白名单" not in page
    r = client.post(f"/findings/{rec.id}/decide", data={"csrf_token": token, "action": "false_positive", "rule": "allow"})
    assert r.status_code == 400 and "不涉及账号名称" in r.text


def test_bulk_decision_for_the_page_or_every_finding_the_filter_matches(site):  # noqa: F811
    import re

    client, ids, cfg = site
    _many(cfg, 120)
    token = login(client, "xcb")
    page = client.get("/findings?kind=sentiment").text
    assert "本页全部 50 条" in page and "全部符合筛选条件的 120 条（所有页）" in page
    page_ids = re.findall(r'name="page_ids" value="(\d+)"', page)
    assert len(page_ids) == 50
    r = client.post("/findings/bulk", data={"scope": "page", "page_ids": page_ids, "action": "resolved",
                                             "csrf_token": token, "back": "kind=sentiment"})
    assert "已记录：已解决，共 50 条" in r.text and "共 70 条" in r.text  # the list shows what is left
    # every finding the filter matches: the count the page showed must still hold
    stale = client.post("/findings/bulk", data={"scope": "all", "expected": "120", "action": "resolved",
                                                 "csrf_token": token, "back": "kind=sentiment"})
    assert "已变为 70 条（页面显示时为 120 条）" in stale.text
    r = client.post("/findings/bulk", data={"scope": "all", "expected": "70", "action": "false_positive",
                                             "csrf_token": token, "back": "kind=sentiment"})
    assert "已记录：标记误报，共 70 条" in r.text
    with Store.open(cfg.db_path) as s:
        counts = dict(s.conn.execute("SELECT status, COUNT(*) FROM findings WHERE kind = 'sentiment' GROUP BY status").fetchall())
        assert counts == {"resolved": 50, "false_positive": 70}
        # the other kinds were not touched
        assert s.one("SELECT status FROM findings WHERE id = ?", [ids["9001"]])["status"] == "open"


def test_an_unknown_page_or_method_is_said_in_chinese(site):  # noqa: F811
    client, ids, cfg = site
    login(client, "xcb")
    for path, words in (("/nosuch", "没有这个页面"), ("/scans", "不能这样打开这个地址")):
        r = client.get(path)
        assert r.status_code in (404, 405) and words in r.text and "Not Found" not in r.text, r.text
        assert "Method Not Allowed" not in r.text
