"""``watcher run``: the long-running service.

The main thread only waits for signals; jobs run on APScheduler's worker threads, each opening
its own Store. SIGTERM stops cleanly: no new job starts, running ones are told to stop (they
check :data:`stopping`) and given a few seconds to finish their current transaction — a
transaction cut short by the exit is rolled back by SQLite, so nothing half-written remains.
SIGHUP re-reads the config; a broken new config is logged and the old one kept.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, JobSubmissionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from loguru import logger

from watcher import capacity, registry, schedule, sdnotify
from watcher.config import Config, ConfigError, load_config, secret_problems, secret_warnings
from watcher.logs import setup_logging
from watcher.rounds.records import reap_orphans
from watcher.store import Store, private_tree
from watcher.store import registry as stored_registry
from watcher.watch.analyze import catch_up

# Set when the daemon is shutting down; long jobs (crawl runners, scans) poll it.
stopping = threading.Event()

# Long enough for a round's crawl process to record its unfinished targets as interrupted.
STOP_GRACE_SECONDS = 15.0


class Daemon:
    def __init__(self, config_path: Path | str, cfg: Config) -> None:
        self.config_path = Path(config_path)
        self.cfg = cfg
        self._reload = threading.Event()
        self._stop = threading.Event()
        self._running_jobs = 0
        self._lock = threading.Lock()
        self._skips: dict[str, int] = {}  # job id → runs skipped while its current run goes on
        self._said_overdue: set[int] = set()  # rounds already said to have overrun their interval
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=8)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
            timezone=cfg.timezone,
        )

    # -- signals ------------------------------------------------------------------------------

    def _on_term(self, signum: int, _frame: Any) -> None:
        self._stop.set()

    def _on_hup(self, signum: int, _frame: Any) -> None:
        self._reload.set()

    # -- lifecycle ----------------------------------------------------------------------------

    def prepare_store(self) -> None:
        """Create/migrate the database and seed the registry from the config on first start."""
        with Store.open(self.cfg.db_path) as store:
            if tightened := private_tree(self.cfg.data_path):
                logger.info("数据目录中 {} 个文件或目录原先其他用户可读，已收紧为仅本服务用户可读", tightened)
            if reap_orphans(store):
                logger.warning("上次运行中断的采集已记为“被中断”")
            versions = store.schema_versions()
            logger.info("数据库 {}（架构版本：{}）", self.cfg.db_path, "、".join(f"{k} {v}" for k, v in versions.items()))
            empty = stored_registry.is_empty(store)
            if empty and self.cfg.registry_path:
                try:
                    counts = registry.import_file(store, self.cfg.registry_path, actor="daemon")
                    logger.info("首次启动：已从 {} 导入备案台账 {} 条", self.cfg.registry_path, counts["added"])
                except registry.RegistryImportError as e:
                    logger.error("备案台账导入失败，未导入任何记录：\n{}", e.render())
            catch_up(self.cfg, store)  # analysis a crash cut short: judged / analysed now
            self.log_capacity(store)

    def log_capacity(self, store: Store) -> None:
        """Whether each platform's watch rounds can keep their interval (:mod:`watcher.capacity`):
        said at start and after a reload, so a schedule that cannot be met is known before the
        first round overruns."""
        for est in capacity.estimate(self.cfg, capacity.accounts_from_store(store)):
            if est.fits:
                logger.info("巡检能力估算：{}", est.summary())
            else:
                logger.warning("巡检安排无法满足：{}", est.text())

    def skipped(self, event: JobSubmissionEvent) -> None:
        """A job came due while its previous run still went on (``max_instances: 1``), so this
        run was skipped. Said once per run that causes it: for a watch job (which polls every
        minute) only when a round was really due, with the round that overran."""
        job_id = event.job_id
        with self._lock:
            self._skips[job_id] = n = self._skips.get(job_id, 0) + 1
        if job_id == "scan-queue":
            return  # the running poll takes queued scans itself
        if job_id.startswith("watch:"):
            from watcher.rounds.plan import overdue

            with Store.open(self.cfg.db_path) as store:
                late = overdue(self.cfg, store, job_id.split(":", 1)[1])
            if late and late.round_id not in self._said_overdue:
                self._said_overdue.add(late.round_id)
                logger.warning("{}", late.text())
            return
        if n == 1:
            job = self.scheduler.get_job(job_id)
            logger.warning("定时任务「{}」到期时上一次仍在运行，本次跳过（上一次结束后按时运行）",
                           job.name if job else job_id)
    def _wrap(self, job: schedule.ScheduledJob) -> Any:
        def run() -> None:
            if stopping.is_set():
                return
            with self._lock:
                self._running_jobs += 1
                self._skips.pop(job.id, None)
            try:
                job.func(self.cfg, **job.kwargs, **({"stop": stopping} if job.stoppable else {}))
            except Exception:
                # A failing job is logged and retried at its next run; it never stops the daemon.
                logger.exception("定时任务「{}」出错，下次按计划重试", job.description or job.id)
            finally:
                with self._lock:
                    self._running_jobs -= 1

        return run

    def install_jobs(self) -> list[str]:
        self.scheduler.remove_all_jobs()
        ids: list[str] = []
        names: list[str] = []
        for job in schedule.collect(self.cfg):
            kwargs: dict[str, Any] = {"id": job.id, "name": job.description or job.id, "replace_existing": True}
            if job.cron is not None:
                self.scheduler.add_job(self._wrap(job), "cron", **job.cron, **kwargs)
            else:
                self.scheduler.add_job(self._wrap(job), "interval", seconds=job.seconds or 3600, jitter=min(30, (job.seconds or 60) // 10), **kwargs)
            if job.run_at_start:
                self.scheduler.add_job(self._wrap(job), "date", id=job.id + "@start", replace_existing=True)
            ids.append(job.id)
            names.append(job.description or job.id)
        logger.info("已注册 {} 个定时任务：{}", len(ids), "、".join(names) or "（无）")
        return ids

    def reload(self) -> bool:
        sdnotify.notify("RELOADING=1", f"MONOTONIC_USEC={sdnotify.monotonic_usec()}")
        try:
            new = load_config(self.config_path)
        except ConfigError as e:
            logger.error("重新加载配置失败，继续使用原配置：\n{}", e.render())
            sdnotify.notify("READY=1", "STATUS=配置重载失败，沿用原配置")
            return False
        self.cfg = new
        setup_logging(new.logging, component="daemon", crashes=new.data_path / "crashes")
        self.install_jobs()
        with Store.open(new.db_path) as store:
            self.log_capacity(store)
        logger.info("配置已重新加载：{}", self.config_path)
        sdnotify.notify("READY=1", "STATUS=运行中（配置已重载）")
        return True

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_term)
        signal.signal(signal.SIGINT, self._on_term)
        signal.signal(signal.SIGHUP, self._on_hup)
        self.prepare_store()
        pidfile = self.cfg.data_path / "daemon.pid"
        pidfile.write_text(str(os.getpid()))
        self.install_jobs()
        self.scheduler.add_listener(self.skipped, EVENT_JOB_MAX_INSTANCES)
        self.scheduler.start()
        watchdog = sdnotify.watchdog_interval()
        sdnotify.notify("READY=1", "STATUS=运行中")
        logger.info("campus-watcher 已启动（配置 {}）", self.config_path)
        last_ping = 0.0
        while not self._stop.is_set():
            self._stop.wait(min(watchdog or 1.0, 1.0))
            if self._reload.is_set():
                self._reload.clear()
                self.reload()
            if watchdog and time.monotonic() - last_ping >= watchdog:
                sdnotify.notify("WATCHDOG=1")
                last_ping = time.monotonic()
        code = self.shutdown()
        pidfile.unlink(missing_ok=True)
        return code

    def shutdown(self) -> int:
        logger.info("收到停止信号，正在停止…")
        sdnotify.notify("STOPPING=1")
        stopping.set()
        self.scheduler.shutdown(wait=False)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while time.monotonic() < deadline:
            with self._lock:
                if self._running_jobs == 0:
                    break
            time.sleep(0.1)
        else:
            logger.warning("仍有任务未结束，强制退出；未提交的事务由 SQLite 回滚")
        logger.info("campus-watcher 已停止")
        return 0


def run_daemon(config_path: Path | str) -> int:
    try:
        cfg = load_config(config_path)
    except ConfigError as e:
        setup_logging(component="daemon")
        logger.error(e.render())
        return 2
    setup_logging(cfg.logging, component="daemon", crashes=cfg.data_path / "crashes")
    for problem in secret_problems(cfg):
        logger.error("告警凭据缺失，相应渠道将无法发送：{}", problem)
    for warning in secret_warnings(cfg):
        logger.warning("{}", warning)
    return Daemon(config_path, cfg).run()
