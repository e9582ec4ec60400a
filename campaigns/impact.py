"""Impact of a place or a campaign: problems fixed per week and by category, the median time
from report to fix, and volunteer hours; as numbers, SVG bar charts and CSV.

A problem counts once, in the week of its first approved fix inside the period. Rows are
read per problem (one grouped query) and bucketed in Python, since week arithmetic in the
site's time zone and medians are not portable SQL; the period bounds what is read.
"""
from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape
from sqlalchemy import func
from sqlalchemy.orm import Session

from campaigns.models import Campaign, ClaimHours
from campaigns.services import area_of, fixes_select
from challenges.models import Claim, Problem
from maps.area import Area
from timeutil import as_utc, utcnow

MAX_WEEKS = 104
DEFAULT_WEEKS = 12


@dataclass(frozen=True)
class Impact:
    weeks: list[tuple[date, int]]          # (Monday of the week, problems fixed)
    categories: list[tuple[str, int]]      # (category, problems fixed), most first
    fixed: int
    median_days: float | None              # report to first approved fix
    hours: float                           # volunteer hours logged on approved claims

    def summary_rows(self) -> list[tuple[str, str]]:
        median = "" if self.median_days is None else f"{self.median_days:.1f}"
        return [("problems fixed", str(self.fixed)), ("median days from report to fix", median),
                ("volunteer hours logged", f"{self.hours:g}")]


def monday_of(moment: datetime, zone: ZoneInfo) -> date:
    day = as_utc(moment).astimezone(zone).date()
    return day - timedelta(days=day.weekday())


def week_start_utc(monday: date, zone: ZoneInfo) -> datetime:
    return as_utc(datetime.combine(monday, time(), tzinfo=zone))


def impact(session: Session, *, area: Area, categories: Sequence[str] = (), since: datetime, until: datetime,
           timezone: str) -> Impact:
    """Two queries: the problems fixed in [since, until) with their first fix, and the hours."""
    zone = ZoneInfo(timezone)
    rows = session.execute(fixes_select((Problem.id, Problem.category, Problem.created_at,
                                         func.min(Claim.decided_at)),
                                        area=area, categories=categories, since=since, until=until)
                           .group_by(Problem.id, Problem.category, Problem.created_at)).all()
    hours = session.scalar(fixes_select((func.coalesce(func.sum(ClaimHours.hours), 0),),
                                        area=area, categories=categories, since=since, until=until)
                           .join(ClaimHours, ClaimHours.claim_id == Claim.id))
    first, last = monday_of(since, zone), monday_of(until - timedelta(microseconds=1), zone)
    per_week = Counter(monday_of(fixed_at, zone) for _, _, _, fixed_at in rows)
    weeks, monday = [], first
    while monday <= last:
        weeks.append((monday, per_week.get(monday, 0)))
        monday += timedelta(days=7)
    per_category = Counter(category for _, category, _, _ in rows)
    days = [(as_utc(fixed_at) - as_utc(reported)).total_seconds() / 86400 for _, _, reported, fixed_at in rows]
    return Impact(weeks=weeks[-MAX_WEEKS:], categories=sorted(per_category.items(), key=lambda p: (-p[1], p[0])),
                  fixed=len(rows), median_days=statistics.median(days) if days else None, hours=float(hours or 0))


def place_impact(session: Session, *, area: Area, weeks: int, timezone: str, now: datetime | None = None) -> Impact:
    """The last `weeks` weeks (this one included) in a place."""
    now = now or utcnow()
    zone = ZoneInfo(timezone)
    since = week_start_utc(monday_of(now, zone) - timedelta(weeks=weeks - 1), zone)
    return impact(session, area=area, since=since, until=now, timezone=timezone)


def campaign_impact(session: Session, campaign: Campaign, *, timezone: str, now: datetime | None = None) -> Impact:
    """The campaign's window so far, in its area and categories."""
    now = now or utcnow()
    until = min(as_utc(campaign.ends_at), now)
    since = as_utc(campaign.starts_at) or as_utc(campaign.created_at)
    if until <= since:
        until = since + timedelta(microseconds=1)
    return impact(session, area=area_of(campaign), categories=campaign.category_list, since=since, until=until,
                  timezone=timezone)


# --- output --------------------------------------------------------------------------------

def bar_chart(*, chart_id: str, title: str, desc: str, bars: Sequence[tuple[str, int]], width: int = 640,
              height: int = 220) -> Markup:
    """A plain SVG bar chart with a <title> and a <desc>, labelled for screen readers (the
    same numbers are in a table beside it). No scripts, no external references."""
    top, bottom, left = 20, 40, 36
    plot_h = height - top - bottom
    peak = max([value for _, value in bars] + [1])
    slot = (width - left) / max(1, len(bars))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" role="img" '
             f'aria-labelledby="{chart_id}-title {chart_id}-desc">',
             f'<title id="{chart_id}-title">{escape(title)}</title>',
             f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
             f'<line x1="{left}" y1="{top + plot_h}" x2="{width}" y2="{top + plot_h}" class="axis"/>',
             f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" class="tick">{peak}</text>',
             f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end" class="tick">0</text>']
    label_every = max(1, len(bars) // 12)
    for index, (label, value) in enumerate(bars):
        bar_h = plot_h * value / peak
        x = left + index * slot + slot * 0.15
        parts.append(f'<rect x="{x:.1f}" y="{top + plot_h - bar_h:.1f}" width="{slot * 0.7:.1f}" height="{bar_h:.1f}" '
                     f'class="bar"><title>{escape(label)}: {value}</title></rect>')
        if index % label_every == 0:
            parts.append(f'<text x="{x + slot * 0.35:.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
                         f'class="tick">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def describe(bars: Sequence[tuple[str, int]], unit: str) -> str:
    if not bars:
        return f"No {unit} yet."
    best = max(bars, key=lambda pair: pair[1])
    return f"{sum(v for _, v in bars)} {unit} in total; the most, {best[1]}, in {best[0]}."


CSV_TABLES = ("weeks", "categories", "summary")


def to_csv(report: Impact, table: str) -> str:
    """One table of the report as CSV: numbers only, never a person."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if table == "weeks":
        writer.writerow(("week_starting", "problems_fixed"))
        writer.writerows((monday.isoformat(), count) for monday, count in report.weeks)
    elif table == "categories":
        writer.writerow(("category", "problems_fixed"))
        writer.writerows(report.categories)
    else:
        writer.writerow(("measure", "value"))
        writer.writerows(report.summary_rows())
    return out.getvalue()
