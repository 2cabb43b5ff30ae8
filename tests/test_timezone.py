"""One time zone for people (config ``timezone``, Asia/Shanghai by default); storage stays UTC."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

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


def test_apschedulers_skipped_run_warnings_are_gone(tmp_path):
    import logging

    setup_logging()
    out = io.StringIO()
    sink = logger.add(out, format="{message}")
    try:
        log = logging.getLogger("apscheduler.scheduler")
        log.warning('Execution of job "watch" skipped: maximum number of running instances reached (1)')
        log.warning('Run time of job "watch" was missed by 0:00:05')
    finally:
        logger.remove(sink)
    assert "maximum number" not in out.getvalue() and "was missed by" in out.getvalue()
