"""Teams: joining (code, invite link, request), size limits, captaincy, the team page."""
from __future__ import annotations

import hashlib
import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from accounts import services as teams
from accounts.models import JoinRequestStatus, Team, TeamInvite, TeamJoinRequest, TeamMembership
from childsafe import services as childsafe
from extensions import db
from scoring import ledger
from scoring.leaderboards import Scope
from tests.factories import approve, make_claim, make_organiser, make_quest, make_team, make_user
from tests.querycount import counting
from timeutil import utcnow

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


def members_of(team) -> set[int]:
    db.session.expire_all()
    return set(db.session.scalars(select(TeamMembership.user_id).where(TeamMembership.team_id == team.id)))


def fresh(team) -> Team:
    db.session.expire_all()
    return db.session.get(Team, team.id)


def child(name: str | None = None):
    user = make_user(name=name)
    user.is_child = True
    db.session.commit()
    return user


def released(teacher, claim):
    """A child's evidence, released by their teacher to the reviewers."""
    childsafe.decide(db.session, actor=teacher, hold=childsafe.hold_of(db.session, claim.id), decision="approve")
    db.session.commit()
    return claim


def page_of(client, team) -> str:
    response = client.get(f"/teams/{team.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def invite_token(client, team, **data) -> str:
    """Make an invite link through the captain's form; the token from the page shown once."""
    html = client.post(f"/teams/{team.id}/invites", data=data).get_data(as_text=True)
    return re.search(r"/teams/invite/([\w-]+)", html).group(1)


# --- join codes ----------------------------------------------------------------------------

def test_joining_twice_says_so_and_changes_nothing(client, login):
    captain, member = make_user(), make_user()
    team = make_team(captain, members=(member,))
    login(member)
    response = client.post("/teams/join", data={"code": team.join_code})
    assert response.status_code == 422
    assert "You are already in this team." in response.get_data(as_text=True)
    assert members_of(team) == {captain.id, member.id}


def test_joining_a_full_team_says_so_and_changes_nothing(client, login, app, monkeypatch):
    monkeypatch.setitem(app.config, "TEAM_MAX_SIZE", 3)
    captain = make_user()
    team = make_team(captain, members=(make_user(), make_user()))
    late = make_user()
    login(late)
    response = client.post("/teams/join", data={"code": team.join_code})
    assert response.status_code == 422
    assert "This team is full: it has its maximum of 3 members." in response.get_data(as_text=True)
    assert late.id not in members_of(team) and len(members_of(team)) == 3


def test_a_team_can_set_a_lower_limit_than_the_site(client, login, ctx):
    captain, member = make_user(), make_user()
    team = make_team(captain, members=(member,))
    login(captain)
    client.post(f"/teams/{team.id}/size", data={"max_size": "2"})
    assert fresh(team).max_size == 2
    login(make_user())
    response = client.post("/teams/join", data={"code": team.join_code})
    assert "maximum of 2 members" in response.get_data(as_text=True)
    assert len(members_of(team)) == 2


def test_size_limit_refuses_below_the_members_or_above_the_site(client, login, app):
    captain = make_user()
    team = make_team(captain, members=(make_user(), make_user()))
    login(captain)
    client.post(f"/teams/{team.id}/size", data={"max_size": "2"})
    assert "The team already has 3 members" in page_of(client, team)
    client.post(f"/teams/{team.id}/size", data={"max_size": str(app.config["TEAM_MAX_SIZE"] + 1)})
    assert f"Choose a size from 2 to {app.config['TEAM_MAX_SIZE']}." in page_of(client, team)
    assert fresh(team).max_size is None


def test_only_the_captain_sets_the_size(client, login):
    captain, member = make_user(), make_user()
    team = make_team(captain, members=(member,))
    login(member)
    assert client.post(f"/teams/{team.id}/size", data={"max_size": "5"}).status_code == 403
    assert fresh(team).max_size is None


def test_check_room_takes_an_events_own_limit(ctx):
    team = make_team(make_user(), members=(make_user(),))
    teams.check_room(db.session, team)  # 2 of 12
    with pytest.raises(teams.TeamFull) as refused:
        teams.check_room(db.session, team, limit=2)
    assert refused.value.limit == 2
    teams.check_room(db.session, team, extra=3, limit=5)
    with pytest.raises(teams.TeamFull):
        teams.check_room(db.session, team, extra=4, limit=5)


def test_captain_regenerates_the_code_and_the_old_one_stops_working(client, login):
    captain = make_user()
    team = make_team(captain)
    old = team.join_code
    login(captain)
    client.post(f"/teams/{team.id}/code", data={"expires": ""})
    new = fresh(team).join_code
    assert new != old and new in page_of(client, team)
    login(make_user())
    assert client.post("/teams/join", data={"code": old}).status_code == 422
    assert client.post("/teams/join", data={"code": new}).status_code == 302


def test_an_expired_join_code_says_so(client, login, ctx):
    captain = make_user()
    team = make_team(captain)
    teams.regenerate_join_code(db.session, actor=captain, team=team, expires_at=utcnow() + timedelta(days=1))
    db.session.commit()
    later = utcnow() + timedelta(days=2)
    with pytest.raises(teams.JoinCodeExpired):
        teams.join_team(db.session, actor=make_user(), code=team.join_code, now=later)
    db.session.rollback()
    team.join_code_expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    login(make_user())
    response = client.post("/teams/join", data={"code": team.join_code})
    assert response.status_code == 422
    assert "That join code has expired" in response.get_data(as_text=True)
    assert len(members_of(team)) == 1


def test_an_expiring_code_is_shown_with_its_end(client, login):
    captain = make_user()
    team = make_team(captain)
    login(captain)
    client.post(f"/teams/{team.id}/code", data={"expires": "7"})
    assert fresh(team).join_code_expires_at is not None
    assert "works until" in page_of(client, team)


def test_only_the_captain_regenerates_the_code(client, login):
    captain, member = make_user(), make_user()
    team = make_team(captain, members=(member,))
    code = team.join_code
    login(member)
    assert client.post(f"/teams/{team.id}/code", data={"expires": ""}).status_code == 403
    assert fresh(team).join_code == code


def test_team_actions_need_the_csrf_token(client, login):
    captain = make_user()
    team = make_team(captain)
    code = team.join_code
    login(captain)
    assert client.post(f"/teams/{team.id}/code", data={"expires": ""}, csrf=False).status_code == 400
    assert fresh(team).join_code == code


# --- invite links --------------------------------------------------------------------------

def test_invite_link_lets_people_join_and_only_its_digest_is_stored(client, login):
    captain, guest = make_user(), make_user()
    team = make_team(captain)
    login(captain)
    token = invite_token(client, team, expires="")
    stored = db.session.scalar(select(TeamInvite))
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in stored.token_hash

    login(guest)
    page = client.get(f"/teams/invite/{token}")
    assert page.status_code == 200 and f"Join {team.name}" in page.get_data(as_text=True)
    assert guest.id not in members_of(team)  # opening the link changes nothing
    assert client.post(f"/teams/invite/{token}", data={}).status_code == 302
    assert guest.id in members_of(team)


def test_a_single_use_link_works_once(client, login):
    captain, first, second = make_user(), make_user(), make_user()
    team = make_team(captain)
    login(captain)
    token = invite_token(client, team, expires="", single_use="y")
    login(first)
    client.post(f"/teams/invite/{token}", data={})
    login(second)
    assert "has been used" in client.get(f"/teams/invite/{token}").get_data(as_text=True)
    client.post(f"/teams/invite/{token}", data={})
    assert members_of(team) == {captain.id, first.id}


def test_a_single_use_link_is_not_spent_by_a_refused_join(ctx):
    captain, member, newcomer = make_user(), make_user(), make_user()
    team = make_team(captain, members=(member,))
    _, token = teams.create_invite(db.session, actor=captain, team=team, single_use=True)
    db.session.commit()
    with pytest.raises(teams.AlreadyInTeam):
        teams.join_by_invite(db.session, actor=member, token=token)
    db.session.rollback()
    teams.join_by_invite(db.session, actor=newcomer, token=token)
    db.session.commit()
    assert newcomer.id in members_of(team)


def test_expired_withdrawn_and_unknown_links_say_why(client, login, ctx):
    captain = make_user()
    team = make_team(captain)
    expiring, old_token = teams.create_invite(db.session, actor=captain, team=team,
                                              expires_at=utcnow() + timedelta(hours=1))
    _, withdrawn_token = teams.create_invite(db.session, actor=captain, team=team)
    db.session.commit()
    expiring.expires_at = utcnow() - timedelta(minutes=1)
    teams.revoke_invite(db.session, actor=captain, team=team,
                        invite_id=db.session.scalar(select(TeamInvite.id).order_by(TeamInvite.id.desc())))
    db.session.commit()
    login(make_user())
    expired = client.get(f"/teams/invite/{old_token}")
    assert expired.status_code == 410 and "has expired" in expired.get_data(as_text=True)
    gone = client.get(f"/teams/invite/{withdrawn_token}")
    assert gone.status_code == 410 and "withdrawn" in gone.get_data(as_text=True)
    assert client.get("/teams/invite/made-up-token").status_code == 404
    client.post(f"/teams/invite/{old_token}", data={})
    assert members_of(team) == {captain.id}


def test_only_the_captain_makes_and_withdraws_links(client, login, ctx):
    captain, member = make_user(), make_user()
    team = make_team(captain, members=(member,))
    invite, token = teams.create_invite(db.session, actor=captain, team=team)
    db.session.commit()
    login(member)
    assert client.post(f"/teams/{team.id}/invites", data={"expires": ""}).status_code == 403
    assert client.post(f"/teams/{team.id}/invites/{invite.id}/revoke", data={}).status_code == 403
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(TeamInvite)) == 1
    assert db.session.get(TeamInvite, invite.id).revoked_at is None


def test_invite_links_respect_the_size_limit(client, login, app, monkeypatch, ctx):
    monkeypatch.setitem(app.config, "TEAM_MAX_SIZE", 2)
    captain = make_user()
    team = make_team(captain, members=(make_user(),))
    _, token = teams.create_invite(db.session, actor=captain, team=team)
    db.session.commit()
    login(make_user())
    response = client.post(f"/teams/invite/{token}", data={}, headers={"Referer": f"/teams/invite/{token}"},
                           follow_redirects=True)
    assert "This team is full" in response.get_data(as_text=True)
    assert len(members_of(team)) == 2


# --- join requests -------------------------------------------------------------------------

def test_request_then_captain_approves(client, login):
    captain, asker = make_user(), make_user(name="Eager Heron")
    team = make_team(captain)
    login(asker)
    client.post(f"/teams/{team.id}/requests", data={})
    assert "the captain has not decided yet" in page_of(client, team)
    login(captain)
    assert "Eager Heron asked on" in page_of(client, team)
    request_id = db.session.scalar(select(TeamJoinRequest.id))
    client.post(f"/teams/{team.id}/requests/{request_id}/approve", data={})
    assert asker.id in members_of(team)
    assert db.session.get(TeamJoinRequest, request_id).status == JoinRequestStatus.approved.value


def test_a_declined_requester_is_told_on_the_team_page(client, login):
    captain, asker = make_user(), make_user()
    team = make_team(captain)
    login(asker)
    client.post(f"/teams/{team.id}/requests", data={})
    request_id = db.session.scalar(select(TeamJoinRequest.id))
    login(captain)
    client.post(f"/teams/{team.id}/requests/{request_id}/decline", data={})
    login(asker)
    assert "Your request to join was declined" in page_of(client, team)
    assert asker.id not in members_of(team)


def test_asking_twice_says_so_and_keeps_one_request(client, login):
    captain, asker = make_user(), make_user()
    team = make_team(captain)
    login(asker)
    client.post(f"/teams/{team.id}/requests", data={})
    response = client.post(f"/teams/{team.id}/requests", data={}, headers={"Referer": f"/teams/{team.id}"},
                           follow_redirects=True)
    assert "You have already asked to join this team" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(TeamJoinRequest)) == 1


def test_only_the_captain_decides_requests(client, login):
    captain, member, asker = make_user(), make_user(), make_user()
    team = make_team(captain, members=(member,))
    login(asker)
    client.post(f"/teams/{team.id}/requests", data={})
    request_id = db.session.scalar(select(TeamJoinRequest.id))
    for who in (member, asker):
        login(who)
        assert client.post(f"/teams/{team.id}/requests/{request_id}/approve", data={}).status_code == 403
    db.session.expire_all()
    assert db.session.get(TeamJoinRequest, request_id).status == "pending"
    assert asker.id not in members_of(team)


def test_approving_into_a_full_team_says_so_and_keeps_the_request(client, login, app, monkeypatch):
    captain, asker = make_user(), make_user()
    team = make_team(captain, members=(make_user(),))
    login(asker)
    client.post(f"/teams/{team.id}/requests", data={})
    request_id = db.session.scalar(select(TeamJoinRequest.id))
    monkeypatch.setitem(app.config, "TEAM_MAX_SIZE", 2)
    login(captain)
    response = client.post(f"/teams/{team.id}/requests/{request_id}/approve", data={},
                           headers={"Referer": f"/teams/{team.id}"}, follow_redirects=True)
    assert "This team is full" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(TeamJoinRequest, request_id).status == "pending"
    assert asker.id not in members_of(team)


def test_a_decided_request_is_not_decided_again(ctx):
    captain, asker = make_user(), make_user()
    team = make_team(captain)
    request = teams.request_to_join(db.session, actor=asker, team=team)
    teams.decide_request(db.session, actor=captain, team=team, request_id=request.id, approve=False)
    db.session.commit()
    with pytest.raises(teams.RequestDecided) as refused:
        teams.decide_request(db.session, actor=captain, team=team, request_id=request.id, approve=True)
    assert refused.value.message == "That request was already declined."
    db.session.rollback()
    assert asker.id not in members_of(team)


def test_a_teams_own_limit_never_exceeds_the_sites(ctx, app, monkeypatch):
    team = make_team(make_user())
    team.max_size = 10
    monkeypatch.setitem(app.config, "TEAM_MAX_SIZE", 4)
    assert teams.size_limit(team) == 4 and teams.size_limit(team, limit=30) == 30


def test_joining_by_code_settles_a_pending_request(ctx):
    captain, asker = make_user(), make_user()
    team = make_team(captain)
    teams.request_to_join(db.session, actor=asker, team=team)
    teams.join_team(db.session, actor=asker, code=team.join_code)
    db.session.commit()
    assert db.session.scalar(select(TeamJoinRequest.status)) == JoinRequestStatus.withdrawn.value


# --- members and captaincy -----------------------------------------------------------------

def test_captain_removes_a_member(client, login):
    captain, member = make_user(), make_user()
    team = make_team(captain, members=(member,))
    login(captain)
    client.post(f"/teams/{team.id}/members/{member.id}/remove", data={})
    assert members_of(team) == {captain.id}


def test_a_member_cannot_remove_anyone(client, login):
    captain, member, other = make_user(), make_user(), make_user()
    team = make_team(captain, members=(member, other))
    login(member)
    assert client.post(f"/teams/{team.id}/members/{other.id}/remove", data={}).status_code == 403
    assert client.post(f"/teams/{team.id}/members/{captain.id}/remove", data={}).status_code == 403
    assert members_of(team) == {captain.id, member.id, other.id}


def test_the_captain_cannot_remove_themselves(client, login):
    captain, member = make_user(), make_user()
    team = make_team(captain, members=(member,))
    login(captain)
    response = client.post(f"/teams/{team.id}/members/{captain.id}/remove", data={},
                           headers={"Referer": f"/teams/{team.id}"}, follow_redirects=True)
    assert "A team always has a captain" in response.get_data(as_text=True)
    assert members_of(team) == {captain.id, member.id}


def test_a_captain_leaving_without_a_successor_is_told_and_nothing_changes(client, login):
    captain, member = make_user(), make_user()
    team = make_team(captain, members=(member,))
    login(captain)
    response = client.post(f"/teams/{team.id}/leave", data={}, headers={"Referer": f"/teams/{team.id}"},
                           follow_redirects=True)
    assert "hand the captaincy to another member first" in response.get_data(as_text=True)
    assert members_of(team) == {captain.id, member.id} and fresh(team).captain_id == captain.id


def test_the_new_captain_must_be_another_member(client, login):
    captain, member, outsider = make_user(), make_user(), make_user()
    team = make_team(captain, members=(member,))
    login(captain)
    client.post(f"/teams/{team.id}/captain", data={"new_captain_id": outsider.id})
    assert fresh(team).captain_id == captain.id
    client.post(f"/teams/{team.id}/captain", data={"new_captain_id": captain.id})
    assert "The new captain must be another member of the team." in page_of(client, team)
    login(member)
    assert client.post(f"/teams/{team.id}/captain", data={"new_captain_id": member.id}).status_code == 403
    assert fresh(team).captain_id == captain.id
    login(captain)
    client.post(f"/teams/{team.id}/captain", data={"new_captain_id": member.id})
    assert fresh(team).captain_id == member.id


def test_the_last_member_leaving_closes_the_team(client, login, ctx):
    captain = make_user()
    team = make_team(captain, name="Short Lived")
    _, token = teams.create_invite(db.session, actor=captain, team=team)
    db.session.commit()
    login(captain)
    assert "Leave and close the team" in page_of(client, team)
    left = client.post(f"/teams/{team.id}/leave", data={}, follow_redirects=True).get_data(as_text=True)
    assert "as its last member you closed it" in left
    closed = fresh(team)
    assert closed.closed_at is not None and members_of(team) == set()
    assert "Short Lived" not in client.get("/teams").get_data(as_text=True)
    assert "This team closed on" in page_of(client, team)
    login(make_user())
    assert "has closed" in client.post("/teams/join", data={"code": closed.join_code}).get_data(as_text=True)
    assert client.get(f"/teams/invite/{token}").status_code == 410
    assert members_of(team) == set()
    login(captain)  # still named its captain, but nothing can be managed on a closed team
    code = fresh(team).join_code
    refused = client.post(f"/teams/{team.id}/code", data={"expires": ""}, headers={"Referer": f"/teams/{team.id}"},
                          follow_redirects=True)
    assert "This team has closed" in refused.get_data(as_text=True)
    assert fresh(team).join_code == code


def test_members_joining_by_request_and_removed_move_in_and_out_of_the_team_board(client, login, app):
    captain, asker = make_user(), make_user()
    team = make_team(captain)
    ledger.award(db.session, key="t:asker", amount=25, reason="test", user_id=asker.id)
    db.session.commit()
    board, scope = app.extensions["fixquest.leaderboard"], Scope("team", team.id)

    def ranked() -> list[int]:
        return [row.member_id for row in board.top("participants", scope=scope)]

    assert asker.id not in ranked()
    login(asker)
    client.post(f"/teams/{team.id}/requests", data={})
    login(captain)
    client.post(f"/teams/{team.id}/requests/{db.session.scalar(select(TeamJoinRequest.id))}/approve", data={})
    assert ranked() == [asker.id]
    client.post(f"/teams/{team.id}/members/{asker.id}/remove", data={})
    assert ranked() == []


# --- the team page -------------------------------------------------------------------------

def test_children_and_hidden_members_are_counted_not_named_in_public(client, login):
    captain = make_organiser(name="Ms Teacher", email="teacher@example.org")  # children join teachers only
    kid = child(name="Kid Named Alex")
    shy = make_user(name="Shy Person")
    shy.hidden_from_boards = True
    db.session.commit()
    team = make_team(captain, members=(kid, shy))
    html = page_of(client, team)
    assert "Ms Teacher" in html and "Kid Named Alex" not in html and "Shy Person" not in html
    assert "2 more members, not listed publicly." in html and "Members (3 of 12)" in html
    assert not EMAIL.search(html)
    login(captain)
    html = page_of(client, team)
    assert "Kid Named Alex" in html and "Shy Person" in html


def test_team_page_shows_points_this_week_and_season_and_past_weeks(client, app, ctx, monkeypatch):
    organiser, captain = make_organiser(), make_user()
    team = make_team(captain)
    quest = make_quest(organiser, mode="team", points=40)
    approve(organiser, make_claim(captain, quest, team=team, submit=True))
    html = page_of(client, team)
    assert "<strong>40</strong> points this week" in html and "<strong>40</strong> of all time" in html
    assert "40 points." in html  # the chart's description ends with this week

    calendar = app.extensions["fixquest.leaderboard"].calendar
    monkeypatch.setattr(calendar, "clock", lambda: utcnow() + timedelta(weeks=2))
    html = page_of(client, team)
    assert "<strong>0</strong> points this week" in html
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th><td>(\d+)</td></tr>', html)
    assert len(rows) == 8 and rows[0][0].endswith("(this week)")
    assert [int(points) for _, points in rows] == [0, 0, 40, 0, 0, 0, 0, 0]
    assert "against an average of 5 a week over the 7 weeks before: there is still time to catch up." in html
    assert "Best week: 40 points." in html
    assert 'role="img"' in html and "<title id=\"chart-title\">" in html


def test_recent_activity_shows_fixes_and_badges_without_naming_children(client, ctx):
    organiser, captain = make_organiser(), make_organiser(name="Captain Kay")
    kid = child(name="Kid Named Sam")
    team = make_team(captain, members=(kid,))
    solo = make_quest(organiser, title="Paint the railings")
    approve(organiser, make_claim(captain, solo, submit=True))
    team_quest = make_quest(organiser, title="Tidy the playground", mode="team")
    approve(organiser, released(captain, make_claim(kid, team_quest, team=team, submit=True)))
    kid_solo = make_quest(organiser, title="Secret kid quest")
    approve(organiser, released(captain, make_claim(kid, kid_solo, submit=True)))
    html = page_of(client, team)
    assert "Captain Kay fixed" in html and "Paint the railings" in html
    assert "A member fixed" in html and "Tidy the playground" in html
    assert "Captain Kay earned the First Fix badge" in html
    assert "Kid Named Sam" not in html and "Secret kid quest" not in html


def test_team_page_queries_do_not_grow_with_members_and_fixes(client, login, ctx):
    organiser = make_organiser()

    def build(size: int):
        captain = make_user()
        members = tuple(make_user() for _ in range(size))
        team = make_team(captain, members=members)
        for member in (captain, *members):
            approve(organiser, make_claim(member, make_quest(organiser), submit=True))
            approve(organiser, make_claim(member, make_quest(organiser, mode="team"), team=team, submit=True))
        return captain, team

    counts = []
    for captain, team in (build(1), build(6)):
        for viewer in (None, captain):
            if viewer:
                login(viewer)
            with counting(db.engine) as statements:
                assert client.get(f"/teams/{team.id}").status_code == 200
            counts.append(len(statements))
        client.post("/logout", data={})
    assert counts[0] == counts[2] and counts[1] == counts[3], counts
    assert counts[1] <= 14, counts


def test_team_page_shows_join_options_to_outsiders(client, login, app, monkeypatch):
    captain = make_user()
    team = make_team(captain)
    assert "Log in</a> to join this team" in page_of(client, team)
    login(make_user())
    html = page_of(client, team)
    assert "Ask to join" in html and team.join_code not in html and "Manage the team" not in html
    monkeypatch.setitem(app.config, "TEAM_MAX_SIZE", 1)
    assert "This team is full" in page_of(client, team)


# --- races (PostgreSQL) --------------------------------------------------------------------

def test_two_people_racing_for_the_last_place_one_gets_it(pg, monkeypatch):
    monkeypatch.setitem(pg.config, "TEAM_MAX_SIZE", 2)
    captain, first, second = make_user(), make_user(), make_user()
    team = make_team(captain)
    code, people = team.join_code, [first.id, second.id]
    barrier, outcomes = threading.Barrier(2), []

    def join(user_id: int):
        with pg.app_context():
            from accounts.models import User
            try:
                barrier.wait(timeout=5)
                teams.join_team(db.session, actor=db.session.get(User, user_id), code=code)
                db.session.commit()
                outcomes.append("joined")
            except teams.TeamFull:
                db.session.rollback()
                outcomes.append("full")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=join, args=(person,)) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(outcomes) == ["full", "joined"]
    assert len(members_of(team)) == 2


def test_two_people_racing_for_a_single_use_link_one_joins(pg):
    captain, first, second = make_user(), make_user(), make_user()
    team = make_team(captain)
    _, token = teams.create_invite(db.session, actor=captain, team=team, single_use=True)
    db.session.commit()
    barrier, outcomes = threading.Barrier(2), []

    def join(user_id: int):
        with pg.app_context():
            from accounts.models import User
            try:
                barrier.wait(timeout=5)
                teams.join_by_invite(db.session, actor=db.session.get(User, user_id), token=token)
                db.session.commit()
                outcomes.append("joined")
            except teams.InviteNotUsable:
                db.session.rollback()
                outcomes.append("used")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=join, args=(person,)) for person in (first.id, second.id)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(outcomes) == ["joined", "used"]
    assert len(members_of(team)) == 2


# --- the JSON API --------------------------------------------------------------------------

def test_api_team_shows_public_members_and_points(client, ctx):
    from tests.api import auth

    captain = make_organiser(name="Api Captain")
    kid = child(name="Api Kid")
    team = make_team(captain, members=(kid,))
    body = client.get(f"/api/v1/teams/{team.id}").get_json()
    assert body["name"] == team.name and body["members_count"] == 2
    assert [m["name"] for m in body["members"]] == ["Api Captain"]
    assert body["points"] == {"week": 0, "season": 0}
    assert "join_code" not in body and not EMAIL.search(str(body))
    assert client.get("/api/v1/teams/999999").status_code == 404

    joiner = make_user()
    response = client.post("/api/v1/teams/join", json={"code": team.join_code}, headers=auth(joiner))
    assert response.status_code == 200 and response.get_json()["id"] == team.id
    again = client.post("/api/v1/teams/join", json={"code": team.join_code}, headers=auth(joiner))
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_in_team"
    assert client.post("/api/v1/teams/join", json={"code": 7}, headers=auth(joiner)).status_code == 422
    assert client.post("/api/v1/teams/join", json={"code": team.join_code}).status_code == 401
