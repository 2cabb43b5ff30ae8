"""Annual report and assessment: every figure checked against a hand computation of the seeded
year (tests/report_helpers.py)."""

from __future__ import annotations

import math
from datetime import date

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from tests.report_helpers import seed_year
from watcher.cli import main_group
from watcher.reports import annual, assess

TODAY = date(2026, 1, 10)


@pytest.fixture
def seeded(cfg, store):
    seed_year(store)
    return cfg, store


def _by_id(report):
    return {f.account.account_id: f for f in report.accounts}


def test_annual_figures_per_account(seeded):
    cfg, store = seeded
    r = annual.build(cfg, store, 2025, today=TODAY)
    f = _by_id(r)
    assert set(f) == {"A1", "A2", "B1", "B2"}  # B2 closed in June 2025: still part of 2025
    a1, a2, b1, b2 = f["A1"], f["A2"], f["B1"], f["B2"]
    # A1: p1 (07:30 on 1 January, China time), p2, p3 (23:30 on 31 December); not p0 (2024) nor p4 (2026)
    assert (a1.posts, a1.reposts, a1.comments, a1.likes) == (3, 10 + 20 + 0, 5 + 10 + 0, 100 + 200 + 30)
    assert (a1.per_post(a1.reposts), a1.per_post(a1.comments), a1.per_post(a1.likes)) == (10, 5, 110)
    assert a1.days_since_post == 0  # last post on 31 December
    # followers: the first snapshot inside the year (1 June), not the one of 20 December 2024, to the
    # last one before the year ends (30 December; the one at 01:00 on 1 January China time is 2026's)
    assert (a1.followers_start, a1.followers_end, a1.growth) == (1500, 2000, 500)
    assert (a1.followers_start_on, a1.followers_end_on) == (date(2025, 6, 1), date(2025, 12, 30))
    assert a1.filings == 1 and a1.unfiled == 0
    assert dict(a1.findings) == {"deletion": 1, "edit": 2}  # the edit at 01:00 on 1 January counts
    assert a1.review.label == "合格" and a1.review.reviewed_date == "2025-12-20"
    assert dict(a1.monthly_posts) == {"2025-01": 1, "2025-03": 1, "2025-12": 1}
    # A2 (WeChat): one post, the platform shows no counts: not observed, which is not 0
    assert a2.posts == 1 and [a2.metric(m) for m in ("reposts", "comments", "likes")] == [None, None, None]
    assert a2.per_post(a2.metric("likes")) is None
    # 1 May → 31 December = 244 days: dormant
    assert a2.days_since_post == (date(2025, 12, 31) - date(2025, 5, 1)).days == 244
    assert a2.dormant(cfg.watch.dormant_days)
    assert (a2.followers_start, a2.followers_end, a2.growth, a2.growth_rate) == (None, None, None, None)
    assert dict(a2.findings) == {"dormant": 1} and a2.review.label == "限期整改"
    # B1: three posts; first snapshot of the year is the start; the 2024 filing does not count
    assert (b1.posts, b1.reposts, b1.comments, b1.likes) == (3, 4, 6, 18)
    assert b1.days_since_post == (date(2025, 12, 31) - date(2025, 11, 1)).days == 60
    assert (b1.followers_start, b1.followers_end, b1.growth, b1.growth_rate) == (500, 450, -50, -0.1)
    assert b1.filings == 1 and b1.unfiled == 1 and dict(b1.findings) == {"unfiled_change": 1}
    assert b1.review is None and annual.review_label(b1) == "未提交"
    # B2: closed (the close filing is its 2025 filing); its 2024 snapshot is the last count known at the
    # end of 2025 (dated 2024), but no count was observed in 2025: growth not observed, not 0
    assert b2.account.status == "closed" and b2.posts == 0 and b2.filings == 1
    assert (b2.followers_start, b2.followers_end, b2.followers_end_on, b2.growth) == (None, 300, date(2024, 1, 1), None)
    assert annual.review_label(b2) == "不适用（已注销）"  # a closed account owes no review: never 未提交
    assert b2.days_since_post == (date(2025, 12, 31) - date(2024, 6, 1)).days


def test_annual_units_and_lists(seeded):
    cfg, store = seeded
    r = annual.build(cfg, store, 2025, today=TODAY)
    units = {u.unit: u for u in r.units}
    a, b = units["党委宣传部"], units["计算机学院"]
    assert (a.accounts, a.active, a.closed, dict(a.reviews)) == (2, 2, 0, {"合格": 1, "限期整改": 1})
    assert (a.posts, a.followers_end, a.growth, a.reposts, a.comments, a.likes) == (4, 2000, 500, 30, 15, 330)
    assert (a.findings, a.unfiled, a.dormant) == (4, 0, 1)
    assert (b.accounts, b.active, b.closed, dict(b.reviews)) == (2, 1, 1, {"未提交": 1})
    assert (b.posts, b.followers_end, b.growth, b.reposts, b.comments, b.likes) == (3, 750, -50, 4, 6, 18)
    assert (b.findings, b.unfiled, b.dormant) == (1, 1, 0)
    assert [u.unit for u in r.not_submitted] == ["计算机学院"]
    assert [u.unit for u in r.failing_units] == ["党委宣传部"]
    assert [f.account.account_id for f in r.dormant] == ["A2"]  # B2 is closed: not listed to close again
    t = r.total
    assert (t.accounts, t.posts, t.growth, t.likes, t.findings) == (4, 7, 450, 348, 5)
    # three accounts in use: the top and bottom quarter are one account each
    most, least = annual.most_and_least_active(r)
    assert ([f.account.account_id for f in most], [f.account.account_id for f in least]) == (["A1"], ["A2"])


def test_annual_cli_writes_xlsx_html(seeded, config_path, tmp_path):
    out = tmp_path / "out"
    res = CliRunner().invoke(main_group, ["report", "annual", "--year", "2025", "--out", str(out), "--no-pdf",
                                          "--config", str(config_path)])
    assert res.exit_code == 0, res.output
    assert "4 个账号（2 个单位），发帖 7，粉丝净增长 450，未提交年审的单位 1 个，僵尸账号 1 个" in res.output
    wb = load_workbook(out / "年度报告-2025.xlsx")
    assert wb.sheetnames == ["汇总", "党委宣传部", "计算机学院"]
    summary = list(wb["汇总"].iter_rows(values_only=True))
    at = next(i for i, row in enumerate(summary) if row[0] == "开设单位")
    assert any("正好 180 天不算" in str(row[0]) for row in summary[:at])  # the rule, stated in the report
    header = summary[at]
    rows = {row[0]: dict(zip(header, row, strict=True)) for row in summary[at + 1:]}
    assert rows["计算机学院"]["年审：未提交"] == 1 and rows["计算机学院"]["粉丝增长合计"] == -50
    assert rows["全校合计"]["发帖数"] == 7 and rows["全校合计"]["点赞"] == 348
    sheet = list(wb["党委宣传部"].iter_rows(values_only=True))
    acc = {row[2]: dict(zip(sheet[0], row, strict=True)) for row in sheet[1:]}
    assert acc["A1"]["年审状态"] == "合格" and acc["A1"]["发现：帖子被修改"] == 2 and acc["A1"]["篇均点赞"] == 110
    assert acc["A1"]["粉丝增长率"] == 0.3333 and acc["A2"]["距最近发帖天数"] == 244
    assert acc["A1"]["首次观测日期"] == "2025-06-01" and acc["A1"]["末次观测日期"] == "2025-12-30"
    assert (acc["A2"]["首次观测粉丝"], acc["A2"]["点赞"], acc["A2"]["篇均点赞"]) == ("未观测", "未观测", "未观测")
    html = (out / "年度报告-2025.html").read_text(encoding="utf-8")
    assert (out / "report.css").is_file() and "<style" not in html and "<script" not in html
    assert html.count("<svg") == 4 and "各单位每月发帖数" in html and "僵尸账号（建议注销）" in html
    # charts name an account with its platform: a school's accounts often share one name across platforms
    assert "微博·北理工微博" in html and "微信公众号·北理工公众号" in html and "微博·计院微博" in html
    assert "不适用（已注销）" in html and "未观测" in html
    # nothing personal in a report meant for circulation
    assert "13800000001" not in html and "张明" not in html


def _n(x, top):  # the log scale of watcher.reports.assess, written out
    return 100 * math.log(1 + x) / math.log(1 + top)


def test_assessment_full_year_scores_flags(seeded):
    cfg, store = seeded
    r = assess.build(cfg, store, date(2025, 1, 1), date(2025, 12, 31), today=TODAY)
    s = {a.figures.account.account_id: a for a in r.accounts}
    assert set(s) == {"A1", "A2", "B1"}  # B2 is closed
    # best of the table: posts 3, followers 2000, growth 1000, reposts 30, comments 15, likes 330 — all A1's
    assert s["A1"].score == pytest.approx(100.0) and s["A1"].problems == 0
    # A2 (WeChat shows no followers or counts): scored on posts alone, one of the best three; dormant by
    # the rule: one 扣分项 (its hourly-check finding is the same fact, not counted twice)
    assert s["A2"].values == {"posts": 1} and s["A2"].problems == 1
    assert s["A2"].score == pytest.approx(_n(1, 3) - 5) == pytest.approx(45)
    # B1: followers 450 (growth −50 counts as 0), reposts 4, comments 6, likes 18; one unfiled change
    b1 = (0.25 * 100 + 0.15 * _n(450, 2000) + 0.15 * 0 + 0.15 * _n(4, 30) + 0.15 * _n(6, 15)
          + 0.15 * _n(18, 330)) - 5
    assert s["B1"].score == pytest.approx(b1)
    assert [a.figures.account.account_id for a in r.accounts] == ["A1", "B1", "A2"]
    units = {u.unit: u for u in r.units}
    assert units["党委宣传部"].score == pytest.approx((100 + 45) / 2)
    assert units["计算机学院"].score == pytest.approx(b1)
    assert units["党委宣传部"].reasons == ["微信公众号「北理工公众号」 244 天未更新（僵尸账号）",
                                      "微信公众号「北理工公众号」 2025 年审限期整改"]
    assert units["计算机学院"].reasons == ["微博「计院微博」 有 1 项变更未按时备案"]
    assert r.commended == []


def test_assessment_first_half_commends_and_weights_come_from_config(seeded):
    cfg, store = seeded
    r = assess.build(cfg, store, date(2025, 1, 1), date(2025, 6, 30), today=TODAY)
    s = {a.figures.account.account_id: a for a in r.accounts}
    # H1 best: posts 2, followers 1500 (A1 on 1 June), growth 500, reposts 30, comments 15, likes 300
    # one snapshot each in the half year: growth not observed (scored 0), not a growth of 0
    assert s["A1"].values == {"posts": 2, "followers": 1500, "growth": 0, "reposts": 30, "comments": 15,
                              "likes": 300}
    assert s["A1"].shown["growth"] is None and assess.account_row(s["A1"])[10] == "2025-06-01（仅一次）"
    assert s["B1"].values == {"posts": 2, "followers": 500, "growth": 0, "reposts": 4, "comments": 6, "likes": 8}
    b1 = 0.25 * 100 + 0.15 * _n(500, 1500) + 0.15 * _n(4, 30) + 0.15 * _n(6, 15) + 0.15 * _n(8, 300)
    assert s["B1"].score == pytest.approx(b1) and b1 > 60
    assert s["A2"].score == pytest.approx(_n(1, 2))
    units = {u.unit: u for u in r.units}
    assert units["党委宣传部"].reasons == ["微信公众号「北理工公众号」 2025 年审限期整改"]  # 60 days idle: not dormant
    assert [u.unit for u in r.commended] == ["计算机学院"]
    # only posts count: B1 equals A1
    cfg.review.weights = cfg.review.weights.model_copy(update={"followers": 0, "growth": 0, "reposts": 0,
                                                               "comments": 0, "likes": 0})
    r = assess.build(cfg, store, date(2025, 1, 1), date(2025, 6, 30), today=TODAY)
    assert {a.figures.account.account_id: round(a.score, 6) for a in r.accounts} == {
        "A1": 100.0, "B1": 100.0, "A2": round(_n(1, 2), 6)}


def test_assessment_cli_and_unit_filter(seeded, config_path, tmp_path):
    out = tmp_path / "a"
    res = CliRunner().invoke(main_group, ["report", "assess", "--from", "2025-01-01", "--to", "2025-12-31",
                                          "--unit", "计算机学院", "--out", str(out), "--config", str(config_path)])
    assert res.exit_code == 0, res.output
    assert "1. 计算机学院" in res.output and "通报 1 个单位，表彰 0 个单位" in res.output
    wb = load_workbook(out / "考核-2025-01-01-2025-12-31-计算机学院.xlsx")
    assert wb.sheetnames == ["账号排名", "单位排名", "通报", "表彰", "计分方法"]
    rows = list(wb["账号排名"].iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][2] == "计院微博" and rows[1][-1] == 85.0 - 5
    # alone it is the best of its table in all but growth, which nobody has (0 of weight 0.15); one unfiled change
    bad = CliRunner().invoke(main_group, ["report", "assess", "--from", "2025-13-01", "--to", "2025-12-31",
                                          "--config", str(config_path)])
    assert bad.exit_code == 2 and "不是日期" in bad.output


@pytest.mark.parametrize("review, message", [
    ({"weights": {"posts": 0, "followers": 0, "growth": 0, "reposts": 0, "comments": 0, "likes": 0}},
     "考核权重之和必须大于 0"),
    ({"deadline": "02-30"}, "应为“月-日”"),
    ({"report_address": "打电话"}, "应为 http(s):// 网址或邮箱地址"),
    ({"weights": {"views": 1}}, "未知的键"),
])
def test_review_config_errors_are_chinese(tmp_path, review, message):
    from tests.conftest import write_config
    from watcher.config import ConfigError, load_config

    with pytest.raises(ConfigError) as e:
        load_config(write_config(tmp_path, review=review))
    assert message in e.value.render()


def test_annual_cli_refuses_an_impossible_year(config_path):
    res = CliRunner().invoke(main_group, ["report", "annual", "--year", "1999", "--no-pdf", "--config", str(config_path)])
    assert res.exit_code == 2 and "年度 1999 超出范围" in res.output
