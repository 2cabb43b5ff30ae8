"""The 舆情日报: produced from stored clusters and leads, HTML screenshotted in chromium, XLSX opened
with openpyxl, sent once as an HTML mail with the XLSX attached; ``watcher report sentiment``."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import yaml
from aiosmtpd.controller import Controller
from click.testing import CliRunner
from openpyxl import load_workbook

from alerts import brief as brief_job
from tests.alerts_helpers import free_port
from tests.test_sentiment_clusters import _post, _reposts
from watcher.cli.common import main_group
from watcher.config import load_config
from watcher.findings import FindingInput, record
from watcher.opinion import brief
from watcher.sentiment import analyze
from watcher.watch.evidence import CHROMIUM, CHROMIUM_ARGS

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)  # 20:00 on 2026-03-10 in China


class RawSink:
    def __init__(self) -> None:
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def _seed(store, cfg):
    store.db["posts"].insert_all(_reposts(50) + [
        _post(900, "北理工宿舍停电三天了没人管，报修也没用", 26 * 60, "bilibili"),
        _post(901, "北理工图书馆今天开放到晚上十点", 27 * 60)])
    analyze(cfg, store, now=NOW - timedelta(days=1))
    analyze(cfg, store, now=NOW)
    lead = record(store, FindingInput(kind="impersonation", dedupe_key="imp:weibo:66", title="疑似仿冒：北理工招生办",
                               severity="critical", platform="weibo", account_id="6600000002",
                               account_name="北理工招生办", details={"profile_url": "https://m.weibo.cn/u/6600000002"}))
    store.db["findings"].update(lead.id, {"created_at": (NOW - timedelta(hours=3)).isoformat()})  # found that day


def test_the_brief_counts_days_platforms_clusters_and_leads(store, cfg):
    _seed(store, cfg)
    b = brief.build(store, date(2026, 3, 9), date(2026, 3, 10), "custom")
    assert b.days == ["2026-03-09", "2026-03-10"]
    assert b.counts[("2026-03-10", "weibo")] == 45 and b.counts[("2026-03-10", "douyin")] == 5
    assert b.counts[("2026-03-09", "bilibili")] == 1 and b.counts[("2026-03-09", "weibo")] == 1  # China days
    assert [c.size for c in b.clusters] == [50, 1]           # the negative ones, biggest first
    assert [lead.account_name for lead in b.leads] == ["北理工招生办"]
    svg = brief.chart_svg(b)
    assert svg.startswith("<svg") and "<script" not in svg and "微博 46" in svg and "03-09" in svg
    with pytest.raises(ValueError, match="早于"):
        brief.build(store, date(2026, 3, 10), date(2026, 3, 9))


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium (/usr/bin/chromium) not installed")
@pytest.mark.parametrize("kind, start, name, title, clusters, header, total", [
    ("daily", date(2026, 3, 10), "sentiment-daily-2026-03-10.html", "舆情日报（2026-03-10）", 1,
     ("日期", "微博", "抖音", "合计"), ("合计", 45, 5, 50)),
    ("weekly", date(2026, 3, 4), "sentiment-weekly-2026-03-04_2026-03-10.html", "舆情周报（2026-03-04 至 2026-03-10）", 2,
     ("日期", "微博", "哔哩哔哩", "抖音", "合计"), ("合计", 46, 1, 5, 52)),
])
def test_brief_html_renders_in_chromium_and_xlsx_opens(store, cfg, tmp_path, kind, start, name, title, clusters,
                                                        header, total):
    from playwright.sync_api import sync_playwright

    _seed(store, cfg)
    b = brief.build(store, start, date(2026, 3, 10), kind)
    html_path, xlsx_path = brief.write_files(b, cfg, tmp_path / "out")
    assert html_path.name == name
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1000, "height": 1400})
        page.goto(html_path.as_uri())
        assert page.locator("h1").inner_text().endswith(title)
        assert page.locator("svg rect").count() >= len(header) - 1   # a bar per platform and day, and the legend
        box = page.locator("svg").bounding_box()
        assert box and box["width"] > 600 and box["height"] > 200
        rows = page.locator("table").first.locator("tr")
        assert rows.count() == 1 + clusters and "50" in rows.nth(1).inner_text()
        leads = page.locator("table").nth(1).locator("tr")
        assert leads.count() == 2 and "北理工招生办" in leads.nth(1).inner_text()
        shot = tmp_path / "brief.png"
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert shot.stat().st_size > 10_000
    wb = load_workbook(xlsx_path)
    assert wb.sheetnames == ["每日提及", "负面簇", "仿冒线索"]
    daily = list(wb["每日提及"].values)
    assert daily[0] == header and daily[-1] == total
    rows = list(wb["负面簇"].values)
    assert len(rows) == 1 + clusters
    assert rows[1][1] == 50 and rows[1][2] == "微博、抖音" and "虫子" in rows[1][5]
    assert list(wb["仿冒线索"].values)[1][3] == "北理工招生办"


def test_daily_brief_is_mailed_once_with_html_and_xlsx(tmp_path):
    from tests.conftest import write_config

    sink = RawSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        path = write_config(tmp_path / "conf", alerts={
            **yaml.safe_load((Path(__file__).parent.parent / "config" / "watcher.example.yaml").read_text(
                encoding="utf-8"))["alerts"],
            "smtp": {"host": "127.0.0.1", "port": controller.port, "security": "none"}})
        cfg = load_config(path)
        from watcher.store import Store

        with Store.open(cfg.db_path) as store:
            _seed(store, cfg)
            monday = datetime(2026, 3, 16, 0, 30, tzinfo=UTC)  # 08:30 on a Monday in China
            written = brief_job.send_due(cfg, store, monday)
            assert [p.name for p in written] == ["sentiment-daily-2026-03-15.html",
                                                 "sentiment-weekly-2026-03-09_2026-03-15.html"]
            assert brief_job.send_due(cfg, store, monday) == written   # written again, not sent again
    finally:
        controller.stop()
    assert len(sink.messages) == 2
    weekly = sink.messages[1]
    assert weekly["Subject"].endswith("舆情周报（2026-03-09 至 2026-03-15）")
    html = weekly.get_body(("html",)).get_content()
    assert "<svg" in html and "虫子" in html
    (attachment,) = list(weekly.iter_attachments())
    assert attachment.get_filename() == "sentiment-weekly-2026-03-09_2026-03-15.xlsx"
    wb = load_workbook(io.BytesIO(attachment.get_content()))
    assert list(wb["负面簇"].values)[1][1] == 50


def test_report_sentiment_command_writes_the_same_files(store, cfg, tmp_path):
    _seed(store, cfg)
    out = tmp_path / "r"
    r = CliRunner().invoke(main_group, ["report", "sentiment", "--from", "2026-03-09", "--to", "2026-03-10",
                                        "--out", str(out), "--config", str(cfg.source)])
    assert r.exit_code == 0, r.output
    assert "提及 52 条，负面簇 2 个，新仿冒线索 1 条" in r.output
    assert (out / "sentiment-custom-2026-03-09_2026-03-10.xlsx").exists()
    bad = CliRunner().invoke(main_group, ["report", "sentiment", "--from", "2026-3-9x", "--to", "2026-03-10",
                                          "--config", str(cfg.source)])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output
