"""The 报表 page and the annual review form of the registry page, through HTTP."""

from __future__ import annotations

import io
from datetime import date

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from tests.report_helpers import seed_year
from tests.web_helpers import PASSWORD, csrf
from watcher import registry as reg
from watcher.reports import calendar
from watcher.store import Store, reviews
from watcher.web import auth
from watcher.web.app import create_app


@pytest.fixture
def site(cfg):
    with Store.open(cfg.db_path) as store:
        seed_year(store)
        auth.add_user(store, "xcb", PASSWORD, "central")
        auth.add_user(store, "cs", PASSWORD, "unit", "计算机学院")
    return TestClient(create_app(cfg)), cfg


def login(client, username):
    token = csrf(client.get("/login").text)
    r = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token, "next": "/"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    return csrf(client.get("/registry").text)


def test_central_records_a_review_on_the_registry_page_with_audit(site):
    client, cfg = site
    token = login(client, "xcb")
    today = calendar.local_today()
    year = today.year if today >= date(today.year, 11, 20) else today.year - 1  # notice_on 11-20
    page = client.get("/registry").text
    assert f"{year} 年审" in page and 'action="/registry/weibo/B1/review"' in page
    r = client.post("/registry/weibo/B1/review", data={"csrf_token": token, "year": "2025", "status": "rectify",
                                                       "reviewed_date": "2025-12-28", "note": "一个月内整改"},
                    follow_redirects=False)
    assert r.status_code == 303
    assert "已记录「计院微博」2025 年审：限期整改" in client.get("/registry").text
    with Store.open(cfg.db_path) as store:
        rid = reg.find_account(store, "weibo", "B1").id
        rv = reviews.get_review(store, rid, 2025)
        audit = store.one("SELECT * FROM audit_log WHERE action = '年审状态'")
    assert (rv.status, rv.reviewed_date, rv.note, rv.actor) == ("rectify", "2025-12-28", "一个月内整改", "xcb")
    assert audit["actor"] == "xcb" and audit["target"] == "weibo:B1" and "限期整改" in audit["details"]
    bad = client.post("/registry/weibo/B1/review", data={"csrf_token": token, "year": "2025", "status": "优秀"})
    assert "年审状态 &#39;优秀&#39; 无法识别" in bad.text
    # without the CSRF token: refused
    assert client.post("/registry/weibo/B1/review", data={"year": "2025", "status": "passed"}).status_code == 403


def test_unit_user_sees_status_but_cannot_set_it_nor_open_reports(site):
    client, _ = site
    token = login(client, "cs")
    page = client.get("/registry").text
    assert "review-form" not in page and "未提交" in page
    r = client.post("/registry/weibo/B1/review", data={"csrf_token": token, "year": "2025", "status": "passed"})
    assert r.status_code == 403
    assert client.get("/reports").status_code == 403
    assert client.get("/reports/annual?year=2025&format=xlsx").status_code == 403


def test_reports_page_generates_downloads(site):
    client, _ = site
    login(client, "xcb")
    assert "年度年审报告" in client.get("/reports").text
    x = client.get("/reports/annual?year=2025&format=xlsx")
    assert x.status_code == 200 and "attachment" in x.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(x.content))
    assert wb.sheetnames == ["汇总", "党委宣传部", "计算机学院"]
    h = client.get("/reports/annual?year=2025&format=html")
    # under the site's CSP: stylesheet from /static, no inline style or script, charts as SVG
    assert 'href="/static/report.css"' in h.text and "<style" not in h.text and h.text.count("<svg") == 4
    assert "script-src 'self'" in h.headers["content-security-policy"]
    a = client.get("/reports/assess?start=2025-01-01&end=2025-06-30&format=html")
    assert a.status_code == 200 and "表彰" in a.text and "计算机学院" in a.text
    lb = client.get("/reports/leaderboard?kind=month&day=2025-04-02&format=xlsx")
    assert lb.status_code == 200 and "单位榜" in load_workbook(io.BytesIO(lb.content)).sheetnames
    assert client.get("/reports/assess?start=2025-13-01&end=2025-06-30").status_code == 400
    assert client.get("/reports/annual?year=2025&format=doc").status_code == 400
