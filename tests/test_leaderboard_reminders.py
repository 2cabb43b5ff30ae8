"""Influence index and leaderboards (hand-computed), and the annual review mail."""

from __future__ import annotations

import math
from datetime import date

import pytest
from openpyxl import load_workbook

from alerts.channels import DeliveryError
from tests.report_helpers import seed_year
from watcher.reports import influence, reminders
from watcher.schedule import collect
from watcher.store import reviews

TODAY = date(2026, 1, 10)
ln = math.log


def e(re, c, lk):
    return 0.30 * ln(re + 1) + 0.30 * ln(c + 1) + 0.40 * ln(lk + 1)


@pytest.mark.parametrize("kind, day, first, last", [
    ("week", date(2025, 3, 19), date(2025, 3, 10), date(2025, 3, 16)),   # a Wednesday: the week before
    ("week", date(2025, 3, 17), date(2025, 3, 10), date(2025, 3, 16)),   # a Monday: the week just ended
    ("month", date(2025, 4, 2), date(2025, 3, 1), date(2025, 3, 31)),
    ("month", date(2025, 1, 1), date(2024, 12, 1), date(2024, 12, 31)),
])
def test_leaderboard_periods(kind, day, first, last):
    p = influence.period_for(kind, day)
    assert (p.first, p.last) == (first, last)


def test_monthly_board_by_hand(cfg, store, tmp_path):
    seed_year(store)
    b = influence.build(cfg, store, "month", date(2025, 4, 2), today=TODAY)  # March 2025, 31 days
    weibo = b.platforms["weibo"]
    assert [x.figures.account.account_id for x in weibo] == ["A1", "B1"]
    a1, b1 = weibo
    # A1 in March: one post (20 reposts, 10 comments, 200 likes); 1000 followers before and after, no growth
    a1_parts = {"O": e(20 / 31, 10 / 31, 200 / 31), "A": e(20, 10, 200), "P": e(20, 10, 200), "V": ln(1 + 10 / 31),
                "F": 0.5 * ln(1001) + 0.5 * ln(1)}
    assert a1.parts == pytest.approx(a1_parts)
    a1_index = (0.5 * a1_parts["O"] + 0.2 * a1_parts["A"] + 0.1 * a1_parts["P"] + 0.1 * a1_parts["V"]
                + 0.1 * a1_parts["F"]) ** 2 * 10
    assert a1.index == pytest.approx(a1_index)
    # B1 in March: no post; 500 followers (its first snapshot, 1 March) at both ends
    assert b1.index == pytest.approx((0.1 * 0.5 * ln(501)) ** 2 * 10)
    # WeChat: A2 posted nothing in March and the platform shows no counts or followers
    assert b.platforms["wechat"][0].index == 0
    assert b.missing == {"weibo": [], "wechat": ["转发", "评论", "点赞", "粉丝数"]}
    # the unit board spans platforms on each platform's own scale (its best = 100): A1 is Weibo's best
    # (100), A2 WeChat's only account with index 0 (0); B1 is 100 × its index ÷ A1's
    assert b.units == [("党委宣传部", pytest.approx(50.0), 2),
                       ("计算机学院", pytest.approx(100 * b1.index / a1_index), 1)]
    influence.write_xlsx(b, tmp_path / "m.xlsx")
    wb = load_workbook(tmp_path / "m.xlsx")
    assert wb.sheetnames == ["单位榜", "微博", "微信公众号", "计算方法"]
    assert wb["微博"]["O2"].value == round(a1_index, 2)
    html = influence.render_html(b)
    assert "清博指数 WCI V14.2" in html and "本期未观测到：转发、评论、点赞、粉丝数" in html
    assert "相对值 = 100 × 指数 ÷ 本平台第一名的指数" in html
    # WeChat shows no counts: 未观测 in its row, not 0
    assert wb["微信公众号"]["E2"].value == "未观测" and wb["微信公众号"]["H2"].value == "未观测"


class FakeSender:
    def __init__(self, fail: bool = False):
        self.sent: list[tuple[list[str], str, str]] = []
        self.fail = fail

    def send(self, ch, msg):
        if self.fail:
            raise DeliveryError("SMTP 发送失败：连接被拒绝")
        self.sent.append((ch.to, msg.title, msg.text))
        return "SMTP 已接收"


def test_review_notice_then_weekly_reminders_once_each(cfg, store):
    seed_year(store)
    s = FakeSender()
    assert reminders.review_mail(cfg, store, date(2025, 11, 19), s) == {"notices": 0, "reminders": 0}
    assert reminders.review_mail(cfg, store, date(2025, 11, 20), s) == {"notices": 2, "reminders": 0}
    to = {title.split("】")[1].split(" ")[0]: (rcpt, text) for rcpt, title, text in s.sent}
    assert to["计算机学院"][0] == ["cs-news@example.edu.cn"] and to["党委宣传部"][0] == ["xcb@example.edu.cn"]
    assert "2025-12-31 前对以下 1 个账号" in to["计算机学院"][1] and "微博「计院微博」（B1）：未提交" in to["计算机学院"][1]
    assert "北理工公众号" in to["党委宣传部"][1] and "计院抖音" not in to["计算机学院"][1]  # closed: nothing to review
    assert reminders.review_mail(cfg, store, date(2025, 11, 21), s)["notices"] == 0  # once
    assert reminders.review_mail(cfg, store, date(2025, 11, 24), s)["reminders"] == 0  # Monday, but < a week after
    s.sent.clear()
    assert reminders.review_mail(cfg, store, date(2025, 12, 1), s) == {"notices": 0, "reminders": 1}
    assert reminders.review_mail(cfg, store, date(2025, 12, 1), s)["reminders"] == 0
    (rcpt, title, text), = s.sent
    assert rcpt == ["cs-news@example.edu.cn"] and "尚有 1 个账号未提交 2025 年度年审材料" in title
    # the unit submits: no more reminders
    rid = store.one("SELECT id FROM registry_accounts WHERE account_id = 'B1'")["id"]
    reviews.set_review(store, rid, 2025, "submitted")
    assert reminders.review_mail(cfg, store, date(2025, 12, 8), s)["reminders"] == 0
    reviews.set_review(store, rid, 2025, "pending")
    assert reminders.review_mail(cfg, store, date(2026, 1, 5), s)["reminders"] == 1  # late: still reminded
    assert "已逾期" in s.sent[-1][2]
    assert reminders.review_mail(cfg, store, date(2026, 2, 2), s)["reminders"] == 0  # four weeks past: stop


def test_a_failed_mail_is_tried_again_and_the_job_is_registered(cfg, store):
    seed_year(store)
    assert reminders.review_mail(cfg, store, date(2025, 11, 20), FakeSender(fail=True))["notices"] == 0
    assert reminders.review_mail(cfg, store, date(2025, 11, 21), FakeSender())["notices"] == 2
    assert any(j.id == "review-mail" and j.cron == {"hour": 9, "minute": 5} for j in collect(cfg))


def test_monday_leaderboard_mail_to_central(cfg, store):
    seed_year(store)
    s = FakeSender()
    assert not reminders.leaderboard_mail(cfg, store, date(2025, 3, 17), s)  # off by default
    cfg.review.leaderboard_mail = True
    assert not reminders.leaderboard_mail(cfg, store, date(2025, 3, 18), s)  # a Tuesday
    assert reminders.leaderboard_mail(cfg, store, date(2025, 3, 17), s)
    assert not reminders.leaderboard_mail(cfg, store, date(2025, 3, 17), s)  # once
    (rcpt, title, text), = s.sent
    assert rcpt == ["xcb@example.edu.cn"] and "周榜（2025-03-10 至 2025-03-16）" in title
    assert "1. 北理工微博（党委宣传部）" in text and "/reports" in text


def test_leaderboard_cli(cfg, store, config_path, tmp_path):
    from click.testing import CliRunner

    from watcher.cli import main_group

    seed_year(store)
    res = CliRunner().invoke(main_group, ["report", "leaderboard", "--kind", "month", "--date", "2025-04-02",
                                          "--out", str(tmp_path), "--config", str(config_path)])
    assert res.exit_code == 0, res.output
    assert "月榜（2025-03-01 至 2025-03-31）" in res.output and "1. 北理工微博（党委宣传部）" in res.output
    assert (tmp_path / "月榜-2025-03-01-2025-03-31.xlsx").is_file()
    assert (tmp_path / "月榜-2025-03-01-2025-03-31.html").is_file() and (tmp_path / "report.css").is_file()
    bad = CliRunner().invoke(main_group, ["report", "leaderboard", "--kind", "year", "--config", str(config_path)])
    assert bad.exit_code == 2 and "Traceback" not in bad.output
