"""Leaderboard windows are pure date arithmetic in the site's zone (no app needed)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from scoring import windows
from scoring.windows import ALL_TIME, SeasonDates, UnknownWindow

LONDON = "Europe/London"


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def test_a_week_runs_from_monday_midnight_to_the_next_monday_midnight_local():
    week = windows.week_containing(utc(2026, 11, 27, 12), LONDON)  # a Friday, GMT
    assert (week.starts_at, week.ends_at) == (utc(2026, 11, 23), utc(2026, 11, 30))
    assert week.key == "week:2026-W48" and week.name == "week"


def test_the_week_holding_the_last_sunday_of_march_is_an_hour_short():
    week = windows.week_containing(utc(2026, 3, 27, 12), LONDON)
    assert week.starts_at == utc(2026, 3, 23, 0)           # 00:00 GMT
    assert week.ends_at == utc(2026, 3, 29, 23)            # 00:00 BST on Monday 30 March
    assert week.ends_at - week.starts_at == timedelta(hours=167)
    # Sunday 23:30 BST is still this week; Monday 00:30 BST (Sunday 23:30 UTC) is the next.
    assert week.contains(utc(2026, 3, 29, 22, 30))
    assert not week.contains(utc(2026, 3, 29, 23, 30))
    assert windows.week_containing(utc(2026, 3, 29, 23, 30), LONDON).key == "week:2026-W14"


def test_the_week_holding_the_last_sunday_of_october_is_an_hour_long():
    week = windows.week_containing(utc(2026, 10, 25, 12), LONDON)
    assert week.starts_at == utc(2026, 10, 18, 23)         # 00:00 BST on Monday 19 October
    assert week.ends_at == utc(2026, 10, 26, 0)            # 00:00 GMT
    assert week.ends_at - week.starts_at == timedelta(hours=169)
    assert week.contains(utc(2026, 10, 25, 23, 59))        # Sunday 23:59 GMT
    # Sunday 23:30 UTC on the 18th is already Monday 00:30 BST: this week, not the last.
    assert week.contains(utc(2026, 10, 18, 23, 30))


def test_a_week_is_keyed_by_its_iso_year_and_number():
    # Thursday 31 December 2026 and Friday 1 January 2027 are both in ISO week 53 of 2026.
    assert windows.week_containing(utc(2027, 1, 1, 12), LONDON).key == "week:2026-W53"
    assert windows.week_containing(utc(2026, 12, 31, 12), LONDON).key == "week:2026-W53"
    assert windows.week_containing(utc(2027, 1, 4, 12), LONDON).key == "week:2027-W01"


def test_weeks_follow_the_configured_zone():
    # Monday 00:30 in Auckland (NZDT, +13) is Sunday 11:30 UTC.
    moment = utc(2026, 11, 29, 11, 30)
    assert windows.week_containing(moment, "Pacific/Auckland").key == "week:2026-W49"
    assert windows.week_containing(moment, LONDON).key == "week:2026-W48"


def test_a_month_is_the_calendar_month_in_the_zone():
    month = windows.month_containing(utc(2026, 3, 31, 23, 30), LONDON)  # 00:30 BST on 1 April
    assert month.key == "month:2026-04"
    assert (month.starts_at, month.ends_at) == (utc(2026, 3, 31, 23), utc(2026, 4, 30, 23))
    december = windows.month_containing(utc(2026, 12, 15), LONDON)
    assert (december.starts_at, december.ends_at) == (utc(2026, 12, 1), utc(2027, 1, 1))


def test_a_season_includes_both_of_its_dates():
    season = windows.season_window(SeasonDates(3, "Autumn term", date(2026, 9, 1), date(2026, 12, 18)), LONDON)
    assert season.key == "season:3" and season.name == "season:3" and season.label == "Autumn term"
    assert season.starts_at == utc(2026, 8, 31, 23)        # 00:00 BST on 1 September
    assert season.ends_at == utc(2026, 12, 19)             # 00:00 GMT on the day after the last
    assert season.contains(utc(2026, 12, 18, 23, 59))
    assert not season.contains(utc(2026, 8, 31, 22, 59))


def test_all_time_has_no_bounds_and_no_expiry():
    assert ALL_TIME.contains(utc(1970, 1, 1)) and ALL_TIME.expires_at() is None


def test_a_window_expires_five_weeks_after_it_ends():
    week = windows.week_containing(utc(2026, 11, 27), LONDON)
    assert week.expires_at() == utc(2026, 11, 30) + timedelta(days=35)


@pytest.mark.parametrize("name", ["", "weekly", "season:", "season:0", "season:x", "season:-1", "Week",
                                  "season:1 ", "season:2147483648", "season:99999999999999999999"])
def test_malformed_window_names_are_refused_naming_the_window(name):
    with pytest.raises(UnknownWindow) as refused:
        windows.parse(name)
    assert list(refused.value.fields) == ["window"]


def test_resolving_names_looks_up_seasons():
    autumn = SeasonDates(3, "Autumn", date(2026, 9, 1), date(2026, 12, 18))
    now = utc(2026, 11, 27)
    look_up = {3: autumn}.get
    assert windows.resolve("all", now=now, zone=LONDON, season=look_up) is ALL_TIME
    assert windows.resolve("month", now=now, zone=LONDON, season=look_up).key == "month:2026-11"
    assert windows.resolve("season:3", now=now, zone=LONDON, season=look_up).label == "Autumn"
    with pytest.raises(UnknownWindow):
        windows.resolve("season:4", now=now, zone=LONDON, season=look_up)
    assert windows.storage_key("season:4", now=now, zone=LONDON) == "season:4"  # no lookup


def test_live_windows_include_running_seasons_and_just_ended_ones_within_the_grace():
    seasons = [SeasonDates(1, "Spring", date(2026, 1, 5), date(2026, 3, 27)),
               SeasonDates(2, "Winter", date(2026, 11, 1), date(2027, 2, 28))]
    keys = [w.key for w in windows.live_windows(now=utc(2026, 11, 27, 12), zone=LONDON, seasons=seasons)]
    assert keys == ["all", "week:2026-W48", "month:2026-11", "season:2"]
    # Ten seconds into a new week (Monday 30 November) last week is still written to...
    keys = [w.key for w in windows.live_windows(now=utc(2026, 11, 30, 0, 0, 10), zone=LONDON, seasons=seasons,
                                                grace=timedelta(minutes=10))]
    assert keys == ["all", "week:2026-W49", "month:2026-11", "season:2", "week:2026-W48"]
    # ...and ten seconds into a new month, last month; a season that ended is not.
    keys = [w.key for w in windows.live_windows(now=utc(2026, 12, 1, 0, 0, 10), zone=LONDON, seasons=seasons,
                                                grace=timedelta(minutes=10))]
    assert keys == ["all", "week:2026-W49", "month:2026-12", "season:2", "month:2026-11"]
    assert "season:1" not in [w.key for w in windows.live_windows(now=utc(2026, 3, 28, 12), zone=LONDON,
                                                                   seasons=seasons, grace=timedelta(minutes=10))]


def test_the_page_opens_on_this_week_and_the_running_season_or_all_time():
    now = utc(2026, 11, 27)
    running = SeasonDates(2, "Winter", date(2026, 11, 1), date(2027, 2, 28))
    over = SeasonDates(1, "Spring", date(2026, 1, 5), date(2026, 3, 27))
    assert [w.key for w in windows.default_windows(now=now, zone=LONDON, seasons=[over, running])] == [
        "week:2026-W48", "season:2"]
    assert [w.key for w in windows.default_windows(now=now, zone=LONDON, seasons=[over])] == ["week:2026-W48", "all"]
