"""Teams in the API: the list, starting one, members, leaving, join requests and the
captain's actions, each through the same accounts.services function as the team page.

Members are listed as the team page lists them: to the public (and to anyone who is not
a member) never a child's account nor someone hidden from the boards, only counted in
`unlisted`; members see everyone.
"""
from __future__ import annotations

from datetime import timedelta

from flask import url_for

from accounts import services as accounts
from accounts.models import Team, TeamJoinRequest, User
from accounts.teampage import Member, visible_members
from api import bp
from api.auth import optional_bearer_user, token_required
from api.parsing import (MAX_ID, bool_arg, identifier, json_body, one_of, page_args, paginated, paginated_list,
                         read_args, read_fields, text, text_arg, whole_number)
from api.routes import created, team_json
from extensions import db
from timeutil import isoformat, utcnow

ID = f"int(max={MAX_ID})"
CODE_LIFETIMES = (1, 7, 30)  # days, as the team page offers


def team_summary(team: Team, counts: dict[int, int]) -> dict:
    return {"id": team.id, "name": team.name, "members_count": counts.get(team.id, 0),
            "max_members": accounts.size_limit(team), "closed": team.closed_at is not None,
            "url": url_for("api.team", team_id=team.id)}


def member_json(member: Member) -> dict:
    return {"id": member.user_id, "name": member.name, "captain": member.captain}


def request_json(found: TeamJoinRequest) -> dict:
    return {"id": found.id, "team_id": found.team_id, "status": found.status,
            "created_at": isoformat(found.created_at), "decided_at": isoformat(found.decided_at)}


def join_code_json(team: Team) -> dict:
    """For the captain only: the code people join with."""
    return {"team_id": team.id, "join_code": team.join_code, "expires_at": isoformat(team.join_code_expires_at)}


@bp.get("/teams")
def teams():
    """Teams by name, open ones (`include_closed=true` for all); `name` filters on part of the name."""
    args = read_args(name=text_arg(max_length=60), include_closed=bool_arg, **page_args())
    listing = paginated(accounts.teams_select(name=args["name"], include_closed=args["include_closed"]),
                        lambda team: team, args)
    counts = accounts.member_counts(db.session, [team.id for team in listing["items"]])
    return {**listing, "items": [team_summary(team, counts) for team in listing["items"]]}


@bp.post("/teams")
@token_required
def create_team(actor: User):
    """Start a team {"name"}; the caller is its captain. Answers with the team and its join code."""
    values = read_fields(json_body(), {"name": text}, required=("name",))
    team = accounts.create_team(db.session, actor=actor, name=values["name"])
    db.session.commit()
    return created({**team_json(team.id), **join_code_json(team)}, url_for("api.team", team_id=team.id))


@bp.get(f"/teams/<{ID}:team_id>/members")
def team_members(team_id: int):
    """A team's members as its page lists them (members see everyone; others only public members)."""
    args = read_args(**page_args())
    viewer = optional_bearer_user()
    team = accounts.visible_team(db.session, viewer, team_id)
    is_member = viewer is not None and accounts.is_member(db.session, user_id=viewer.id, team_id=team.id)
    members, unlisted = visible_members(db.session, team, viewer_is_member=is_member)
    return {**paginated_list(members, member_json, args), "unlisted": unlisted}


@bp.post(f"/teams/<{ID}:team_id>/leave")
@token_required
def leave_team(actor: User, team_id: int):
    """Leave a team (a captain hands over first; the last member closes it)."""
    team = accounts.visible_team(db.session, actor, team_id)
    accounts.leave_team(db.session, actor=actor, team=team)
    db.session.commit()
    return {"team_id": team.id, "member": False, "closed": team.closed_at is not None}


@bp.post(f"/teams/<{ID}:team_id>/code")
@token_required
def regenerate_join_code(actor: User, team_id: int):
    """Captain: a new join code (the old one stops at once); optional {"expires_in_days": 1|7|30}."""
    values = read_fields(json_body(optional=True), {"expires_in_days": one_of(*CODE_LIFETIMES)})
    days = values["expires_in_days"]
    team = accounts.regenerate_join_code(db.session, actor=actor,
                                         team=accounts.visible_team(db.session, actor, team_id),
                                         expires_at=utcnow() + timedelta(days=days) if days else None)
    db.session.commit()
    return join_code_json(team)


@bp.post(f"/teams/<{ID}:team_id>/size")
@token_required
def set_team_size(actor: User, team_id: int):
    """Captain: the team's own member limit {"max_size"} (null: the site's limit)."""
    values = read_fields(json_body(), {"max_size": whole_number})
    team = accounts.set_max_size(db.session, actor=actor, team=accounts.visible_team(db.session, actor, team_id),
                                 max_size=values["max_size"])
    db.session.commit()
    return team_json(team.id)


@bp.post(f"/teams/<{ID}:team_id>/members/<{ID}:user_id>/remove")
@token_required
def remove_team_member(actor: User, team_id: int, user_id: int):
    """Captain: remove a member (never the captain)."""
    team = accounts.visible_team(db.session, actor, team_id)
    accounts.remove_member(db.session, actor=actor, team=team, user_id=user_id)
    db.session.commit()
    return team_json(team.id)


@bp.post(f"/teams/<{ID}:team_id>/captain")
@token_required
def hand_over_captaincy(actor: User, team_id: int):
    """Captain: hand the captaincy to another member {"new_captain_id"} (not a child)."""
    values = read_fields(json_body(), {"new_captain_id": identifier}, required=("new_captain_id",))
    team = accounts.hand_over_captaincy(db.session, actor=actor, team=accounts.visible_team(db.session, actor, team_id),
                                        new_captain_id=values["new_captain_id"])
    db.session.commit()
    return team_json(team.id)


@bp.get(f"/teams/<{ID}:team_id>/requests")
@token_required
def team_join_requests(actor: User, team_id: int):
    """Captain: the join requests waiting for a decision, with who asked."""
    args = read_args(**page_args())
    pending = accounts.pending_requests(db.session, actor=actor, team=accounts.visible_team(db.session, actor, team_id))
    return paginated_list(pending, lambda r: {**request_json(r), "user": {"id": r.user_id,
                                                                          "name": r.user.display_name}}, args)


@bp.post(f"/teams/<{ID}:team_id>/requests")
@token_required
def request_to_join_team(actor: User, team_id: int):
    """Ask the captain to let you in (no join code needed); answers with the pending request."""
    found = accounts.request_to_join(db.session, actor=actor, team=accounts.visible_team(db.session, actor, team_id))
    db.session.commit()
    return created(request_json(found), url_for("api.team", team_id=team_id))


@bp.post(f"/teams/<{ID}:team_id>/requests/<{ID}:request_id>/<any(approve, decline):decision>")
@token_required
def decide_join_request(actor: User, team_id: int, request_id: int, decision: str):
    """Captain: approve (they join, if there is room) or decline a join request."""
    found = accounts.decide_request(db.session, actor=actor, team=accounts.visible_team(db.session, actor, team_id),
                                    request_id=request_id, approve=decision == "approve")
    db.session.commit()
    return request_json(found)
