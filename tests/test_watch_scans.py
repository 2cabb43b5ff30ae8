"""On-demand scans: standalone, through the daemon's queue, and killed -9 mid-way."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from click.testing import CliRunner

from spiders.base import Target
from tests.conftest import write_config
from tests.fakeplatform import FIXTURES, FakePlatform
from watcher import registry
from watcher.cli import main_group
from watcher.config import load_config
from watcher.rounds import scans
from watcher.rounds.engine import run_round
from watcher.rounds.plan import watch_interval
from watcher.store import Store, loads

Q = "100103type=3&q=北理工"


@pytest.fixture
def fake():
    f = FakePlatform(FIXTURES / "weibo")
    f.route("/api/container/getIndex", {"containerid": Q, "page": "1"}, "search_p1.json")
    f.route("/api/container/getIndex", {"containerid": Q, "page": "2"}, "search_p2.json")
    f.route("/api/container/getIndex", {"containerid": Q, "page": "3"}, "search_p3.json")
    f.route("/api/container/getIndex", {"containerid": "100103type=3&q=北京理工大学"}, "search_p3.json")
    with f:
        yield f


def _cfg_path(tmp_path, fake):
    path = write_config(tmp_path / "c", platforms={"weibo": {"enabled": True, "base_url": fake.base_url, "rate": 50,
                                                             "pages": 5, "retries": 0}},
                        school={**load_config(write_config(tmp_path / "x")).school.model_dump(mode="json"),
                                "names": {"full": ["北京理工大学"], "short": ["北理工"]}, "logos": []})
    with Store.open(load_config(path).db_path) as s:
        registry.import_file(s, load_config(path).registry_path)
    return path


def test_standalone_scan_reports_a_summary(tmp_path, fake):
    path = _cfg_path(tmp_path, fake)
    r = CliRunner().invoke(main_group, ["scan", "--discover", "--platform", "weibo", "--config", str(path)])
    assert r.exit_code == 0, r.output
    assert "完成" in r.output and "本次扫描的新发现：疑似仿冒账号 2" in r.output


@pytest.mark.slow
def test_daemon_picks_up_a_queued_scan_within_seconds(tmp_path, fake):
    path = _cfg_path(tmp_path, fake)
    cfg = load_config(path)
    log = open(tmp_path / "d.log", "w+")  # noqa: SIM115 - read while the daemon writes it
    daemon = subprocess.Popen([sys.executable, "-m", "watcher", "run", "--config", str(path)], stdout=log,
                              stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not (cfg.data_path / "daemon.pid").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        t0 = time.monotonic()
        r = subprocess.run([sys.executable, "-m", "watcher", "scan", "--discover", "--platform", "weibo", "--wait",
                            "--config", str(path)], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "守护进程执行" in r.stdout and "完成" in r.stdout
        assert time.monotonic() - t0 < 60
        with Store.open(cfg.db_path) as s:
            req = s.one("SELECT * FROM scan_requests ORDER BY id DESC LIMIT 1")
            assert req["status"] == "done" and loads(req["summary"])["rounds"] == 1
            # the daemon's own start-up discovery and the scan found the same two suspects once
            assert s.scalar("SELECT COUNT(*) FROM findings WHERE kind = 'impersonation'") == 2
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=15)


@pytest.mark.slow
def test_sigkill_mid_scan_then_rerun_leaves_no_duplicate_or_half_written_finding(tmp_path, fake):
    for r in fake.routes:
        r.delay = 1.5  # slow enough to be killed in the middle
    path = _cfg_path(tmp_path, fake)
    cfg = load_config(path)
    proc = subprocess.Popen([sys.executable, "-m", "watcher", "scan", "--discover", "--platform", "weibo",
                             "--config", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with Store.open(cfg.db_path) as s:
            if s.scalar("SELECT COUNT(*) FROM accounts"):
                break
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)  # the whole service, like a power cut
    proc.wait()
    with Store.open(cfg.db_path) as s:
        partial = s.scalar("SELECT COUNT(*) FROM accounts")
        assert 0 < partial < 5
    for r in fake.routes:
        r.delay = 0
    rerun = CliRunner().invoke(main_group, ["scan", "--discover", "--platform", "weibo", "--config", str(path)])
    assert rerun.exit_code == 0, rerun.output
    with Store.open(cfg.db_path) as s:
        assert s.scalar("SELECT COUNT(*) FROM accounts") == 5
        findings = s.query("SELECT * FROM findings WHERE kind = 'impersonation'")
        assert len(findings) == len({f["dedupe_key"] for f in findings}) == 2
        for f in findings:
            details = json.loads(f["details"])
            assert f["title"] and details["reasons"] and details["score"] >= 60
        runs = s.query("SELECT status, reason FROM crawl_runs ORDER BY id")
        assert any(r["status"] == "interrupted" and "强制终止" in r["reason"] for r in runs[:2]), runs
        assert runs[-1]["status"] == "ok"


def test_period_start_raises_cadence_and_stop_restores_it(config_path):
    cfg = load_config(config_path)
    with Store.open(cfg.db_path) as s:
        normal = watch_interval(cfg, s, "weibo")
    r = CliRunner().invoke(main_group, ["period", "start", "两会", "--days", "3", "--cadence", "5m",
                                        "--config", str(config_path)])
    assert r.exit_code == 0, r.output
    with Store.open(cfg.db_path) as s:
        assert watch_interval(cfg, s, "weibo") == 300 < normal
    assert "两会" in CliRunner().invoke(main_group, ["period", "list", "--config", str(config_path)]).output
    r = CliRunner().invoke(main_group, ["period", "stop", "两会", "--config", str(config_path)])
    assert r.exit_code == 0
    with Store.open(cfg.db_path) as s:
        assert watch_interval(cfg, s, "weibo") == normal
    assert CliRunner().invoke(main_group, ["period", "stop", "两会", "--config", str(config_path)]).exit_code == 1


@pytest.mark.slow
def test_a_scan_does_not_queue_behind_a_scheduled_round(tmp_path, fake):
    """A slow scheduled discovery is running when the operator asks for a scan of the same
    platform: the scheduled round yields at once (its unfinished targets are retaken next time),
    the scan runs and says what it waited for."""
    for r in fake.routes:
        r.delay = 1.0
    cfg = load_config(_cfg_path(tmp_path, fake))
    scheduled: dict = {}
    targets = [Target.for_mode("discover", k) for k in ("北理工", "北京理工大学")]
    first = threading.Thread(target=lambda: scheduled.update(result=run_round(cfg, "weibo", "discover", targets)))
    first.start()
    deadline = time.monotonic() + 60
    with Store.open(cfg.db_path) as s:  # the scheduled round has fetched its first page
        while not s.scalar("SELECT COUNT(*) FROM accounts"):
            assert time.monotonic() < deadline, "the scheduled round never started"
            time.sleep(0.1)
        rid = scans.enqueue(s, {"discover": True, "watch": False, "platform": "weibo", "account": None})
        request = scans.claim(s, rid)
    heard: list[str] = []
    scan: dict = {}
    second = threading.Thread(target=lambda: scan.update(scans.execute(cfg, request, lambda d, t, label: heard.append(label))))
    second.start()
    first.join(60)
    for r in fake.routes:
        r.delay = 0
    second.join(60)
    result = scheduled["result"]
    assert result.status == "interrupted"
    assert any(r.status == "interrupted" and "让位于手动扫描" in r.reason for r in result.runs), result.runs
    assert any("定时仿冒发现" in h and "让出（手动扫描优先）" in h for h in heard), heard
    assert scan["runs"] == {"ok": 2}
    with Store.open(cfg.db_path) as s:
        assert s.one("SELECT status FROM scan_requests WHERE id = ?", [rid])["status"] == "done"
