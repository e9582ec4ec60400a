"""People in the API: the caller's own profile (GET/PATCH /me), badges (the catalogue, a
person's and the caller's, each earned one linking to its Open Badges 3.0 credential) and
the caller's in-app notifications.

A person's badges are shown to whoever may see their profile page (scoring.profile_views.
can_view_profile): anyone for an adult; a child's only to the child, their teachers and
classmates; a profile a moderator hid only to its owner and organisers; to anyone else
such a person is 404, like an id nobody has.
"""
from __future__ import annotations

from flask import url_for

from accounts import services as accounts
from accounts.models import User
from api import bp
from api.auth import optional_bearer_user, token_required
from api.parsing import (MAX_ID, bool_arg, boolean, choice_arg, json_body, page_args, paginated, paginated_list,
                         read_args, read_fields, text)
from api.serializers import update_json
from errors import NotFound
from extensions import db
from notifications import services as notifications
from notifications.models import Notification
from scoring.badges import Badge, EarnedBadge, badges_of, catalogue, current_settings
from scoring.leaderboards import set_hidden_from_boards
from scoring.profile_views import can_view_profile, load_profile
from timeutil import isoformat

ID = f"int(max={MAX_ID})"


# --- badges --------------------------------------------------------------------------------

def badge_json(badge: Badge) -> dict:
    return {"code": badge.code, "name": badge.name, "description": badge.description, "criteria": badge.criteria,
            "category": badge.category, "image": url_for("static", filename=f"badges/{badge.image}"),
            "achievement": url_for("profiles.achievement", code=badge.code)}


def earned_json(person_id: int, earned: EarnedBadge) -> dict:
    """An earned badge, with its Open Badges 3.0 credential (a JSON-LD document)."""
    return {**badge_json(earned.badge), "awarded_at": isoformat(earned.awarded_at),
            "credential": url_for("profiles.badge_credential", user_id=person_id, code=earned.badge.code)}


def earned_page(person: User) -> dict:
    args = read_args(**page_args())
    return paginated_list(badges_of(db.session, person.id), lambda earned: earned_json(person.id, earned), args)


@bp.get("/badges")
def badges():
    """The badge catalogue (every badge one can earn), optionally those of one `category`."""
    settings = current_settings()
    args = read_args(category=choice_arg(settings.categories), **page_args())
    shown = [b for b in catalogue(settings.categories).values()
             if args["category"] is None or b.category == args["category"]]
    return paginated_list(shown, badge_json, args)


@bp.get(f"/people/<{ID}:user_id>/badges")
def person_badges(user_id: int):
    """A person's earned badges with their Open Badges credentials (404 where their profile page is)."""
    person = db.session.get(User, user_id)
    if person is None or not can_view_profile(optional_bearer_user(), person):
        raise NotFound("person", user_id)
    return earned_page(person)


@bp.get("/me/badges")
@token_required
def my_badges(actor: User):
    """The caller's earned badges, oldest first, each with its Open Badges credential."""
    return earned_page(actor)


# --- the caller's profile ------------------------------------------------------------------

def me_json(actor: User) -> dict:
    profile = load_profile(db.session, actor)
    level = profile.level
    return {
        "id": actor.id, "display_name": actor.display_name, "role": actor.role, "points": profile.points,
        "level": {"number": level.number, "floor": level.floor, "next_floor": level.next_floor,
                  "progress": round(level.progress, 4), "points_to_next": level.points_to_next},
        "streak": {"weeks": profile.streak.weeks, "best": profile.streak.best, "forgiven": profile.streak.forgiven,
                   "enabled": profile.streak.enabled, "active_this_week": profile.active_this_week},
        "teams": [{"id": team.id, "name": team.name, "captain": team.captain_id == actor.id,
                   "url": url_for("api.team", team_id=team.id)} for team in accounts.teams_of(db.session, actor.id)],
        "hidden_from_boards": actor.hidden_from_boards, "badges_count": len(profile.earned),
        "profile": url_for("profiles.profile", user_id=actor.id),
    }


@bp.get("/me")
@token_required
def me(actor: User):
    """The caller's own profile: display name, level and progress, points, streak, teams, leaderboard visibility."""
    return me_json(actor), 200, {"Cache-Control": "no-store"}


@bp.patch("/me")
@token_required
def update_me(actor: User):
    """Change the caller's {"display_name"} and/or {"hidden_from_boards"} (children stay hidden)."""
    values = read_fields(json_body(), {"display_name": text, "hidden_from_boards": boolean})
    if values["display_name"] is not None:
        accounts.rename(db.session, actor=actor, display_name=values["display_name"])
    if values["hidden_from_boards"] is not None:
        set_hidden_from_boards(db.session, actor=actor, hidden=values["hidden_from_boards"])
    db.session.commit()
    return me_json(actor), 200, {"Cache-Control": "no-store"}


# --- notifications -------------------------------------------------------------------------

def notification_json(found: Notification) -> dict:
    entry = found.update
    return {"id": found.id, "read": found.read_at is not None, "read_at": isoformat(found.read_at),
            "created_at": isoformat(found.created_at),
            "summary": notifications.describe_update(entry, entry.problem), "update": update_json(entry),
            "problem": url_for("api.problem", problem_id=entry.problem_id)}


@bp.get("/me/notifications")
@token_required
def my_notifications(actor: User):
    """The caller's in-app notifications, newest first (`unread=true`: only unread), with the unread count."""
    args = read_args(unread=bool_arg, **page_args())
    listing = paginated(notifications.inbox_select(actor.id, unread_only=args["unread"]), notification_json, args)
    return ({**listing, "unread_count": notifications.unread_count(db.session, actor.id)}, 200,
            {"Cache-Control": "no-store"})


@bp.post(f"/me/notifications/<{ID}:notification_id>/read")
@token_required
def read_notification(actor: User, notification_id: int):
    """Mark one of the caller's notifications as read (someone else's is 404)."""
    notifications.mark_read(db.session, actor=actor, notification_id=notification_id)
    db.session.commit()
    return {"id": notification_id, "read": True, "unread_count": notifications.unread_count(db.session, actor.id)}


@bp.post("/me/notifications/read")
@token_required
def read_all_notifications(actor: User):
    """Mark all the caller's notifications as read."""
    marked = notifications.mark_all_read(db.session, actor=actor)
    db.session.commit()
    return {"marked": marked, "unread_count": notifications.unread_count(db.session, actor.id)}
