"""The campaign leaderboard scope: participants and teams ranked by the points of the fixes
that count towards a campaign (its area, categories and dates), on both backends."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from accounts import services as accounts
from accounts.models import User
from campaigns.models import Campaign
from challenges import reviews
from extensions import db
from scoring.leaderboards import Scope, UnknownScope, set_hidden_from_boards
from tests.factories import make_organiser, make_team, make_user
from tests.test_campaigns import OUTSIDE, fix, make_campaign
from timeutil import utcnow


def ranking(board_, name="participants", **where):
    return [(s.member_id, s.points) for s in board_.top(name, limit=50, **where)]


@pytest.fixture
def town(ctx):
    organiser = make_organiser()
    return organiser, make_campaign(organiser, goal=50)


def test_a_campaign_board_counts_only_fixes_inside_its_place(board, town):
    organiser, campaign = town
    ada, bo = make_user(), make_user()
    fix(organiser, ada)
    fix(organiser, ada)
    fix(organiser, bo)
    fix(organiser, bo, **OUTSIDE)  # outside the area: on the global board, not the campaign's
    fix(organiser, bo, **OUTSIDE)
    scope = Scope("campaign", campaign.id)
    assert ranking(board, scope=scope) == [(ada.id, 100), (bo.id, 50)]
    assert ranking(board)[:2] == [(bo.id, 150), (ada.id, 100)]
    assert board.count("participants", "all", scope) == 2
    assert board.standing_of("participants", bo.id, scope=scope).rank == 2


def test_a_campaign_board_ranks_teams_by_their_counted_fixes(board, town):
    organiser, campaign = town
    captain, other = make_user(), make_user()
    ants, bees = make_team(captain, name="Ants"), make_team(other, name="Bees")
    fix(organiser, captain, team=ants)
    fix(organiser, other, team=bees)
    fix(organiser, other, team=bees)
    scope = Scope("campaign", campaign.id)
    assert [(s.name, s.points) for s in board.top("teams", scope=scope)] == [("Bees", 100), ("Ants", 50)]
    assert [(s.member_id, s.points) for s in board.top("participants", scope=scope)] == [(other.id, 100),
                                                                                         (captain.id, 50)]


def test_fixes_before_the_start_or_after_the_end_do_not_count(board, town):
    organiser, campaign = town
    early, late, inside = make_user(), make_user(), make_user()
    before = fix(organiser, early)
    fix(organiser, inside)
    after = fix(organiser, late)
    db.session.execute(update(Campaign).where(Campaign.id == campaign.id).values(
        starts_at=before.decided_at + timedelta(microseconds=1), ends_at=after.decided_at))
    db.session.commit()
    board.rebuild()
    assert ranking(board, scope=Scope("campaign", campaign.id)) == [(inside.id, 50)]


def test_a_reversed_fix_takes_its_people_off_the_campaign_board(board, town):
    organiser, campaign = town
    ada, bo = make_user(), make_user()
    claim = fix(organiser, ada)
    fix(organiser, bo)
    scope = Scope("campaign", campaign.id)
    assert len(ranking(board, scope=scope)) == 2
    reviews.reverse_claim(db.session, actor=organiser, claim=claim, reason="Photos of another street.")
    db.session.commit()
    assert ranking(board, scope=scope) == [(bo.id, 50)]
    assert board.standing_of("participants", ada.id, scope=scope) is None


def test_children_and_hidden_people_are_never_on_a_campaign_board(board, town, client, login):
    organiser, campaign = town
    shy, seen = make_user(), make_user()
    fix(organiser, shy)
    fix(organiser, seen)
    set_hidden_from_boards(db.session, actor=shy, hidden=True)
    db.session.commit()
    scope = Scope("campaign", campaign.id)
    assert ranking(board, scope=scope) == [(seen.id, 50)]
    assert board.around("participants", shy.id, scope=scope) is None
    mine = board.around("participants", shy.id, scope=scope, include_hidden=True)
    assert mine.me.hidden and mine.me.rank == 1


def test_a_child_is_never_on_a_campaign_board_but_sees_their_own_rank(board, town):
    organiser, campaign = town
    child, grown_up = make_user(name="Real Child Name"), make_user()
    db.session.execute(update(User).where(User.id == child.id).values(is_child=True))
    db.session.commit()
    teacher = make_organiser()
    make_team(teacher, members=(child,))
    board.rebuild()
    fix(organiser, child, teacher=teacher)
    fix(organiser, grown_up)
    scope = Scope("campaign", campaign.id)
    assert ranking(board, scope=scope) == [(grown_up.id, 50)]
    assert board.count("participants", "all", scope) == 1
    assert board.around("participants", grown_up.id, scope=scope).rows == [board.top("participants", scope=scope)[0]]
    assert board.standing_of("participants", child.id, scope=scope).hidden


def test_windows_narrow_a_campaign_board(board, town):
    organiser, campaign = town
    ada = make_user()
    claim = fix(organiser, ada)
    scope = Scope("campaign", campaign.id)
    assert ranking(board, scope=scope, window="week") == [(ada.id, 50)]
    assert ranking(board, scope=scope, window="month") == [(ada.id, 50)]
    assert claim.id


def test_an_unknown_campaign_is_refused(board, ctx):
    with pytest.raises(UnknownScope) as refused:
        board.top("participants", scope=Scope("campaign", 4242))
    assert refused.value.fields == {"campaign_id": ["No campaign with id 4242."]}


def test_a_campaign_not_started_has_an_empty_board(board, ctx):
    organiser = make_organiser()
    proposed = make_campaign(organiser, vote_until=utcnow() + timedelta(days=2))
    fix(organiser)
    assert board.top("participants", scope=Scope("campaign", proposed.id)) == []


# --- the Redis projection ----------------------------------------------------------------------

def test_campaign_keys_are_written_after_commit_per_board(redis_board, town):
    organiser, campaign = town
    captain = make_user()
    team = make_team(captain)
    fix(organiser, captain, team=team)
    scope = Scope("campaign", campaign.id)
    for name, member in (("participants", captain.id), ("teams", team.id)):
        keys = redis_board.keys(name, "all", scope)
        assert f":campaign:{campaign.id}:{name}:" in keys.public
        assert redis_board.client.exists(keys.ready)
        assert redis_board.client.zscore(keys.public, str(member)) is not None
    assert redis_board.drift() == []


def test_rebuild_restores_and_verify_finds_drift_in_a_campaign_board(redis_board, town):
    organiser, campaign = town
    ada, bo = make_user(), make_user()
    fix(organiser, ada)
    fix(organiser, bo)
    fix(organiser, bo)
    scope = Scope("campaign", campaign.id)
    keys = redis_board.keys("participants", "all", scope)
    redis_board.client.zadd(keys.public, {str(ada.id): 10**12})
    assert any(f"campaign {campaign.id}" in line for line in redis_board.drift())
    redis_board.client.delete(keys.public, keys.ready)
    redis_board.rebuild()
    assert redis_board.client.exists(keys.ready)
    assert redis_board.drift() == []
    assert ranking(redis_board, scope=scope) == [(bo.id, 100), (ada.id, 50)]


def test_a_reversal_removes_the_member_from_the_campaign_set(redis_board, town):
    organiser, campaign = town
    ada = make_user()
    claim = fix(organiser, ada)
    keys = redis_board.keys("participants", "all", Scope("campaign", campaign.id))
    assert redis_board.client.zscore(keys.public, str(ada.id)) is not None
    reviews.reverse_claim(db.session, actor=organiser, claim=claim, reason="Not this street.")
    db.session.commit()
    assert redis_board.client.zscore(keys.public, str(ada.id)) is None
    assert redis_board.drift() == []


def test_hiding_moves_a_member_to_the_hidden_campaign_set(redis_board, town):
    organiser, campaign = town
    ada = make_user()
    fix(organiser, ada)
    set_hidden_from_boards(db.session, actor=ada, hidden=True)
    db.session.commit()
    keys = redis_board.keys("participants", "all", Scope("campaign", campaign.id))
    assert redis_board.client.zscore(keys.public, str(ada.id)) is None
    assert redis_board.client.zscore(keys.hidden, str(ada.id)) is not None
    assert redis_board.drift() == []


def test_leaving_a_team_changes_nothing_on_a_campaign_board(redis_board, town):
    organiser, campaign = town
    captain, member = make_user(), make_user()
    team = make_team(captain, members=(member,))
    fix(organiser, member)
    accounts.leave_team(db.session, actor=member, team=team)
    db.session.commit()
    assert ranking(redis_board, scope=Scope("campaign", campaign.id)) == [(member.id, 50)]
    assert redis_board.drift() == []


# --- pages and the API -------------------------------------------------------------------------

def test_the_campaign_page_shows_its_board_and_your_place_never_a_childs_name(client, login, town):
    organiser, campaign = town
    players = [make_user(name=f"Fixer {n}") for n in range(6)]
    for n, player in enumerate(players):
        for _ in range(6 - n):
            fix(organiser, player)
    shy = make_user(name="Shy Fixer")
    fix(organiser, shy)
    set_hidden_from_boards(db.session, actor=shy, hidden=True)
    db.session.commit()
    login(players[3])
    html = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "Leaderboard" in html and "Fixer 0" in html and "Shy Fixer" not in html
    assert "You are <strong>#4</strong> with 150 points in this campaign." in html
    place = html.split("Your place in this campaign")[1].split("</table>")[0]
    assert [name in place for name in ("Fixer 1", "Fixer 2", "Fixer 3 (you)", "Fixer 4", "Fixer 5")] == [True] * 5
    assert "Fixer 0" not in place


def test_the_leaderboards_page_shows_a_campaigns_whole_board(client, login, town):
    organiser, campaign = town
    ada, bo = make_user(name="Ada"), make_user(name="Bo")
    fix(organiser, ada)
    fix(organiser, bo, **OUTSIDE)
    login(ada)
    html = client.get(f"/leaderboards?campaign_id={campaign.id}").get_data(as_text=True)
    assert campaign.title in html and "Ada" in html and ">Bo<" not in html
    assert "You are <strong>#1</strong> with 50 points of all time." in html
    teams = client.get(f"/leaderboards?campaign_id={campaign.id}&board=teams&window=week")
    assert teams.status_code == 200


@pytest.mark.parametrize("query", ["campaign_id=4242", "campaign_id=x", "campaign_id=0",
                                   "campaign_id=99999999999999999999"])
def test_an_unknown_campaign_on_the_page_is_404(client, ctx, query):
    assert client.get(f"/leaderboards?{query}").status_code == 404


def test_the_api_pages_a_campaigns_board_and_answers_around(client, town):
    organiser, campaign = town
    ada, bo = make_user(name="Ada"), make_user(name="Bo")
    captain = make_user(name="Cap")
    team = make_team(captain, name="Ants")
    fix(organiser, ada)
    fix(organiser, bo)
    fix(organiser, bo)
    fix(organiser, captain, team=team)
    body = client.get(f"/api/v1/leaderboards/participants?campaign_id={campaign.id}&limit=2").get_json()
    assert [(e["rank"], e["name"], e["points"]) for e in body["entries"]] == [(1, "Bo", 100), (2, "Ada", 50)]
    assert f"campaign_id={campaign.id}" in body["next"]
    teams = client.get(f"/api/v1/leaderboards/teams?campaign_id={campaign.id}").get_json()
    assert [(e["name"], e["points"]) for e in teams["entries"]] == [("Ants", 50)]
    around = client.get(f"/api/v1/leaderboards/participants/around/{ada.id}?campaign_id={campaign.id}").get_json()
    assert around["member"]["rank"] in (2, 3) and around["member"]["points"] == 50


@pytest.mark.parametrize("query", ["campaign_id=4242", "campaign_id=x", "campaign_id=0", "team_id=1&campaign_id=1"])
def test_a_bad_campaign_scope_in_the_api_is_422_naming_campaign_id(client, town, query):
    captain = make_user()
    make_team(captain)
    response = client.get(f"/api/v1/leaderboards/participants?{query}")
    assert response.status_code == 422, response.get_data(as_text=True)
    assert list(response.get_json()["error"]["fields"]) == ["campaign_id"]
    around = client.get(f"/api/v1/leaderboards/participants/around/{captain.id}?{query}")
    assert around.status_code == 422


def test_the_commands_rebuild_and_verify_campaign_boards(runner, redis_board, town):
    organiser, campaign = town
    captain = make_user()
    fix(organiser, captain, team=make_team(captain))
    redis_board.client.flushdb()
    drift = runner.invoke(args=["scoring", "verify"])
    assert drift.exit_code == 1
    for label in (f"participants campaign {campaign.id} all", f"teams campaign {campaign.id} week:"):
        assert label in drift.output, label
    rebuilt = runner.invoke(args=["scoring", "rebuild"])
    assert rebuilt.exit_code == 0 and "campaign" in rebuilt.output
    verified = runner.invoke(args=["scoring", "verify"])
    assert verified.exit_code == 0 and "campaign" in verified.output


def test_a_deleted_account_leaves_the_campaign_board_without_drift(redis_board, town):
    from accounts import erasure, mydata
    from tests.factories import PASSWORD

    organiser, campaign = town
    leaving, staying = make_user(name="Leaving Lark"), make_user()
    fix(organiser, leaving)
    fix(organiser, staying)
    done = mydata.delete_account(db.session, actor=leaving, password=PASSWORD)
    db.session.commit()
    erasure.forget(done)
    scope = Scope("campaign", campaign.id)
    assert [s.name for s in redis_board.top("participants", scope=scope)] == [staying.display_name]
    assert redis_board.drift() == []
