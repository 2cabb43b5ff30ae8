"""Who may crawl now: at most ``schedule.crawl_concurrency`` rounds at once and one per platform
(a platform sees one crawler from us), with on-demand scans first.

An operator who asks for a scan in a sensitive period must not wait for an hourly round of 300
accounts to finish. So a scan that finds a scheduled round in its way asks that round to yield
(its unfinished targets end ``interrupted``, what it finished is kept, and
:func:`watcher.rounds.engine.run_scheduled` continues with the rest once the scan is done), and no scheduled round takes a place a waiting scan needs. Scans do not pre-empt each
other: the second waits for the first.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from loguru import logger

from spiders import catalog

Waiting = Callable[[str], None]


@dataclass(eq=False)
class Pass:
    """A round's place. ``yield_to`` is set when a scan needs it: the round stops at once."""

    platform: str
    mode: str
    round_id: int
    scan: bool
    yield_to: threading.Event = field(default_factory=threading.Event)
    since: float = field(default_factory=time.monotonic)

    def label(self) -> str:
        kind = "手动扫描" if self.scan else "定时"
        return f"{catalog.label(self.platform)}{kind}{catalog.MODE_LABELS.get(self.mode, self.mode)}（本轮 #{self.round_id}）"


class Gate:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._held: list[Pass] = []
        self._scans_waiting: list[Pass] = []

    @contextmanager
    def enter(self, platform: str, mode: str, round_id: int, limit: int, *, scan: bool,
              waiting: Waiting | None = None) -> Iterator[Pass]:
        """Hold a place for the round while the block runs; ``waiting`` hears why it waits."""
        me = Pass(platform, mode, round_id, scan)
        said = None
        with self._cond:
            if scan:
                self._scans_waiting.append(me)
            try:
                while not self._free(me, limit):
                    why = self._make_way(me, limit) if scan else self._blocker(me, limit)
                    if why != said and waiting is not None:
                        said = why
                        waiting(why)
                    self._cond.wait(0.5)
                self._held.append(me)
            finally:
                if scan:
                    self._scans_waiting.remove(me)
                self._cond.notify_all()
        try:
            yield me
        finally:
            with self._cond:
                self._held.remove(me)
                self._cond.notify_all()

    def _free(self, me: Pass, limit: int) -> bool:
        if any(h.platform == me.platform for h in self._held) or len(self._held) >= max(1, limit):
            return False
        if me.scan:
            return True
        # a scheduled round leaves a waiting scan its platform and its place
        waiting = self._scans_waiting
        return not any(w.platform == me.platform for w in waiting) and len(self._held) + len(waiting) < max(1, limit)

    def _make_way(self, me: Pass, limit: int) -> str:
        """Ask the scheduled round in the scan's way to yield; says what the scan waits for."""
        same = [h for h in self._held if h.platform == me.platform]
        if same:
            other = same[0]
        elif len(self._held) >= max(1, limit):
            scheduled = [h for h in self._held if not h.scan]
            # the most recent scheduled round has done the least work: it loses least
            other = max(scheduled, key=lambda h: h.since) if scheduled else self._held[0]
        else:
            return "等待采集名额"
        if other.scan:
            return f"等待{other.label()}结束"
        if not other.yield_to.is_set():
            other.yield_to.set()
            logger.info("手动扫描优先：{} 让出，扫描结束后接着采集未完成的目标", other.label())
        return f"等待{other.label()}让出（手动扫描优先）"

    def _blocker(self, me: Pass, limit: int) -> str:
        same = [h for h in self._held if h.platform == me.platform]
        if same:
            return f"等待{same[0].label()}结束"
        if self._scans_waiting:
            return "手动扫描优先，稍后开始"
        return f"等待采集名额（同时最多 {max(1, limit)} 个轮次）"


GATE = Gate()
