"""The new API lists cost the same number of queries however long the page is (no N+1)."""
from __future__ import annotations

from extensions import db
from tests.api import auth
from tests.events_helpers import enter, make_event, team_of
from tests.factories import make_organiser, make_problem, make_team, make_user
from tests.querycount import counting


def statements_for(client, path, headers=None) -> int:
    with counting(db.engine) as statements:
        assert client.get(path, headers=headers or {}).status_code == 200
    return len(statements)


def test_lists_cost_the_same_for_two_items_as_for_twenty(client):
    organiser = make_organiser()
    problem = make_problem(make_user())
    event = make_event(organiser)
    headers = auth(organiser)

    def grow(n):
        for _ in range(n):
            make_team(make_user())
            client.post(f"/api/v1/problems/{problem.id}/updates", json={"body": "Another note."}, headers=headers)
            team, captain = team_of(2, f"Entrant {make_user().id}")
            enter(event, team, captain)

    paths = ["/api/v1/teams", f"/api/v1/problems/{problem.id}/updates", f"/api/v1/events/{event.id}/entries",
             f"/api/v1/events/{event.id}/scoreboard"]
    grow(2)
    few = [statements_for(client, path) for path in paths]
    grow(18)
    many = [statements_for(client, path) for path in paths]
    assert many == few
