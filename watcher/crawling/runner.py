"""Start crawls as subprocesses, at most ``schedule.crawl_concurrency`` at a time, and run
what follows a crawl (matching after discovery, change analysis after a timeline)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from typing import Any

from loguru import logger

from spiders.registry import spider_class
from watcher.config import Config
from watcher.crawling import runs
from watcher.store import Store

_slots: dict[int, threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()


def _slot(cfg: Config) -> threading.BoundedSemaphore:
    n = cfg.schedule.crawl_concurrency
    with _slots_lock:
        return _slots.setdefault(n, threading.BoundedSemaphore(n))


def run_crawl(cfg: Config, platform: str, mode: str, *, keywords: list[str] | None = None, account: str | None = None,
              post: str | None = None, scan_request_id: int | None = None, timeout: float = 1800,
              analyse: bool = True) -> dict[str, Any]:
    """Run one crawl to the end and return its run record (status ok/partial/blocked/failed)."""
    cls = spider_class(platform)  # fail fast, in the caller, for a platform without a spider
    if mode not in cls.modes:
        from spiders.registry import NotImplementedPlatform
        from watcher.config import PLATFORM_LABELS

        raise NotImplementedPlatform(f"{PLATFORM_LABELS.get(platform, platform)}不支持 {mode}（支持：{', '.join(cls.modes)}）")
    target = ",".join(keywords or []) if mode == "discover" else (f"{account}/{post}" if post else account)
    with Store.open(cfg.db_path) as store:
        run_id = runs.start(store, platform, mode, target, scan_request_id)
    cmd = [sys.executable, "-m", "watcher.crawling.worker", "--config", str(cfg.source), "--platform", platform,
           "--mode", mode, "--run-id", str(run_id)]
    for k in keywords or []:
        cmd += ["--keyword", k]
    if account:
        cmd += ["--account", account]
    if post:
        cmd += ["--post", post]
    with _slot(cfg):
        from watcher.daemon import stopping

        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + timeout
        while proc.poll() is None:
            if stopping.is_set() or time.monotonic() > deadline:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                break
            time.sleep(0.2)
        stderr = proc.stderr.read() if proc.stderr else ""
    with Store.open(cfg.db_path) as store:
        run = runs.get(store, run_id)
        if run and run["status"] == "running":
            # The worker died before its pipeline could close the run: record why.
            if stopping.is_set():
                runs.finish(store, run_id, "failed", "守护进程停止，采集被中断")
            else:
                why = "超时" if proc.returncode in (-15, -9) else f"采集进程异常退出（{proc.returncode}）"
                errors = [ln for ln in stderr.strip().splitlines() if "Error" in ln or "错误" in ln][-2:]
                runs.finish(store, run_id, "failed", f"{why}：{' '.join(errors)[-300:]}" if errors else why)
                logger.error("采集 #{} 进程异常：{}", run_id, stderr[-2000:])
        if analyse:
            _after(cfg, store, run_id)
        return runs.get(store, run_id) or {}


def _after(cfg: Config, store: Store, run_id: int) -> None:
    run = runs.get(store, run_id)
    if run is None:
        return
    if run["mode"] == "discover":
        from watcher.crawling.discovery import analyse_run

        analyse_run(cfg, store, run_id)
    elif run["mode"] == "timeline" and run["status"] == "ok":
        try:
            from watcher.watch.analyze import analyse_timeline
        except ImportError:
            return
        analyse_timeline(cfg, store, run_id)
