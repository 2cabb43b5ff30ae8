"""One daemon per data directory: a second `watcher run` refuses, naming the running PID; the
lock of a daemon killed -9 does not stop the next start."""

import os
import signal
import subprocess
import sys

import pytest

from tests.conftest import write_config
from tests.test_daemon import _start, _wait_for
from watcher import lockfile


def _second(config_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("NOTIFY_SOCKET", None)
    return subprocess.run([sys.executable, "-m", "watcher", "run", "--config", str(config_path)],
                          capture_output=True, text=True, timeout=60, env=env)


def test_second_daemon_refuses_and_a_killed_daemons_lock_is_recovered(tmp_path):
    config_path = write_config(tmp_path / "c")
    first, log = _start(config_path, tmp_path)
    try:
        _wait_for(log, "已启动")
        second = _second(config_path)
        assert second.returncode == 3
        assert f"PID {first.pid}" in second.stderr and "已被正在运行的" in second.stderr
        assert "Traceback" not in second.stderr
        assert first.poll() is None  # the first one is untouched
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        # the dead daemon's PID is still in the file, but the kernel dropped its lock
        assert (tmp_path / "c" / "data" / "daemon.lock").read_text() == str(first.pid)
        third, log3 = _start(config_path, tmp_path / "c")
        try:
            _wait_for(log3, "已启动")
            third.send_signal(signal.SIGTERM)
            assert third.wait(timeout=10) == 0
        finally:
            third.kill()
    finally:
        first.kill()


def test_lock_in_process(tmp_path):
    held = lockfile.acquire(tmp_path)
    with pytest.raises(lockfile.DataDirLocked) as e:
        lockfile.acquire(tmp_path)  # flock conflicts between two open files, even in one process
    assert e.value.pid == os.getpid() and str(os.getpid()) in str(e.value)
    held.release()
    with lockfile.acquire(tmp_path):
        pass
