"""Main pages issue a bounded number of SQL queries, whatever the amount of data."""
from __future__ import annotations


import pytest

from extensions import db
from tests.querycount import counting
from tests.factories import approve, make_claim, make_organiser, make_problem, make_quest, make_team, make_user

PAGES = ["/", "/problems", "/quests", "/leaderboards", "/teams", "/claims"]


def seed(organiser, n: int) -> None:
    for _ in range(n):
        player = make_user()
        team = make_team(player)
        problem = make_problem(player)
        solo = make_quest(organiser, problem_id=problem.id)
        team_quest = make_quest(organiser, mode="team")
        approve(organiser, make_claim(player, solo, submit=True))
        make_claim(player, team_quest, team=team, submit=True)


def query_counts(client, pages) -> dict[str, int]:
    counts = {}
    for url in pages:
        with counting(db.engine) as statements:
            assert client.get(url).status_code == 200, url
        counts[url] = len(statements)
    return counts


@pytest.mark.parametrize("viewer", ["organiser", "participant"])
def test_page_queries_do_not_grow_with_data(client, login, viewer):
    organiser = make_organiser()
    watcher = make_user()
    make_team(watcher)
    login(organiser if viewer == "organiser" else watcher)
    pages = PAGES + (["/review"] if viewer == "organiser" else [])
    seed(organiser, 2)
    small = query_counts(client, pages)
    seed(organiser, 8)
    large = query_counts(client, pages)
    assert small == large
    assert max(large.values()) <= 12, large
