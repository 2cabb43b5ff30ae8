from datetime import date

import pytest

from watcher.config import DeadlineConfig
from watcher.watch.workdays import add_workdays, deadline_passed, filing_window, is_workday


def test_national_day_2025_and_adjusted_weekends():
    assert not is_workday(date(2025, 10, 1)) and not is_workday(date(2025, 10, 8))
    assert is_workday(date(2025, 9, 28))   # Sunday, adjusted working day
    assert is_workday(date(2025, 10, 11))  # Saturday, adjusted working day
    assert not is_workday(date(2025, 10, 12))


@pytest.mark.parametrize("changed, n, expected", [
    (date(2025, 9, 26), 3, date(2025, 9, 30)),   # Fri → Sun 28 (调休) counts, Mon 29, Tue 30
    (date(2025, 9, 30), 3, date(2025, 10, 11)),  # holiday skipped: Thu 9, Fri 10, Sat 11 (调休)
])
def test_add_workdays_across_national_day(changed, n, expected):
    assert add_workdays(changed, n) == expected


def test_bit_three_working_days_over_the_holiday():
    rule = DeadlineConfig(mode="working_days_after", days=3)
    changed = date(2025, 9, 30)
    assert filing_window(changed, rule)[1] == date(2025, 10, 11)
    assert not deadline_passed(changed, date(2025, 10, 8), rule)   # a week later, still in time
    assert not deadline_passed(changed, date(2025, 10, 11), rule)
    assert deadline_passed(changed, date(2025, 10, 12), rule)


def test_hit_five_working_days_and_a_week():
    assert filing_window(date(2025, 9, 30), DeadlineConfig(mode="working_days_after", days=5))[1] == date(2025, 10, 14)
    assert filing_window(date(2025, 9, 30), DeadlineConfig(mode="days_after", days=7))[1] == date(2025, 10, 7)


def test_qzmc_working_days_before():
    rule = DeadlineConfig(mode="working_days_before", days=3)
    # A change on Thu 2025-10-09 must have been filed by the 3rd working day before it:
    # Oct 9 ← Sep 30 (Tue) ← Sep 29 (Mon) ← Sep 28 (adjusted Sun).
    assert filing_window(date(2025, 10, 9), rule)[1] == date(2025, 9, 28)


def test_unknown_year_falls_back_to_weekdays():
    assert add_workdays(date(2099, 1, 2), 1) == date(2099, 1, 5)  # Fri → Mon
