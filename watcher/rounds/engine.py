"""Run a round: one crawl process for all targets of one mode on one platform.

:func:`run_round` records the round and one run per target, starts :mod:`watcher.rounds.process`
with the configuration this process holds, waits (stopping it when ``stop`` is set or the round
outlives its time), then closes what the process could not: runs it never finished are
``interrupted`` (a stop or a timeout, which raise no finding) or ``failed`` (a crash). Last, the
platform's cool-down and 采集受阻 episode follow the round's outcome.

With ``crawl.redis_url`` set, the round's targets go to the workers through Redis instead of a
local crawl process (:mod:`watcher.distributed.dispatch`); everything else here is the same.

At most ``schedule.crawl_concurrency`` rounds run at once, and one at a time per platform (a
platform sees one crawler from us, whatever asked for it); on-demand scans go first
(:mod:`watcher.rounds.gate`).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from loguru import logger

from spiders import catalog
from spiders.base import Target
from watcher import sessions
from watcher.config import Config
from watcher.distributed.dispatch import run_remote
from watcher.rounds import records
from watcher.rounds.gate import GATE, Pass, Waiting
from watcher.rounds.pipeline import STOP_REASONS
from watcher.rounds.process import payload
from watcher.store import Store
from watcher.store.rounds import CrawlRun

STOP_GRACE_SECONDS = 20.0
Progress = Callable[[int, int], None]



class RoundError(Exception):
    """A round that cannot be started (a mode the platform does not offer); says why in Chinese."""


@dataclass
class RoundResult:
    round_id: int
    platform: str
    mode: str
    status: str
    reason: str | None
    runs: list[CrawlRun] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.runs:
            out[r.status] = out.get(r.status, 0) + 1
        return out


def round_timeout(cfg: Config, platform: str, targets: int) -> float:
    """Generous: every page of every target at the platform's rate, three times over, plus
    start-up; a round that takes longer is stuck, not slow."""
    p = cfg.platform(platform)
    per_target = (p.pages + 2) / p.rate + p.timeout
    return 120 + 3 * targets * per_target / max(1, p.concurrency)


def run_round(cfg: Config, platform: str, mode: str, targets: list[Target], *, stop: threading.Event | None = None,
              scan_request_id: int | None = None, timeout: float | None = None,
              progress: Progress | None = None, waiting: Waiting | None = None,
              resumes: int | None = None) -> RoundResult:
    """``resumes``: the round (id) this one continues after it yielded to an on-demand scan."""
    info = catalog.get(platform)
    if not info.supports(mode):
        raise RoundError(f"{info.label}不支持「{catalog.MODE_LABELS.get(mode, mode)}」"
                         f"（支持：{'、'.join(catalog.MODE_LABELS[m] for m in info.modes)}）"
                         + (f"：{info.limits}" if info.limits else ""))
    targets = list({t.key: t for t in targets}.values())
    with Store.open(cfg.db_path) as store:
        round_id, run_ids = records.open_round(store, platform, mode, targets, scan_request_id)
    if not targets:
        with Store.open(cfg.db_path) as store:
            records.close_round(store, round_id, "ok", None, {})
        return RoundResult(round_id, platform, mode, "ok", None)
    timeout = timeout or round_timeout(cfg, platform, len(targets))
    if cfg.crawl.distributed:
        # The fleet crawls it (watcher.distributed); this process only stores and analyses.
        with _place(cfg, platform, mode, round_id, scan_request_id, waiting) as place:
            why = run_remote(cfg, round_id, platform, mode, targets, run_ids, stop=stop, yield_to=place.yield_to,
                             deadline=time.monotonic() + timeout, progress=progress)
        return _finish(cfg, round_id, platform, mode, why, 0, "", resumes)
    why, code, errors = None, None, ""
    with _place(cfg, platform, mode, round_id, scan_request_id, waiting) as place, \
            tempfile.TemporaryFile("w+", encoding="utf-8") as err:
        _check_session(cfg, platform)
        proc = subprocess.Popen([sys.executable, "-m", "watcher.rounds.process"], stdin=subprocess.PIPE,
                                stdout=subprocess.DEVNULL, stderr=err, text=True, encoding="utf-8")
        try:
            proc.stdin.write(payload(cfg, round_id, platform, mode, targets, run_ids))  # type: ignore[union-attr]
            proc.stdin.close()  # type: ignore[union-attr]
        except BrokenPipeError:
            pass  # the process died at once; its exit code and stderr say why below
        why = _wait(cfg, proc, round_id, stop, place.yield_to, time.monotonic() + timeout, progress)
        code = proc.returncode
        err.seek(0)
        errors = err.read()[-4000:]
    return _finish(cfg, round_id, platform, mode, why, code, errors, resumes)


def _place(cfg: Config, platform: str, mode: str, round_id: int, scan_request_id: int | None,
           waiting: Waiting | None) -> AbstractContextManager[Pass]:
    return GATE.enter(platform, mode, round_id, cfg.schedule.crawl_concurrency, scan=scan_request_id is not None,
                      waiting=waiting)


def _check_session(cfg: Config, platform: str) -> None:
    """The platform's own word on our session, before the round (see :mod:`watcher.sessions`)."""
    try:
        with Store.open(cfg.db_path) as store:
            sessions.before_round(cfg, platform, store)
    except Exception:  # noqa: BLE001 - a failed check must not cost the round; the round says the rest
        logger.opt(exception=True).warning("{}登录状态检查出错", catalog.label(platform))


def _wait(cfg: Config, proc: subprocess.Popen, round_id: int, stop: threading.Event | None,
          yield_to: threading.Event, deadline: float, progress: Progress | None) -> str | None:
    last = 0.0
    while proc.poll() is None:
        why = ("daemon" if stop is not None and stop.is_set() else "scan" if yield_to.is_set()
               else "timeout" if time.monotonic() > deadline else None)
        if why:
            with Store.open(cfg.db_path) as store:
                records.set_stop_reason(store, round_id, why)
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            return why
        if progress is not None and time.monotonic() - last > 1.0:
            last = time.monotonic()
            with Store.open(cfg.db_path) as store:
                progress(*records.progress(store, round_id))
        time.sleep(0.1)
    return None


def _finish(cfg: Config, round_id: int, platform: str, mode: str, why: str | None, code: int | None,
            errors: str, resumes: int | None = None) -> RoundResult:
    with Store.open(cfg.db_path) as store:
        if why:
            records.close_unfinished(store, round_id, "interrupted", STOP_REASONS[why])
        elif code != 0:
            lines = [ln for ln in errors.strip().splitlines() if ln.strip()][-3:]
            logger.error("{} 采集进程异常退出（退出码 {}）：{}", catalog.label(platform), code, errors[-2000:])
            records.close_unfinished(store, round_id, "failed", f"采集进程异常退出（退出码 {code}）"
                                     + (f"：{' '.join(lines)[-300:]}" if lines else ""))
        else:
            records.close_unfinished(store, round_id, "failed", "采集进程结束时没有给出结果")
        runs = records.round_runs(store, round_id)
        rnd = records.get_round(store, round_id)
        details = rnd.details if rnd else {}
        if resumes is not None:
            details = {**details, "resumes": resumes}
        halted = details.get("halted")
        status, reason = records.summarize(runs, halted)
        records.close_round(store, round_id, status, reason, details)
        tried = [r for r in runs if not (r.reason or "").startswith("本轮因平台受阻提前结束")]
        refused = bool(halted) or (bool(tried) and all(r.status == "blocked" for r in tried))
        if status != "interrupted":
            records.after_round(store, platform, status, reason, round_id, refused=refused)
        runs = records.round_runs(store, round_id)
    log = logger.info if status == "ok" else logger.warning
    log("{} {} 本轮 #{}：{}（{} 个目标{}）", catalog.label(platform), catalog.MODE_LABELS.get(mode, mode), round_id,
        records.STATUS_LABELS.get(status, status), len(runs), f"；{reason}" if reason else "")
    return RoundResult(round_id, platform, mode, status, reason, runs)


def run_scheduled(cfg: Config, platform: str, mode: str, targets: list[Target], *,
                  stop: threading.Event | None = None) -> RoundResult:
    """A scheduled round that keeps its work when an on-demand scan needs its place.

    The round yields at once (:mod:`watcher.rounds.gate`): what it finished is stored, the rest
    ends ``interrupted``. Waiting a whole interval and then starting over from all 300 accounts
    would throw that work away and leave the remaining accounts unwatched for another interval,
    so the round continues right after the scan (the gate lets it in once the scan is done) with
    only the targets it had not finished, as a new round marked ``resumes``. The result holds
    every target's final run."""
    result = run_round(cfg, platform, mode, targets, stop=stop)
    kept: list[CrawlRun] = []
    while result.status == "interrupted" and not (stop is not None and stop.is_set()):
        with Store.open(cfg.db_path) as store:
            rnd = records.get_round(store, result.round_id)
        if rnd is None or rnd.stop_reason != "scan":
            break
        left = {r.target for r in result.runs if r.status == "interrupted"}
        kept += [r for r in result.runs if r.status != "interrupted"]
        remaining = [t for t in targets if t.key in left]
        if not remaining:
            break
        logger.info("{}{} 本轮 #{} 已让出给手动扫描：已完成 {} 个目标，其余 {} 个在扫描结束后接着采集",
                    catalog.label(platform), catalog.MODE_LABELS.get(mode, mode), result.round_id,
                    len(result.runs) - len(left), len(remaining))
        result = run_round(cfg, platform, mode, remaining, stop=stop, resumes=result.round_id)
    result.runs = kept + result.runs
    return result


def run_one(cfg: Config, platform: str, mode: str, value: str, post: str | None = None,
            **kwargs: Any) -> CrawlRun | None:
    """A round of one target (a keyword, an account or a post); returns that target's run (None
    when the round had none)."""
    result = run_round(cfg, platform, mode, [Target.for_mode(mode, value, post)], **kwargs)
    return result.runs[0] if result.runs else None
