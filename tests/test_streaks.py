"""Weekly streaks (pure: no app)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from scoring.streaks import Streak, local_week, month_of_week, week_start, weekly_streak

WEEK = timedelta(days=7)


def mondays(first: date, count: int) -> list[date]:
    return [first + i * WEEK for i in range(count)]


# Wednesday 17 June 2026; its week starts Monday 15 June.
TODAY = date(2026, 6, 17)
THIS_WEEK = date(2026, 6, 15)


def test_no_contributions_no_streak():
    assert weekly_streak(set(), today=TODAY) == Streak(weeks=0, forgiven=0, best=0)


def test_consecutive_weeks_make_a_streak():
    weeks = set(mondays(date(2026, 5, 25), 3))  # 25 May, 1 June, 8 June: up to last week
    assert weekly_streak(weeks, today=TODAY) == Streak(weeks=3, forgiven=0, best=3)


def test_the_current_week_counts_once_it_is_active():
    weeks = set(mondays(date(2026, 5, 25), 4))  # ... and this week
    assert THIS_WEEK in weeks
    assert weekly_streak(weeks, today=TODAY) == Streak(weeks=4, forgiven=0, best=4)


def test_the_current_week_in_progress_does_not_break_it():
    weeks = {date(2026, 6, 1), date(2026, 6, 8)}
    assert weekly_streak(weeks, today=date(2026, 6, 21)).weeks == 2  # Sunday, nothing yet this week


def test_one_missed_week_in_a_month_is_forgiven():
    # June 2026: 1, (8 missed), 15 ... with 25 May before it.
    weeks = {date(2026, 5, 25), date(2026, 6, 1), date(2026, 6, 15)}
    assert weekly_streak(weeks, today=TODAY) == Streak(weeks=3, forgiven=1, best=3)


def test_two_missed_weeks_in_one_month_break_it():
    # June 2026 weeks: 1, 8 (missed), 15, 22 (missed), 29 (a July week: its Thursday is 2 July).
    weeks = {date(2026, 6, 1), date(2026, 6, 15), date(2026, 7, 6)}
    streak = weekly_streak(weeks, today=date(2026, 7, 8))
    # 22 June is June's second miss: the run (1, 15 June) ends; 29 June is a July week,
    # but a broken run cannot forgive it, so only this week's contribution counts.
    assert streak == Streak(weeks=1, forgiven=0, best=2)


def test_misses_in_different_months_are_each_forgiven():
    # 18 May missed (May), 8 June missed (June).
    weeks = {date(2026, 5, 4), date(2026, 5, 11), date(2026, 5, 25), date(2026, 6, 1), date(2026, 6, 15)}
    assert weekly_streak(weeks, today=TODAY) == Streak(weeks=5, forgiven=2, best=5)


def test_last_week_missed_is_forgiven_while_this_week_is_in_progress():
    weeks = {date(2026, 5, 18), date(2026, 5, 25), date(2026, 6, 1)}  # 8 June missed
    assert weekly_streak(weeks, today=TODAY) == Streak(weeks=3, forgiven=1, best=3)


def test_two_missed_weeks_before_this_one_end_it_but_the_best_is_kept():
    weeks = set(mondays(date(2026, 4, 27), 5))  # 27 Apr .. 25 May, then 1 and 8 June missed
    assert weekly_streak(weeks, today=TODAY) == Streak(weeks=0, forgiven=0, best=5)


def test_best_remembers_an_earlier_longer_streak():
    earlier = set(mondays(date(2026, 1, 5), 6))  # January into February
    recent = {date(2026, 6, 8), THIS_WEEK}
    assert weekly_streak(earlier | recent, today=TODAY) == Streak(weeks=2, forgiven=0, best=6)


def test_a_streak_runs_across_new_year_through_iso_week_53():
    week_52, week_53 = date(2026, 12, 21), date(2026, 12, 28)
    assert week_53.isocalendar()[:2] == (2026, 53)
    assert date(2027, 1, 4).isocalendar()[:2] == (2027, 1)
    weeks = {week_52, week_53, date(2027, 1, 4), date(2027, 1, 11)}
    assert weekly_streak(weeks, today=date(2027, 1, 13)) == Streak(weeks=4, forgiven=0, best=4)


def test_missing_iso_week_53_is_one_forgivable_miss():
    weeks = {date(2026, 12, 14), date(2026, 12, 21), date(2027, 1, 4)}  # week 53 missed (a December week)
    assert weekly_streak(weeks, today=date(2027, 1, 6)) == Streak(weeks=3, forgiven=1, best=3)


def test_a_week_belongs_to_the_month_of_its_thursday():
    assert month_of_week(date(2025, 12, 29)) == (2026, 1)   # Thu 1 January 2026
    assert month_of_week(date(2026, 6, 29)) == (2026, 7)    # Thu 2 July
    assert month_of_week(date(2026, 3, 23)) == (2026, 3)    # Thu 26 March


def test_missed_weeks_either_side_of_new_year_share_january_when_their_thursdays_do():
    # 29 Dec 2025 is a January 2026 week (Thursday 1 January): missing it and 12 Jan breaks.
    weeks = {date(2025, 12, 15), date(2025, 12, 22), date(2026, 1, 5), date(2026, 1, 19)}
    assert weekly_streak(weeks, today=date(2026, 1, 21)) == Streak(weeks=1, forgiven=0, best=3)
    # 22 Dec 2025 is a December week: missing it and 12 Jan is one miss in each month.
    weeks = {date(2025, 12, 8), date(2025, 12, 15), date(2025, 12, 29), date(2026, 1, 5), date(2026, 1, 19)}
    assert weekly_streak(weeks, today=date(2026, 1, 21)) == Streak(weeks=5, forgiven=2, best=5)


def test_any_day_names_its_week_and_future_weeks_are_ignored():
    weeks = {date(2026, 6, 3), date(2026, 6, 11), date(2026, 6, 29)}  # Wed, Thu, and a future week
    assert weekly_streak(weeks, today=TODAY) == Streak(weeks=2, forgiven=0, best=2)


def test_streaks_can_be_switched_off():
    weeks = set(mondays(date(2026, 5, 25), 4))
    assert weekly_streak(weeks, today=TODAY, enabled=False) == Streak(weeks=0, forgiven=0, best=0, enabled=False)


def test_weeks_are_read_in_the_sites_zone():
    # 23:30 UTC on Sunday 29 March 2026 is 00:30 on Monday in London (summer time began that day).
    moment = datetime(2026, 3, 29, 23, 30, tzinfo=timezone.utc)
    assert local_week(moment, "Europe/London") == date(2026, 3, 30)
    assert local_week(moment, "UTC") == date(2026, 3, 23)
    assert week_start(date(2026, 3, 29)) == date(2026, 3, 23)
