"""A fleet on one machine for tests and benchmarks: a config with ``crawl.redis_url`` pointing at
a test Redis, and ``watcher worker`` processes started from this checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.conftest import write_config
from watcher.config import Config, load_config
from watcher.distributed.dispatch import Fleet

ROOT = Path(__file__).resolve().parent.parent


def fleet_config(directory: Path, base_url: str, redis_url: str, *, prefix: str = "bit", rate: float = 50,
                 concurrency: int = 4, **crawl: Any) -> Config:
    """Weibo pointed at a fake platform, one page a timeline, no retries; a fast heartbeat."""
    return load_config(write_config(
        directory, platforms={"weibo": {"enabled": True, "base_url": base_url, "rate": rate, "retries": 0,
                                        "concurrency": concurrency, "pages": 1}},
        crawl={"redis_url": redis_url, "key_prefix": prefix, "heartbeat": 1, "lease_timeout": 3, **crawl}))


def start_worker(cfg: Config, name: str, log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "watcher", "worker", "--config", str(cfg.source), "--name", name],
                                stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)


def wait_until_serving(cfg: Config, platform: str, names: list[str], procs: list[subprocess.Popen],
                       timeout: float = 60) -> None:
    fleet = Fleet(cfg)
    deadline = time.monotonic() + timeout
    while not set(names) <= set(fleet.serving(platform)):
        dead = [p.args for p in procs if p.poll() is not None]
        if dead or time.monotonic() > deadline:
            raise RuntimeError(f"采集节点未就绪：{dead or names}")
        time.sleep(0.1)


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
