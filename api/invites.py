"""Team invite links in the API, through the same accounts.services functions as the team
page: the captain makes one (its token and link answered once, never again: only a digest
is kept), lists the links not withdrawn, withdraws one; anyone with the token sees which
team it is for, and an account joins with it.
"""
from __future__ import annotations

from datetime import timedelta

from flask import url_for

from accounts import services as accounts
from accounts.models import TeamInvite, User
from api import bp
from api.auth import token_required
from api.parsing import MAX_ID, boolean, json_body, one_of, page_args, paginated_list, read_args, read_fields
from api.routes import team_json
from extensions import db
from timeutil import isoformat, utcnow

ID = f"int(max={MAX_ID})"
LIFETIMES = (1, 7, 30)  # days, as the team page offers ("until I change it": leave it out)
TOKEN = "string(minlength=1, maxlength=200)"  # an invite token (secrets.token_urlsafe)


def invite_json(invite: TeamInvite) -> dict:
    """An invite link as the captain's list shows it (never its token: only a digest is kept)."""
    return {"id": invite.id, "team_id": invite.team_id, "created_at": isoformat(invite.created_at),
            "expires_at": isoformat(invite.expires_at),
            "expired": invite.expires_at is not None and invite.expires_at <= utcnow(),
            "single_use": invite.single_use, "uses": invite.uses, "revoked_at": isoformat(invite.revoked_at)}


@bp.get(f"/teams/<{ID}:team_id>/invites")
@token_required
def team_invites(actor: User, team_id: int):
    """Captain: the team's invite links not withdrawn (expired and used ones too), newest first."""
    args = read_args(**page_args())
    invites = accounts.live_invites(db.session, actor=actor, team=accounts.visible_team(db.session, actor, team_id))
    return paginated_list(invites, invite_json, args)


@bp.post(f"/teams/<{ID}:team_id>/invites")
@token_required
def create_team_invite(actor: User, team_id: int):
    """Captain: a new invite link; optional {"expires_in_days": 1|7|30, "single_use": bool}.
    Its token and link are in this answer only."""
    values = read_fields(json_body(optional=True), {"expires_in_days": one_of(*LIFETIMES), "single_use": boolean})
    days = values["expires_in_days"]
    invite, token = accounts.create_invite(db.session, actor=actor,
                                           team=accounts.visible_team(db.session, actor, team_id),
                                           expires_at=utcnow() + timedelta(days=days) if days else None,
                                           single_use=bool(values["single_use"]))
    db.session.commit()
    body = {**invite_json(invite), "token": token, "link": url_for("accounts.invite", token=token, _external=True)}
    return body, 201, {"Location": url_for("api.team_invites", team_id=team_id), "Cache-Control": "no-store"}


@bp.delete(f"/teams/<{ID}:team_id>/invites/<{ID}:invite_id>")
@token_required
def withdraw_team_invite(actor: User, team_id: int, invite_id: int):
    """Captain: withdraw an invite link (it stops working at once; withdrawing twice is fine)."""
    invite = accounts.revoke_invite(db.session, actor=actor, team=accounts.visible_team(db.session, actor, team_id),
                                    invite_id=invite_id)
    db.session.commit()
    return invite_json(invite)


@bp.get(f"/teams/invites/<{TOKEN}:token>")
def invite_preview(token: str):
    """Which team an invite link is for (anyone holding it, as the invite page shows);
    an unknown link is 404, one expired, used or withdrawn 410."""
    found = accounts.invite_for(db.session, token)
    return team_json(found.team_id)


@bp.post(f"/teams/invites/<{TOKEN}:token>/accept")
@token_required
def accept_team_invite(actor: User, token: str):
    """Join the team an invite link is for; answers with the team."""
    team = accounts.join_by_invite(db.session, actor=actor, token=token)
    db.session.commit()
    return team_json(team.id)
