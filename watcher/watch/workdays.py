"""Working days by the Chinese holiday calendar, including adjusted working weekends (调休).

chinese-calendar carries the State Council's published schedule; for a year it does not know
yet (the schedule is published each November), Monday–Friday is used and the answer says so,
rather than failing a deadline check outright.
"""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
from loguru import logger

from watcher.config import DeadlineConfig

_warned: set[int] = set()


def is_workday(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        if day.year not in _warned:
            _warned.add(day.year)
            logger.warning("chinese-calendar 尚无 {} 年的节假日安排，按周一至周五计算工作日；请升级该库", day.year)
        return day.weekday() < 5


def add_workdays(start: date, n: int) -> date:
    """The n-th working day after ``start`` (start itself not counted)."""
    day, left = start, n
    while left > 0:
        day += timedelta(days=1)
        if is_workday(day):
            left -= 1
    return day


def sub_workdays(start: date, n: int) -> date:
    day, left = start, n
    while left > 0:
        day -= timedelta(days=1)
        if is_workday(day):
            left -= 1
    return day


def filing_window(changed: date, rule: DeadlineConfig) -> tuple[date | None, date]:
    """(earliest, latest) filing date that satisfies the rule for a change made on ``changed``.

    ``working_days_after``: filed by the N-th working day after the change (BIT 3, HIT 5);
    ``days_after``: within N calendar days (a week: 7); ``working_days_before``: filed at least
    N working days before the change (QZMC) — the latest acceptable filing date is then before
    the change itself.
    """
    if rule.mode == "working_days_after":
        return None, add_workdays(changed, rule.days)
    if rule.mode == "days_after":
        return None, changed + timedelta(days=rule.days)
    return None, sub_workdays(changed, rule.days)


def deadline_passed(changed: date, today: date, rule: DeadlineConfig) -> bool:
    """Whether it is now too late to file in time (for 'before' rules: once the change is made
    without a prior filing it is already late)."""
    _, latest = filing_window(changed, rule)
    return today > latest
