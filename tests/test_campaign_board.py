"""The campaign leaderboard scope: participants and teams ranked by the points of the fixes
that count towards a campaign (its area, categories and dates), on both backends."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from accounts import services as accounts
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
