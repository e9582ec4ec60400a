"""Impact pages: fixes per week and by category, median days to fix, hours; SVG, table, CSV."""
from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from sqlalchemy import update

from campaigns.models import ClaimHours
from challenges.models import Claim, Problem
from extensions import db
from tests.factories import make_organiser, make_user
from tests.querycount import counting
from tests.test_campaigns import OUTSIDE, fix, make_campaign
from timeutil import utcnow

PLACE = "bbox=-2.60,51.44,-2.57,51.47"
SVG = "{http://www.w3.org/2000/svg}"


def backdate(claim: Claim, *, reported_days_ago: float, fixed_days_ago: float) -> None:
    now = utcnow()
    db.session.execute(update(Problem).where(Problem.id == claim.quest.problem_id)
                       .values(created_at=now - timedelta(days=reported_days_ago)))
    db.session.execute(update(Claim).where(Claim.id == claim.id).values(decided_at=now - timedelta(days=fixed_days_ago)))
    db.session.commit()


@pytest.fixture
def town(ctx):
    """Three fixes in the ward (two potholes, one litter; 2, 4 and 6 days from report to fix),
    one this week and two three weeks ago; one fix outside; 4.5 hours logged."""
    organiser = make_organiser()
    a = fix(organiser, make_user(name="Named Fixer"), category="pothole")
    b = fix(organiser, category="pothole")
    c = fix(organiser, category="litter")
    far = fix(organiser, **OUTSIDE)
    backdate(a, reported_days_ago=2.5, fixed_days_ago=0.5)
    backdate(b, reported_days_ago=25, fixed_days_ago=21)
    backdate(c, reported_days_ago=27, fixed_days_ago=21)
    backdate(far, reported_days_ago=30, fixed_days_ago=1)
    db.session.add_all([ClaimHours(claim_id=a.id, hours=3), ClaimHours(claim_id=c.id, hours=1.5),
                        ClaimHours(claim_id=far.id, hours=40)])
    db.session.commit()
    return organiser


def test_the_place_page_shows_the_numbers_as_charts_and_tables(client, town):
    page = client.get(f"/impact?{PLACE}&weeks=6").get_data(as_text=True)
    assert re.search(r"Problems fixed</th><td>3</td>", page)
    assert re.search(r"Median time from report to fix</th><td>4.0 days</td>", page)
    assert re.search(r"Volunteer hours logged</th><td>4.5</td>", page)
    assert re.search(r"<td>Pothole</td><td>2</td>", page) and re.search(r"<td>Litter</td><td>1</td>", page)
    weekly = re.findall(r'<tr><td><time datetime="([\d-]+)">[^<]*</time></td><td>(\d+)</td></tr>', page)
    assert len(weekly) == 6 and sum(int(n) for _, n in weekly) == 3
    for svg in re.findall(r"<svg.*?</svg>", page, re.DOTALL):
        root = ET.fromstring(svg)
        assert root.get("role") == "img"
        assert root.find(f"{SVG}title").text and root.find(f"{SVG}desc").text
        assert root.find(f".//{SVG}script") is None
    assert "Named Fixer" not in page


def test_the_csv_downloads_hold_the_same_numbers_and_no_people(client, town):
    rows = {}
    for table in ("weeks", "categories", "summary"):
        response = client.get(f"/impact.csv?{PLACE}&weeks=6&table={table}")
        assert response.mimetype == "text/csv"
        assert "attachment" in response.headers["Content-Disposition"]
        text = response.get_data(as_text=True)
        assert "Named Fixer" not in text and "@" not in text
        rows[table] = list(csv.reader(io.StringIO(text)))
    assert rows["categories"] == [["category", "problems_fixed"], ["pothole", "2"], ["litter", "1"]]
    assert ["problems fixed", "3"] in rows["summary"] and ["volunteer hours logged", "4.5"] in rows["summary"]
    assert rows["weeks"][0] == ["week_starting", "problems_fixed"] and len(rows["weeks"]) == 7


def test_without_a_place_the_page_asks_for_one(client, ctx):
    page = client.get("/impact").get_data(as_text=True)
    assert '<label for="bbox">' in page and '<label for="radius_m">' in page


@pytest.mark.parametrize("query, message", [
    ("weeks=4", "Say which area"),
    ("bbox=nonsense", "Give four numbers"),
    ("bbox=-2.6,51.5,-2.5,51.4", "must not be above the maximum"),
    ("lat=51.45&lon=-2.58&radius_m=99999", "Must be between 1 and 5000 metres."),
    (f"{PLACE}&weeks=0", "give a whole number of weeks from 1 to 104"),
    (f"{PLACE}&weeks=ten", "give a whole number of weeks from 1 to 104"),
])
def test_nonsense_places_are_a_400_with_a_clear_message(client, ctx, query, message):
    for path in ("/impact", "/impact.csv"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
    assert client.get("/impact.csv").status_code == 400
    assert client.get(f"/impact.csv?{PLACE}&table=people").status_code == 400


@pytest.mark.no_drift_check(reason="moves the campaign's start with a bulk UPDATE")
def test_a_campaigns_impact_counts_its_window_area_and_categories(client, town):
    campaign = make_campaign(town, categories=["pothole"])
    db.session.execute(update(type(campaign)).values(starts_at=utcnow() - timedelta(days=30)))
    db.session.commit()
    page = client.get(f"/campaigns/{campaign.id}/impact").get_data(as_text=True)
    assert re.search(r"Problems fixed</th><td>2</td>", page)
    assert re.search(r"Volunteer hours logged</th><td>3</td>", page)
    assert "<td>Litter</td>" not in page
    rows = list(csv.reader(io.StringIO(client.get(f"/campaigns/{campaign.id}/impact.csv?table=categories")
                                       .get_data(as_text=True))))
    assert rows == [["category", "problems_fixed"], ["pothole", "2"]]


def test_the_impact_page_reads_a_fixed_number_of_queries(client, town):
    with counting(db.engine) as statements:
        assert client.get(f"/impact?{PLACE}").status_code == 200
    assert len(statements) <= 4
