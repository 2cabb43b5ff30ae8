"""Which year is under review, and its dates, from ``review.notice_on`` and ``review.deadline``."""

from __future__ import annotations

from datetime import date

from watcher.config import Config
from watcher.timefmt import local_today

__all__ = ["deadline", "local_today", "notice_date", "review_year"]


def _on(year: int, month_day: str) -> date:
    m, d = (int(x) for x in month_day.split("-"))
    return date(year, m, d)


def notice_date(cfg: Config, year: int) -> date:
    return _on(year, cfg.review.notice_on)


def deadline(cfg: Config, year: int) -> date:
    """The deadline of year ``year``'s review: in that year, or in the next when the configured
    day comes before the notice (e.g. notice 11-20, deadline 01-15)."""
    d = _on(year, cfg.review.deadline)
    return d if d >= notice_date(cfg, year) else _on(year + 1, cfg.review.deadline)


def review_year(cfg: Config, today: date) -> int:
    """The year whose review is under way or last finished: this year from its notice day on."""
    return today.year if today >= notice_date(cfg, today.year) else today.year - 1
