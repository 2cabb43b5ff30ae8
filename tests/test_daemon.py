"""The daemon as systemd runs it: a subprocess, stopped by SIGTERM, reloaded by SIGHUP."""

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import write_config


def _start(config_path, tmp_path):
    log = open(tmp_path / "daemon.log", "w+")  # noqa: SIM115 - read while the daemon writes it
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("NOTIFY_SOCKET", None)
    proc = subprocess.Popen([sys.executable, "-m", "watcher", "run", "--config", str(config_path)],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    return proc, log


def _wait_for(log, text, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log.seek(0)
        content = log.read()
        if text in content:
            return content
        time.sleep(0.1)
    log.seek(0)
    pytest.fail(f"daemon never logged {text!r}:\n{log.read()}")


def test_sigterm_stops_cleanly(tmp_path):
    config_path = write_config(tmp_path / "c")
    proc, log = _start(config_path, tmp_path)
    try:
        _wait_for(log, "已启动")
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert time.monotonic() - t0 < 10
        assert "已停止" in _wait_for(log, "已停止")
    finally:
        proc.kill()


def test_sighup_with_broken_config_keeps_running(tmp_path):
    config_path = write_config(tmp_path / "c")
    proc, log = _start(config_path, tmp_path)
    try:
        _wait_for(log, "已启动")
        good = config_path.read_text(encoding="utf-8")
        config_path.write_text(good.replace("crawl_concurrency: 2", "crawl_concurrency: lots"), encoding="utf-8")
        proc.send_signal(signal.SIGHUP)
        out = _wait_for(log, "重新加载配置失败")
        assert "schedule.crawl_concurrency" in out
        time.sleep(0.5)
        assert proc.poll() is None
        config_path.write_text(good, encoding="utf-8")
        proc.send_signal(signal.SIGHUP)
        _wait_for(log, "配置已重新加载")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()


def test_first_start_imports_registry(tmp_path):
    from watcher.config import load_config
    from watcher.store import Store

    config_path = write_config(tmp_path / "c")
    proc, log = _start(config_path, tmp_path)
    try:
        _wait_for(log, "已启动")
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    finally:
        proc.kill()
    with Store.open(load_config(config_path).db_path) as s:
        assert s.scalar("SELECT COUNT(*) FROM registry_accounts") == 9


def test_notifies_systemd_ready_and_watchdog(tmp_path):
    import socket

    sock_path = str(tmp_path / "notify.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(sock_path)
    server.settimeout(20)
    config_path = write_config(tmp_path / "c")
    log = open(tmp_path / "d.log", "w+")  # noqa: SIM115 - read while the daemon writes it
    env = {**os.environ, "NOTIFY_SOCKET": sock_path, "WATCHDOG_USEC": "1000000"}
    env.pop("WATCHDOG_PID", None)
    proc = subprocess.Popen([sys.executable, "-m", "watcher", "run", "--config", str(config_path)],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        seen = set()
        while not {"READY=1", "WATCHDOG=1"} <= seen:
            seen.update(server.recv(4096).decode().splitlines())
        proc.send_signal(signal.SIGTERM)
        while "STOPPING=1" not in seen:
            seen.update(server.recv(4096).decode().splitlines())
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        server.close()


def test_a_watch_round_that_overruns_its_interval_is_said_once_with_a_workable_interval(tmp_path):
    """The skipped run is logged (in words, with the round and a workable interval), once per
    round, however many minute polls it skips."""
    from datetime import UTC, datetime, timedelta

    from apscheduler.events import EVENT_JOB_MAX_INSTANCES, JobSubmissionEvent
    from loguru import logger

    from spiders.base import Target
    from watcher.config import load_config
    from watcher.daemon import Daemon
    from watcher.rounds import records
    from watcher.store import Store

    path = write_config(tmp_path / "c", platforms={"weibo": {"enabled": True}}, schedule={"watch_every": "10m"})
    cfg = load_config(path)
    daemon = Daemon(path, cfg)
    with Store.open(cfg.db_path) as s:
        daemon.prepare_store()  # imports the registry
        rid, _ = records.open_round(s, "weibo", "timeline", [Target.for_mode("timeline", "1"), Target.for_mode("timeline", "2")])
        s.conn.execute("UPDATE crawl_rounds SET started_at = ? WHERE id = ?",
                       [(datetime.now(UTC) - timedelta(minutes=25)).isoformat(), rid])
    lines: list[str] = []
    sink = logger.add(lines.append, level="WARNING", format="{message}")
    try:
        for _ in range(3):
            daemon.skipped(JobSubmissionEvent(EVENT_JOB_MAX_INSTANCES, "watch:weibo", "default", [datetime.now(UTC)]))
    finally:
        logger.remove(sink)
    said = [line for line in lines if "下一轮已到期" in line]
    assert len(said) == 1, lines
    assert f"本轮 #{rid} 已进行 25 分钟（完成 0/2）" in said[0] and "巡检间隔 10 分钟" in said[0]
    assert "可行的巡检间隔约为" in said[0]
