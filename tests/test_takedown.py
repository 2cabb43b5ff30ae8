"""Takedown cases and complaint packs in-process: the web and CLI paths, unit reviewers' view, a
rename that closes a case, a comeback under a new name that reopens it, the figures, the
channel table. The crawl-backed path is tests/test_takedown_e2e.py."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, date, datetime, timedelta

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from spiders import catalog
from spiders.base import Target
from spiders.items import ProfileSnapshot
from tests.test_web import login
from tests.web_helpers import csrf, seed
from watcher import findings
from watcher.cli import main_group
from watcher.reports import annual
from watcher.rounds.analysis import after_target
from watcher.store import Store
from watcher.store import accounts as stored_accounts
from watcher.store import cases as stored_cases
from watcher.store import rounds as stored_rounds
from watcher.store.accounts import Account
from watcher.store.findings import get, list_findings, record
from watcher.takedown import cases, channels, pack
from watcher.web.app import create_app

WEIBO, DOUYIN = "7712345601", "9001"


@pytest.fixture
def site(cfg):
    ids = seed(cfg)
    return TestClient(create_app(cfg)), ids, cfg


def _recheck(store, cfg, platform, account_id, *, status="ok", name=None, bio=""):
    """What a watch round stores and analyses for one account: its run and profile answer."""
    _, runs = stored_rounds.open_round(store, platform, "timeline", [Target.for_mode("timeline", account_id)])
    run_id = runs[account_id]
    with store.transaction():
        stored_accounts.save_snapshot(store, ProfileSnapshot(platform=platform, account_id=account_id, name=name,
                                                             bio=bio, status=status, raw={"name": name}), run_id)
    stored_rounds.close_run(store, run_id, "gone" if status == "gone" else "ok")
    after_target(cfg, store, "timeline", run_id)
    return run_id


def test_reporting_on_the_web_opens_a_case_a_unit_sees_its_own_and_downloads_its_pack(site):
    client, ids, cfg = site
    token = login(client, "xcb")
    r = client.post(f"/findings/{ids[WEIBO]}/decide", data={"action": "reported", "reference": "WB-1",
                                                             "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    token = csrf(client.get(f"/findings/{ids[DOUYIN]}").text)
    client.post(f"/findings/{ids[DOUYIN]}/decide", data={"action": "reported", "reference": "DY-7",
                                                          "csrf_token": token})
    with Store.open(cfg.db_path) as s:
        weibo_case, douyin_case = (stored_cases.for_finding(s, ids[k])[0] for k in (WEIBO, DOUYIN))
        assert (weibo_case.reference, weibo_case.status, weibo_case.reported_by) == ("WB-1", "open", "xcb")
        assert douyin_case.unit == "计算机学院"
    assert "WB-1" in client.get("/cases").text and "北理工计算机学院招生" in client.get("/cases").text
    assert "累计举报 2，已下架 0，仍未下架 2" in client.get("/").text
    assert f"举报案件 <a href=\"/cases/{weibo_case.id}\">#{weibo_case.id}</a>：待下架" in client.get(f"/findings/{ids[WEIBO]}").text

    unit = TestClient(create_app(cfg))
    login(unit, "cs")
    listed = unit.get("/cases").text
    assert "累计举报 1，已下架 0，仍未下架 1" in unit.get("/").text
    assert "北理工计算机学院招生" in listed and "北理工表白墙" not in listed and "WB-1" not in listed
    assert unit.get(f"/cases/{douyin_case.id}").status_code == 200
    assert unit.get(f"/cases/{weibo_case.id}").status_code == 403
    assert unit.get(f"/findings/{ids[WEIBO]}/complaint").status_code == 403
    r = unit.get(f"/findings/{ids[DOUYIN]}/complaint")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        names = z.namelist()
        html = z.read(next(n for n in names if n.endswith(pack.HTML_NAME))).decode()
    assert any(n.endswith("/SHA256SUMS") for n in names) and any("/evidence/" in n for n in names)
    assert "抖音" in html and "冒充他人" in html and "计算机学院" in html
    assert unit.get("/cases/999").status_code == 404


def test_the_pack_escapes_what_the_platform_wrote_and_its_manifest_matches(cfg, store, tmp_path):
    seed(cfg)
    acc = Account.from_row({**store.one("SELECT * FROM accounts WHERE account_id = ?", [WEIBO]),
                            "name": "北理工<script>alert(1)</script>", "bio": "<img src=x onerror=alert(1)>"})
    f = record(store, findings.impersonation(acc, verdict_unit=None, reasons=["名称含本校简称「北理工」"], score=80,
                                             matched="北理工", office=None, algo="t", avatar=None, run_id=None))
    p = pack.build(cfg, store, f.id, tmp_path)
    html = p.html_path.read_text(encoding="utf-8")
    assert "<script>alert" not in html and "&lt;script&gt;" in html and "<img src=x" not in html
    assert pack.verify(p.folder) == []
    (p.folder / pack.TEXT_NAME).write_text("改过", encoding="utf-8")
    assert pack.verify(p.folder) == [pack.TEXT_NAME]
    assert "北京理工大学" in (p.folder / pack.REGISTRY_NAME).read_text(encoding="utf-8")
    with pytest.raises(pack.PackError, match="不是仿冒账号"):
        pack.build(cfg, store, record(store, findings.dormant("weibo", "1", "x", None, last_post="", last_day="",
                                                              idle=1, days=1)).id, tmp_path)


def test_a_rename_away_closes_the_case_and_a_comeback_under_a_new_name_reopens_it(cfg, store):
    ids = seed(cfg)
    f = get(store, ids[WEIBO])
    case_id = cases.report(cfg, store, f, reference="WB-1", actor="xcb",
                           now=(datetime.now(UTC) - timedelta(hours=30)).isoformat())
    _recheck(store, cfg, "weibo", WEIBO, name="北理工表白墙")  # still ours: stays open
    _recheck(store, cfg, "weibo", WEIBO, name=None)  # an answer without a name proves nothing
    assert stored_cases.get(store, case_id).status == "open"
    assert stored_accounts.unanalysed_timeline_runs(store) == []  # a restart's catch-up leaves them alone
    _recheck(store, cfg, "weibo", WEIBO, name="小王的日常")  # renamed away from our names
    c = stored_cases.get(store, case_id)
    assert (c.status, c.outcome, c.outcome_name) == ("removed", "renamed", "小王的日常")
    assert 29.9 < c.hours_to_removal < 30.5 and cases.duration(c.hours_to_removal) == "1 天 6 小时"
    assert get(store, f.id).status == "resolved"
    # the account comes back as 北京理工大学招生办: discovery records it, the sweep reopens the case
    acc = Account.from_row({**store.one("SELECT * FROM accounts WHERE account_id = ?", [WEIBO]),
                            "name": "北京理工大学招生办"})
    record(store, findings.impersonation(acc, verdict_unit=None, reasons=["名称含本校全称「北京理工大学」"], score=98,
                                         matched="北京理工大学", office=None, algo="t", avatar=None, run_id=None))
    reopened = cases.sweep(cfg, store)["reopened"]
    assert len(reopened) == 1
    new = stored_cases.get(store, reopened[0])
    assert new.previous_id == case_id and new.status == "open" and new.account_name == "北京理工大学招生办"
    assert cases.sweep(cfg, store)["reopened"] == []
    assert get(store, f.id).status == "reported"
    # a gone answer closes the new case; a registered account's round is not a case's
    _recheck(store, cfg, "weibo", WEIBO, status="gone")
    assert stored_cases.get(store, new.id).outcome == "gone"
    _recheck(store, cfg, "weibo", "1891724861", name="北京理工大学")
    assert not list_findings(store, kind="takedown_overdue")


def test_a_failed_or_blocked_recheck_proves_nothing(cfg, store):
    ids = seed(cfg)
    case_id = cases.report(cfg, store, get(store, ids[WEIBO]), reference="WB-1", actor="xcb")
    _, runs = stored_rounds.open_round(store, "weibo", "timeline", [Target.for_mode("timeline", WEIBO)])
    stored_rounds.close_run(store, runs[WEIBO], "blocked", "请先登录")
    after_target(cfg, store, "timeline", runs[WEIBO])
    c = stored_cases.get(store, case_id)
    assert c.status == "open" and c.checks == 0


def test_a_case_whose_finding_a_reviewer_closed_otherwise_is_withdrawn_and_not_rechecked(cfg, store):
    ids = seed(cfg)
    f = get(store, ids[WEIBO])
    case_id = cases.report(cfg, store, f, reference="WB-1", actor="xcb", now="2026-11-02T02:00:00+00:00")
    assert cases.recheck_targets(store, "weibo") == [WEIBO]
    findings.set_status(store, f.id, "false_positive", actor="xcb", action="标记误报")
    assert cases.recheck_targets(store, "weibo") == []
    assert cases.sweep(cfg, store) == {"withdrawn": [case_id], "reminded": [], "reopened": []}
    assert stored_cases.get(store, case_id).status == "withdrawn"


def test_the_deadline_counts_working_days_and_the_reminder_is_sent_once(cfg, store):
    ids = seed(cfg)
    # reported on Friday 2026-12-04 (Beijing): 5 working days → Friday 2026-12-11
    case_id = cases.report(cfg, store, get(store, ids[DOUYIN]), reference="DY-1", actor="cs",
                           now="2026-12-04T02:00:00+00:00")
    assert stored_cases.get(store, case_id).deadline == "2026-12-11"
    assert cases.remind(cfg, store, date(2026, 12, 11)) == []
    assert cases.remind(cfg, store, date(2026, 12, 12)) == [case_id]
    assert cases.remind(cfg, store, date(2026, 12, 14)) == []
    (f,) = list_findings(store, kind="takedown_overdue")
    assert f.unit == "计算机学院" and "5 个工作日" in f.title and f.details["reference"] == "DY-1"
    from alerts.routing import route
    assert route(cfg, store, f).copy_central


def test_figures_per_platform_and_month_with_median_and_p90(cfg, store):
    ids = seed(cfg)
    base = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
    hours = [10, 20, 30, 40]
    for i, h in enumerate(hours):
        fid = record(store, findings.impersonation(
            Account.from_row({**store.one("SELECT * FROM accounts WHERE account_id = ?", [WEIBO]),
                              "account_id": f"x{i}", "name": f"北理工招生{i}"}),
            verdict_unit=None, reasons=[], score=90, matched="北理工", office=None, algo="t", avatar=None,
            run_id=None)).id
        cid = cases.report(cfg, store, get(store, fid), reference=str(i), actor="xcb", now=base.isoformat())
        stored_cases.close_removed(store, cid, outcome="gone", name=None, hours=h, note="", run_id=None,
                                   removed_at=(base + timedelta(hours=h)).isoformat())
    cases.report(cfg, store, get(store, ids[DOUYIN]), reference="d", actor="cs", now=base.isoformat())
    rows = {(r.month, r.platform): r for r in cases.figures(store)}
    w = rows[("2026-11", "weibo")]
    assert (w.reported, w.removed, w.still_open, w.median, w.p90) == (4, 4, 0, 25.0, 40)
    assert rows[("2026-11", "douyin")].still_open == 1 and rows[("2026-11", "*")].reported == 5
    assert [r.platform for r in cases.figures(store, unit="计算机学院")] == ["douyin", "*"]
    assert cases.p90([5.0]) == 5.0 and cases.p90([]) is None
    report = annual.build(cfg, store, 2026)
    assert [(x.platform, x.removed) for x in report.takedown] == [("weibo", 4), ("douyin", 0), ("*", 4)]
    html = annual.render_html(report)
    assert "仿冒账号举报与下架" in html and "1 天 1 小时" in html and "1 天 16 小时" in html  # median, P90


def test_cli_report_list_complaint_and_figures(site, tmp_path):
    _, ids, cfg = site
    run = CliRunner().invoke
    c = ["--config", str(cfg.source)]
    r = run(main_group, ["cases", "report", str(ids[WEIBO]), "--reference", "WB-9", *c])
    assert r.exit_code == 0 and "案件 #1" in r.output, r.output
    r = run(main_group, ["cases", "report", str(ids["edit"]), "--reference", "x", *c])
    assert r.exit_code == 1 and "不是可向平台举报的仿冒账号" in r.output and "Traceback" not in r.output
    r = run(main_group, ["cases", "list", *c])
    assert r.exit_code == 0 and "北理工表白墙" in r.output and "已举报，待下架" in r.output
    r = run(main_group, ["cases", "show", "1", *c])
    assert r.exit_code == 0 and "WB-9" in r.output
    r = run(main_group, ["complaint", str(ids[WEIBO]), "--out", str(tmp_path / "o"), "--json", *c])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["category"] == "冒充他人" and out["zip"].endswith(".zip") and out["evidence"]
    r = run(main_group, ["complaint", "999", "--out", str(tmp_path / "o"), *c])
    assert r.exit_code == 1 and "没有编号为 999 的发现" in r.output
    r = run(main_group, ["cases", "figures", "--json", *c])
    assert r.exit_code == 0 and json.loads(r.output)[0]["reported"] == 1


def test_every_platform_has_a_channel_and_fraud_picks_its_category():
    for name in catalog.names():
        ch = channels.channel(name)
        assert ch.categories and ch.path and "冒充" in ch.path + "".join(ch.categories) or "混淆" in ch.path
        assert ch is not channels.FALLBACK or name == "website"
    assert channels.category("wechat", office=False, fraud=False).startswith("混淆他人")
    assert channels.category("weibo", office=False, fraud=True) == "诈骗"
