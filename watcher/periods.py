"""Sensitive periods (敏感期): when they are on, crawls run more often and alerts go out at once.

Periods come from the config (fixed dates or yearly MM-DD ranges that recur without editing the
file) and, for ad-hoc periods started by hand, from the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from watcher import timefmt
from watcher.config import Config, PeriodConfig
from watcher.store import periods as manual_periods


def local_tz() -> tzinfo:
    """The configured time zone (``timezone``, Asia/Shanghai by default): where the day of a
    sensitive period, a digest hour or quiet hours begin."""
    return timefmt.zone()


@dataclass(frozen=True)
class Period:
    name: str
    start: date
    end: date
    platforms: tuple[str, ...]
    cadence: int
    alert_policy: str
    spike_factor: float
    source: str  # config | manual

    def covers(self, platform: str | None) -> bool:
        return not self.platforms or platform is None or platform in self.platforms


def _yearly(p: PeriodConfig, today: date) -> tuple[date, date]:
    sm, sd = map(int, p.yearly_start.split("-"))  # type: ignore[union-attr]
    em, ed = map(int, p.yearly_end.split("-"))  # type: ignore[union-attr]
    start = date(today.year, sm, sd)
    end = date(today.year, em, ed)
    if end < start:  # wraps the new year (12-20 .. 01-05)
        if today >= start:
            end = date(today.year + 1, em, ed)
        else:
            start = date(today.year - 1, sm, sd)
    return start, end


def active_periods(cfg: Config, store: Any = None, now: datetime | None = None) -> list[Period]:
    now = now or datetime.now(local_tz())
    today = now.astimezone(local_tz()).date() if now.tzinfo else now.date()
    out: list[Period] = []
    for p in cfg.periods:
        start, end = (p.start, p.end) if p.start else _yearly(p, today)
        if start <= today <= end:  # type: ignore[operator]
            out.append(Period(p.name, start, end, tuple(p.platforms), p.cadence, p.alert_policy,  # type: ignore[arg-type]
                              p.spike_factor, "config"))
    if store is not None:
        for r in manual_periods.running(store):
            start, end = date.fromisoformat(r.start_date), date.fromisoformat(r.end_date)
            if start <= today <= end:
                out.append(Period(r.name, start, end, tuple(filter(None, (r.platforms or "").split(","))),
                                  r.cadence, r.alert_policy, r.spike_factor, "manual"))
    return out
