"""Open data: the /data catalogue, each dataset in each format, the licence, privacy, and
streaming without holding a database connection."""
from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import update

from accounts.models import User
from challenges import services as challenge_services
from challenges.models import Problem
from extensions import db
from opendata.datasets import CATALOGUE
from scoring.leaderboards import SqlLeaderboard
from scoring.models import Season
from tests.events_helpers import add_quests, make_event
from tests.factories import TEST_HASH, approve, make_claim, make_organiser, make_problem, make_quest, make_team, make_user
from tests.test_campaigns import fix, make_campaign, release
from tests.querycount import counting
from timeutil import utcnow

OGL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
DOWNLOADS = [(d.id, fmt) for d in CATALOGUE for fmt in d.formats]


def parse(fmt: str, body: str):
    """(field names, rows as dicts) from a download, checking its structure on the way."""
    if fmt == "csv":
        reader = csv.DictReader(io.StringIO(body))
        return reader.fieldnames, list(reader)
    document = json.loads(body)
    if fmt == "json":
        assert document["licence"]["url"]
        return None, document["rows"]
    assert document["type"] == "FeatureCollection"
    for feature in document["features"]:
        assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Point"
        lon, lat = feature["geometry"]["coordinates"]
        assert -180 <= lon <= 180 and -90 <= lat <= 90
    return None, [{**f["properties"], "lon": f["geometry"]["coordinates"][0],
                   "lat": f["geometry"]["coordinates"][1]} for f in document["features"]]


@pytest.fixture
def town(ctx):
    """A town with something in every dataset, a child, a hidden adult and a hidden event quest."""
    today = utcnow().date()
    db.session.add(Season(name="Autumn term", starts_on=today - timedelta(days=30), ends_on=today + timedelta(days=30)))
    db.session.commit()
    organiser = make_organiser(name="Olive Organiser", email="olive.secret@example.org")
    named = make_user(name="Open Owl", email="owl.secret@example.org")
    hidden = make_user(name="Quiet Vole", email="vole.secret@example.org")
    child = make_user(name="Real Child Name", email="child.secret@example.org")
    db.session.execute(update(User).where(User.id == hidden.id).values(hidden_from_boards=True))
    db.session.execute(update(User).where(User.id == child.id).values(is_child=True))
    db.session.commit()
    teacher = make_organiser(name="Captain Crane")
    team = make_team(teacher, name="Harbour Heroes", members=(child,))
    campaign = make_campaign(organiser, title="Fix the Old City")
    fix(organiser, named, title="=HYPERLINK(\"http://evil\")")
    fix(organiser, hidden)
    claim = make_claim(child, make_quest(organiser, mode="team", problem_id=make_problem(organiser).id), team=team)
    challenge_services.submit_evidence(db.session, actor=child, claim=claim, evidence="Done", members=[child.id])
    db.session.commit()
    release(teacher, claim)
    approve(organiser, claim)
    now = utcnow()
    event = make_event(organiser, hide_quests_until_start=True, starts_at=now + timedelta(days=2),
                       ends_at=now + timedelta(days=3), registration_closes_at=now + timedelta(days=1))
    add_quests(organiser, event, 1, problem_id=None)
    survivor, merged = make_problem(named, title="The survivor"), make_problem(named, title="Merged away duplicate")
    db.session.execute(update(Problem).where(Problem.id == merged.id).values(merged_into_id=survivor.id))
    db.session.commit()
    return {"campaign": campaign.id, "needles": ["Real Child Name", "Quiet Vole", "@example.org", "secret"]}


def download(client, dataset: str, fmt: str):
    response = client.get(f"/data/{dataset}.{fmt}")
    assert response.status_code == 200, (dataset, fmt)
    return response


@pytest.mark.parametrize("dataset,fmt", DOWNLOADS)
def test_each_dataset_parses_in_each_format_with_its_documented_fields(client, town, dataset, fmt):
    response = download(client, dataset, fmt)
    header, rows = parse(fmt, response.get_data(as_text=True))
    documented = [f.name for f in next(d for d in CATALOGUE if d.id == dataset).fields]
    if header is not None:
        assert header == documented
    assert rows, f"{dataset}.{fmt} is empty: the test town has rows for every dataset"
    for row in rows:
        assert set(row) == set(documented)
    assert response.headers["Link"] == f'<{OGL}>; rel="license"'
    assert f'filename="fixquest-{dataset}.{fmt}"' in response.headers["Content-Disposition"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.mimetype == {"csv": "text/csv", "json": "application/json", "geojson": "application/geo+json"}[fmt]


def test_nothing_personal_appears_in_any_dataset(client, town):
    bodies = {f"{d}.{fmt}": download(client, d, fmt).get_data(as_text=True) for d, fmt in DOWNLOADS}
    leaks = {name: [n for n in town["needles"] if n.lower() in body.lower()] for name, body in bodies.items()}
    assert not any(leaks.values()), leaks
    assert "Open Owl" in bodies["leaderboards.csv"] and "Harbour Heroes" in bodies["leaderboards.csv"]
    assert "Olive Organiser" in bodies["quests.json"]


def test_secret_event_quests_and_merged_problems_are_left_out(client, town):
    assert "Jam quest 1" not in download(client, "quests", "json").get_data(as_text=True)
    problems = download(client, "problems", "csv").get_data(as_text=True)
    assert "The survivor" in problems and "Merged away duplicate" not in problems


def test_csv_cells_that_look_like_formulas_are_quoted(client, town):
    _, rows = parse("csv", download(client, "problems", "csv").get_data(as_text=True))
    assert "'=HYPERLINK(\"http://evil\")" in [row["title"] for row in rows]


def test_leaderboards_have_all_time_and_season_boards_ranked(client, town):
    _, rows = parse("csv", download(client, "leaderboards", "csv").get_data(as_text=True))
    windows = {(row["board"], row["window_name"]) for row in rows}
    assert {("teams", "All time"), ("teams", "Autumn term"), ("participants", "All time"),
            ("participants", "Autumn term")} <= windows
    for board in ("teams", "participants"):
        published = [(int(r["rank"]), r["name"], int(r["points"])) for r in rows
                     if r["board"] == board and r["window"] == "all"]
        shown = [(s.rank, s.name, s.points) for s in SqlLeaderboard(lambda: db.engine).top(board, limit=100)]
        assert published == shown and published


def test_fixes_count_days_and_campaign_progress_counts_the_fixes(client, town):
    _, fixes = parse("csv", download(client, "fixes", "csv").get_data(as_text=True))
    assert len(fixes) == 3 and all(float(row["days_to_fix"]) >= 0 for row in fixes)
    _, campaigns = parse("csv", download(client, "campaigns", "csv").get_data(as_text=True))
    (row,) = campaigns
    assert (row["title"], row["goal"], row["count"], row["percent"]) == ("Fix the Old City", "4", "3", "75")
    assert row["reached_50"] and row["reached_75"] and not row["reached_100"]


@pytest.mark.parametrize("path", ["/data/nothing.csv", "/data/problems.json", "/data/fixes.geojson",
                                  "/data/problems.xml", "/data/problems"])
def test_unknown_datasets_and_formats_are_404(client, path):
    assert client.get(path).status_code == 404


def test_the_data_page_lists_every_dataset_with_licence_fields_and_update_time(client, town):
    page = client.get("/data").get_data(as_text=True)
    assert 'rel="license"' in page and OGL in page and "Open Government Licence v3.0" in page
    for dataset in CATALOGUE:
        assert f'id="dataset-{dataset.id}"' in page
        for fmt in dataset.formats:
            assert f"/data/{dataset.id}.{fmt}" in page
        for field in dataset.fields:
            assert f"<code>{field.name}</code>" in page
    assert "No rows yet" not in page


def test_the_json_catalogue_describes_the_same_datasets(client, town):
    response = client.get("/data.json")
    document = response.get_json()
    assert document["licence"]["url"] == OGL and 'rel="license"' in response.headers["Link"]
    assert [d["id"] for d in document["datasets"]] == [d.id for d in CATALOGUE]
    problems = document["datasets"][0]
    assert problems["updated"].endswith("Z")
    assert {"format": "geojson", "media_type": "application/geo+json",
            "url": "http://localhost/data/problems.geojson"} in problems["distributions"]
    assert problems["fields"][0] == {"name": "id", "type": "integer", "meaning": problems["fields"][0]["meaning"]}


def test_the_licence_is_configurable(app, client, ctx):
    app.config.update(DATA_LICENCE_NAME="CC BY 4.0", DATA_LICENCE_URL="https://creativecommons.org/licenses/by/4.0/")
    try:
        response = client.get("/data/quests.json")
        assert response.headers["Link"] == '<https://creativecommons.org/licenses/by/4.0/>; rel="license"'
        assert response.get_json()["licence"]["name"] == "CC BY 4.0"
        assert "CC BY 4.0" in client.get("/data").get_data(as_text=True)
    finally:
        app.config.update(DATA_LICENCE_NAME="Open Government Licence v3.0", DATA_LICENCE_URL=OGL)


def test_an_export_streams_and_returns_its_connection_when_read(client, town):
    db.session.close()
    response = client.get("/data/problems.csv")
    assert response.is_streamed
    assert response.get_data(as_text=True).startswith("id,title,")
    assert db.engine.pool.checkedout() == 0


def test_an_export_abandoned_half_way_returns_its_connection(client, town):
    db.session.close()
    response = client.get("/data/problems.geojson")
    chunks = iter(response.response)
    assert next(chunks)
    assert db.engine.pool.checkedout() == 1  # the stream's own session, reading
    response.close()
    assert db.engine.pool.checkedout() == 0


def test_a_school_class_is_on_the_team_boards_only_when_its_teacher_shows_it(client, ctx):
    from classes import services as classes
    from classes.models import SchoolClass

    teacher, organiser = make_organiser(), make_organiser()
    school_class, cards = classes.create_class(db.session, actor=teacher, name="Year 5 Oak", size=1,
                                               secret_kind="password", hash_method=TEST_HASH)
    db.session.commit()
    pupil = db.session.get(User, cards[0].child_id)
    quest = make_quest(organiser, mode="team", problem_id=make_problem(organiser).id)
    claim = challenge_services.claim_quest(db.session, actor=pupil, quest=quest, team_id=school_class.team_id)
    challenge_services.submit_evidence(db.session, actor=pupil, claim=claim, evidence="Done", members=[pupil.id])
    db.session.commit()
    release(teacher, claim)
    approve(organiser, claim)

    board = download(client, "leaderboards", "csv").get_data(as_text=True)
    assert "Year 5 Oak" not in board and pupil.display_name not in board
    classes.update_settings(db.session, actor=teacher, school_class=db.session.get(SchoolClass, school_class.id),
                            streaks_enabled=False, show_in_rankings=True)  # the teacher's settings page
    db.session.commit()
    board = download(client, "leaderboards", "csv").get_data(as_text=True)
    assert "Year 5 Oak" in board and pupil.display_name not in board


def test_the_data_page_reads_a_fixed_number_of_queries(client, town):
    with counting(db.engine) as few:
        client.get("/data")
    fix(make_organiser(), make_user())
    make_campaign(make_organiser(), title="Another campaign")
    with counting(db.engine) as more:
        client.get("/data")
    assert len(more) == len(few) <= 12
