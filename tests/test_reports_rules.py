"""The rules a reviewer signs under (issue #28): dormancy's boundary day, local dates on a server
in another zone, closed accounts, platforms that do not show a count, lost followers, a small
school, and PDF text that copies as the characters people search for."""

from __future__ import annotations

import math
import time
from datetime import UTC, date, datetime

import pikepdf
import pytest

from watcher import dormancy, timefmt
from watcher import registry as reg
from watcher.reports import annual, assess, pdftext
from watcher.store import Store
from watcher.store.findings import list_findings
from watcher.watch.filings import check_dormant
from watcher.web.publish import publish

YEAR_END = date(2025, 12, 31)


def _accounts(store: Store, rows: list[tuple[str, str, str, str]]) -> None:
    """rows: (platform, account id, name, unit)."""
    reg.import_records(store, [reg.RegistryRecord(platform=p, account_id=i, account_name=n, unit=u, tier=2,
                                                  registered_date="2024-01-01") for p, i, n, u in rows])


def _post(store: Store, platform: str, account: str, pid: str, created: str, reposts=None, comments=None,
          likes=None) -> None:
    with store.transaction():
        store.conn.execute("""INSERT INTO posts (platform, post_id, account_id, text, created_at, reposts, comments,
                              likes, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                           [platform, pid, account, "正文", created, reposts, comments, likes, created, created])


def _followers(store: Store, platform: str, account: str, taken: str, followers: int) -> None:
    with store.transaction():
        store.conn.execute("INSERT INTO profile_snapshots (platform, account_id, taken_at, followers) VALUES (?, ?, ?, ?)",
                           [platform, account, taken, followers])


# -- dormancy: more than 180 days, the boundary day is not dormant -------------------------------------


def test_the_rule_itself():
    assert not dormancy.is_dormant(180, 180) and dormancy.is_dormant(181, 180)
    assert not dormancy.is_dormant(None, 180)  # never seen posting: no evidence either way
    # days are counted between local days: 23:30 on 2 July (China) is 2 July although UTC says 15:30
    assert dormancy.idle_days(datetime.fromisoformat("2025-07-03T23:30:00+08:00"), YEAR_END) == 181


@pytest.mark.parametrize("last_post, dormant", [
    ("2025-07-04T09:00:00+08:00", False),   # 180 days before 31 December: the boundary day
    ("2025-07-03T09:00:00+08:00", True),    # 181 days
    # 2 July 23:00 UTC is 3 July 07:00 in China: 181 days, not 182 as the UTC date would say
    ("2025-07-02T23:00:00+00:00", True),
    ("2025-07-03T16:30:00+00:00", False),   # 4 July 00:30 in China: 180 days
])
def test_boundary_day_in_report_assessment_and_check_alike(cfg, store, last_post, dormant):
    _accounts(store, [("weibo", "Z1", "团委微博", "团委"), ("weibo", "Z2", "校报微博", "党委宣传部")])
    _post(store, "weibo", "Z1", "z1", last_post, 0, 0, 0)
    _post(store, "weibo", "Z2", "z2", "2025-12-01T09:00:00+08:00", 5, 5, 5)
    r = annual.build(cfg, store, 2025, today=date(2026, 1, 10))
    assert ([f.account.account_id for f in r.dormant] == ["Z1"]) is dormant
    a = assess.build(cfg, store, date(2025, 7, 1), YEAR_END, today=date(2026, 1, 10))
    z1 = next(s for s in a.accounts if s.figures.account.account_id == "Z1")
    # the 通报 and the 扣分项 come from the same rule, without waiting for the hourly check's finding
    assert list_findings(store, kind="dormant") == []
    assert (z1.problems == 1) is dormant
    assert any("僵尸账号" in reason for u in a.flagged for reason in u.reasons) is dormant
    assert (check_dormant(cfg, store, today=YEAR_END) == 1) is dormant


def test_a_dormant_finding_is_not_counted_twice(cfg, store):
    _accounts(store, [("weibo", "Z1", "团委微博", "团委")])
    _post(store, "weibo", "Z1", "z1", "2025-01-02T09:00:00+08:00", 1, 1, 1)
    assert check_dormant(cfg, store, today=YEAR_END) == 1
    finding = list_findings(store, kind="dormant")[0]
    assert finding.details["idle_days_at_detection"] == 363 and "已 363 天未更新" in finding.details["reasons"][0]
    with store.transaction():  # recorded inside the assessed period
        store.conn.execute("UPDATE findings SET created_at = ?", ["2025-12-31T01:00:00+00:00"])
    a = assess.build(cfg, store, date(2025, 7, 1), YEAR_END, today=date(2026, 1, 10))
    assert a.accounts[0].problems == 1


# -- dates people read: the configured zone, whatever the server's clock says ------------------------------

# 17:00 UTC on 7 December: 09:00 on the 7th in Los Angeles, where the server runs; already 01:00 on
# the 8th in Beijing, where the department reads the dates.
NOW = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)


@pytest.fixture
def server_in_los_angeles(monkeypatch):
    class Clock(datetime):
        @classmethod
        def now(cls, tz=None):
            return NOW if tz is None else NOW.astimezone(tz)

    monkeypatch.setenv("TZ", "America/Los_Angeles")
    time.tzset()
    monkeypatch.setattr(timefmt, "datetime", Clock)
    yield
    monkeypatch.undo()
    time.tzset()


def test_dates_default_to_the_configured_zone_on_a_server_elsewhere(cfg, store, tmp_path, server_in_los_angeles):
    assert timefmt.local_today() == date(2026, 12, 8)
    _accounts(store, [("weibo", "C1", "旧账号", "团委"), ("weibo", "C2", "新账号", "团委")])
    reg.import_records(store, [reg.RegistryRecord(platform="weibo", account_id="C3", account_name="又一个",
                                                  unit="团委", tier=2)])
    reg.file_change(store, "weibo", "C2", "purpose", "团学新闻")
    reg.close_account(store, "weibo", "C1")
    ids = {a.account_id: a.id for a in reg.list_accounts(store)}
    assert reg.find_account(store, "weibo", "C1").closed_date == "2026-12-08"
    filed = {(f.kind, f.filed_date) for f in reg.filings_for(store, ids["C2"])}
    assert ("change", "2026-12-08") in filed
    assert [f.filed_date for f in reg.filings_for(store, ids["C3"]) if f.kind == "register"] == ["2026-12-08"]
    # the public page: the closing day is not after the page's own date
    publish(cfg, store, tmp_path / "pub")
    page = (tmp_path / "pub" / "index.html").read_text(encoding="utf-8")
    assert "更新日期：2026-12-08" in page and "已注销（2026-12-08）" in page
    # dormancy counted to Beijing's today: a post on 10 June (China) is 181 days old on 8 December
    _post(store, "weibo", "C2", "c2", "2026-06-10T08:00:00+08:00")
    assert check_dormant(cfg, store) == 1


def test_local_date_of_stored_times():
    assert timefmt.local_date("2026-06-30T20:00:00+00:00") == date(2026, 7, 1)   # UTC, stored by us
    assert timefmt.local_date("2026-07-01 07:30") == date(2026, 7, 1)            # platform, no offset
    assert timefmt.local_today(datetime(2026, 12, 31, 16, 0, tzinfo=UTC)) == date(2027, 1, 1)


# -- closed accounts, platforms without a count, lost followers -----------------------------------------------


def test_closed_account_never_reads_not_submitted(cfg, store):
    _accounts(store, [("weibo", "K1", "已停用", "团委")])
    reg.close_account(store, "weibo", "K1", closed_date="2025-03-01")
    r = annual.build(cfg, store, 2025, today=date(2026, 1, 10))
    row = dict(zip(annual.ACCOUNT_COLUMNS, annual.account_row(r.accounts[0]), strict=True))
    assert row["状态"] == "已注销" and row["年审状态"] == "不适用（已注销）"
    assert r.not_submitted == [] and "未提交" not in annual.render_html(r).split("<h2>未提交年审材料的单位</h2>")[1][:80]


def test_bilibili_competes_only_on_what_it_shows(cfg, store):
    _accounts(store, [("weibo", "W1", "校团委微博", "团委"), ("bilibili", "B1", "校团委B站", "团委"),
                      ("weibo", "W2", "学院微博", "计算机学院")])
    _post(store, "weibo", "W1", "w1", "2025-03-01T10:00:00+08:00", 10, 20, 300)
    _post(store, "weibo", "W2", "w2", "2025-03-02T10:00:00+08:00", 1, 2, 3)
    _post(store, "weibo", "W2", "w3", "2025-03-03T10:00:00+08:00", 1, 2, 3)
    _post(store, "bilibili", "B1", "BV1", "2025-03-04T02:00:00+00:00", None, 40, None)
    for acc, platform, first, last in (("W1", "weibo", 1000, 1200), ("B1", "bilibili", 5000, 5100),
                                       ("W2", "weibo", 800, 500)):
        _followers(store, platform, acc, "2025-01-15T00:00:00+00:00", first)
        _followers(store, platform, acc, "2025-03-20T00:00:00+00:00", last)
    a = assess.build(cfg, store, date(2025, 1, 1), date(2025, 3, 31), today=date(2026, 1, 10))
    s = {x.figures.account.account_id: x for x in a.accounts}
    b1 = s["B1"]
    # reposts and likes are not on Bilibili's video list: neither 0 nor part of its score
    assert set(b1.values) == {"posts", "followers", "growth", "comments"}
    row = dict(zip(assess.ACCOUNT_COLUMNS, assess.account_row(b1), strict=True))
    assert row["转发"] == row["点赞"] == "未观测（不计分）" and row["评论"] == 40
    w = cfg.review.weights.as_dict()
    n = {"posts": 100 * math.log(2) / math.log(3), "followers": 100.0, "growth": 100 * math.log(101) / math.log(201),
         "comments": 100.0}
    expected = sum(w[k] * v for k, v in n.items()) / sum(w[k] for k in n)
    assert b1.score == pytest.approx(expected)
    assert any(line.startswith("哔哩哔哩：平台不显示转发、点赞") for line in assess.method_lines(a))
    # a unit's account that lost 300 followers: shown as −300, scored as 0, dated from the first observation
    w2 = dict(zip(assess.ACCOUNT_COLUMNS, assess.account_row(s["W2"]), strict=True))
    assert (w2["期末粉丝"], w2["粉丝增长"], w2["粉丝观测日期"]) == (500, -300, "2025-01-15 至 2025-03-20")
    assert s["W2"].values["growth"] == 0 and s["W2"].normalized["growth"] == 0


def test_not_observed_is_not_zero(cfg, store):
    _accounts(store, [("weibo", "N1", "无快照", "团委"), ("weibo", "N2", "有快照", "团委")])
    _post(store, "weibo", "N1", "n1", "2025-05-01T10:00:00+08:00", None, None, None)  # counts hidden
    _followers(store, "weibo", "N2", "2025-02-01T00:00:00+00:00", 700)
    a = assess.build(cfg, store, date(2025, 1, 1), date(2025, 6, 30), today=date(2026, 1, 10))
    rows = {x.figures.account.account_id: dict(zip(assess.ACCOUNT_COLUMNS, assess.account_row(x), strict=True))
            for x in a.accounts}
    assert (rows["N1"]["期末粉丝"], rows["N1"]["粉丝增长"], rows["N1"]["转发"]) == ("未观测", "未观测", "未观测")
    # one observation: the count is known, its growth is not
    assert (rows["N2"]["期末粉丝"], rows["N2"]["粉丝增长"], rows["N2"]["粉丝观测日期"]) == (700, "未观测", "2025-02-01（仅一次）")
    assert rows["N2"]["发帖数"] == 0 and rows["N2"]["转发"] == 0  # no posts: truly none
    html = assess.render_html(a)
    assert "未观测" in html


# -- a small school: the least active are the least active --------------------------------------------------


def test_least_active_of_a_small_school(cfg, store):
    posts = [30, 25, 20, 18, 15, 12, 10, 8, 5, 2, 0]  # eleven accounts in use
    _accounts(store, [("weibo", f"S{i:02d}", f"账号{i:02d}", "团委") for i in range(len(posts))])
    for i, n in enumerate(posts):
        for k in range(n):
            _post(store, "weibo", f"S{i:02d}", f"S{i:02d}-{k}", f"2025-{k % 12 + 1:02d}-10T10:00:00+08:00", 1, 1, 1)
    r = annual.build(cfg, store, 2025, today=date(2026, 1, 10))
    most, least = annual.most_and_least_active(r)
    # a quarter of 11, rounded up: three each, least active first, no account on both lists
    assert [f.account.account_id for f in most] == ["S00", "S01", "S02"]
    assert [f.account.account_id for f in least] == ["S10", "S09", "S08"]
    assert [f.posts for f in least] == [0, 2, 5]
    one = annual.AnnualReport(year=2025, school="x", generated=datetime.now(UTC), dormant_days=180,
                              accounts=r.accounts[:1], units=[])
    assert annual.most_and_least_active(one) == (r.accounts[:1], [])


# -- the PDF's text: normal CJK code points ---------------------------------------------------------------------


def _pdf_with_radicals(path):
    """A one-line PDF whose font maps its glyphs to ⼯ (Kangxi radical) and ⻓ (radical supplement),
    as chromium writes a page set in Noto Sans CJK."""
    pdf = pikepdf.new()
    cmap = (b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n1 begincodespacerange\n<0000> <FFFF>\n"
            b"endcodespacerange\n2 beginbfchar\n<0001> <5317>\n<0002> <2F2F>\nendbfchar\n"
            b"1 beginbfrange\n<0003> <0004> [<2ED3> <2F24>]\nendbfrange\nendcmap end end\n")
    cid = pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.CIDFontType2, BaseFont=pikepdf.Name("/X"),
                             CIDSystemInfo=pikepdf.Dictionary(Registry="Adobe", Ordering="Identity", Supplement=0),
                             FontDescriptor=pdf.make_indirect(pikepdf.Dictionary(
                                 Type=pikepdf.Name.FontDescriptor, FontName=pikepdf.Name("/X"), Flags=4,
                                 FontBBox=[0, 0, 1000, 1000], ItalicAngle=0, Ascent=880, Descent=-120,
                                 CapHeight=700, StemV=80)))
    font = pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type0, BaseFont=pikepdf.Name("/X"),
        Encoding=pikepdf.Name("/Identity-H"), DescendantFonts=[pdf.make_indirect(cid)],
        ToUnicode=pdf.make_stream(cmap)))
    page = pikepdf.Page(pikepdf.Dictionary(Type=pikepdf.Name.Page, MediaBox=[0, 0, 300, 100],
                                           Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))))
    page.obj.Contents = pdf.make_stream(b"BT /F1 20 Tf 10 40 Td <0001000200030004> Tj ET")
    pdf.pages.append(page)
    pdf.save(path)


def test_pdf_text_maps_radicals_to_the_ideographs(tmp_path):
    from pdfminer.high_level import extract_text

    path = tmp_path / "r.pdf"
    _pdf_with_radicals(path)
    assert extract_text(str(path)).strip() == "北⼯⻓⼤"
    assert pdftext.fix_text_mapping(path) == 3
    assert extract_text(str(path)).strip() == "北工长大"
    assert pdftext.fix_text_mapping(path) == 0  # nothing left to repair
    assert pdftext.normal("北京理⼯⼤学 ⾸次 ⽣成 增⻓ ⼾") == "北京理工大学 首次 生成 增长 户"
