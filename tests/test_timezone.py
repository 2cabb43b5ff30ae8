"""One time zone for people (config ``timezone``, Asia/Shanghai by default); storage stays UTC."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime

import pytest
from click.testing import CliRunner
from loguru import logger

from tests.conftest import write_config
from watcher import timefmt
from watcher.cli import main_group
from watcher.config import ConfigError, load_config
from watcher.logs import setup_logging
from watcher.store import Store
from watcher.web import auth

STORED = "2026-11-20T02:00:00+00:00"


def test_default_is_china_time_named_as_such(cfg):
    assert cfg.timezone == "Asia/Shanghai"
    assert timefmt.local_time(STORED) == "2026-11-20 10:00"
    assert timefmt.local_time_zoned(STORED) == "2026-11-20 10:00（北京时间）"
    assert timefmt.local_time("") == "" and timefmt.local_time("2026-11-20") == "2026-11-20 00:00"


def test_a_configured_zone_is_used_wherever_a_time_is_shown(tmp_path):
    cfg = load_config(write_config(tmp_path, timezone="Asia/Tokyo"))
    assert timefmt.local_time(STORED) == "2026-11-20 11:00"
    assert timefmt.local_time_zoned(STORED) == "2026-11-20 11:00（Asia/Tokyo）"
    with Store.open(cfg.db_path) as store:
        auth.add_user(store, "xcb", "a-long-enough-password", "central")
        created = store.scalar("SELECT created_at FROM users")
    assert created.endswith("+00:00")  # storage stays UTC
    shown = CliRunner().invoke(main_group, ["users", "list", "-c", str(cfg.source)])
    assert shown.exit_code == 0 and timefmt.local_time(created) in shown.output
    assert "宣传部复核员" in shown.output and "central" not in shown.output


def test_an_unknown_zone_is_refused_at_check_time(tmp_path):
    with pytest.raises(ConfigError) as e:
        load_config(write_config(tmp_path, timezone="Mars/Olympus"))
    assert any(line.startswith("timezone:") and "未知的时区" in line for line in e.value.errors), e.value.errors


def test_log_lines_carry_the_configured_zones_time(tmp_path):
    cfg = load_config(write_config(tmp_path, timezone="America/New_York"))
    setup_logging(cfg.logging)
    out = io.StringIO()
    sink = logger.add(out, format="{extra[local]} {message}")
    try:
        before = datetime.now(UTC)
        logger.info("时区测试")
    finally:
        logger.remove(sink)
    line = out.getvalue().strip()
    stamp = re.match(r"(\d{4}-\d\d-\d\d \d\d:\d\d):\d\d 时区测试", line)
    assert stamp, line
    assert stamp.group(1) in {timefmt.local_time(before), timefmt.local_time(datetime.now(UTC))}


def test_apschedulers_warnings_are_said_in_chinese(tmp_path):
    import logging

    setup_logging()
    out = io.StringIO()
    sink = logger.add(out, format="{message}")
    try:
        log = logging.getLogger("apscheduler.scheduler")
        log.warning('Execution of job "watch" skipped: maximum number of running instances reached (1)')
        logging.getLogger("apscheduler.executors.default").warning(
            'Run time of job "%s" was missed by %s', "微博仿冒发现 (trigger: interval[6:00:00], next run at: "
            "2026-12-07 18:00:00 CST)", "0:06:05.123")
    finally:
        logger.remove(sink)
    text = out.getvalue()
    assert "maximum number" not in text and "was missed" not in text and "trigger" not in text
    assert "定时任务「微博仿冒发现」比计划时间晚了 0:06:05" in text


def test_briefs_and_reports_count_days_and_show_times_in_the_configured_zone(tmp_path):
    """A complaint posted at 15:30 UTC on 9 March is 00:30 on 10 March in Tokyo (23:30 on the
    9th in Beijing): with ``timezone: Asia/Tokyo`` the brief counts it on the 10th and every
    report names the zone it speaks in."""
    from watcher.opinion import brief
    from watcher.reports import annual, assess
    from watcher.sentiment import analyze

    cfg = load_config(write_config(tmp_path, timezone="Asia/Tokyo"))
    posted = datetime(2026, 3, 9, 15, 30, tzinfo=UTC).isoformat()
    with Store.open(cfg.db_path) as store:
        store.db["posts"].insert({"platform": "weibo", "post_id": "t1", "account_id": "u1", "status": "live",
                                  "text": "北理工宿舍停电三天了没人管，报修也没用", "created_at": posted,
                                  "first_seen": posted, "last_seen": posted})
        analyze(cfg, store, now=datetime(2026, 3, 10, 0, tzinfo=UTC))
        tenth = brief.build(store, date(2026, 3, 10), date(2026, 3, 10), "daily")
        ninth = brief.build(store, date(2026, 3, 9), date(2026, 3, 9), "daily")
        assert (tenth.counts, ninth.total) == ({("2026-03-10", "weibo"): 1}, 0)
        assert [c.size for c in tenth.clusters] == [1] and ninth.clusters == []
        pages = {"brief": brief.render_html(tenth, cfg),
                 "annual": annual.render_html(annual.build(cfg, store, 2026, today=date(2026, 3, 10))),
                 "assess": assess.render_html(assess.build(cfg, store, date(2026, 3, 1), date(2026, 3, 10),
                                                           today=date(2026, 3, 10)))}
    for what, page in pages.items():
        assert "Asia/Tokyo" in page and "北京时间" not in page, what
    assert f"生成于 {timefmt.local_time(tenth.generated_at)}（Asia/Tokyo）" in pages["brief"]


def test_the_web_servers_lines_are_said_in_chinese():
    import logging

    setup_logging()
    out = io.StringIO()
    sink = logger.add(out, format="{message}")
    try:
        log = logging.getLogger("uvicorn.error")
        log.info("Started server process [%d]", 42)
        log.info("Waiting for application startup.")
        log.info("Uvicorn running on %s://%s:%d (Press CTRL+C to quit)", "http", "127.0.0.1", 8000)
        log.error(OSError(98, "error while attempting to bind on address ('127.0.0.1', 8000): address already in use"))
    finally:
        logger.remove(sink)
    lines = out.getvalue().splitlines()
    assert lines == ["网站：复核网站已启动：http://127.0.0.1:8000",
                     "网站：无法在 127.0.0.1:8000 上启动复核网站：端口已被占用（请停止占用它的程序，或在配置的 web.port 换一个端口）"]
