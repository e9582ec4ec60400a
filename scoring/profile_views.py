"""Profiles (/people/<id>, /me) and the Open Badges documents of earned badges.

A profile shows a display name, level, lifetime points, streak, badges and recent fixes;
never an email. Who may see one is decided in one place, `can_view_profile`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import User
from childsafe.policy import may_see_person, streaks_enabled
from challenges.models import Claim, ClaimStatus, Quest
from extensions import db
from moderation.visibility import profile_visible
from scoring import ledger, openbadges
from scoring.badges import (BadgeProgress, BadgeSettings, EarnedBadge, badge_for, badges_of, catalogue,
                            contributions, credited_claims, current_settings, next_badges)
from scoring.levels import Level, level_for
from scoring.models import BadgeAward
from scoring.streaks import Streak, week_start, weekly_streak
from timeutil import utcnow

bp = Blueprint("profiles", __name__)

RECENT_FIXES = 5


def can_view_profile(viewer, person: User) -> bool:
    """Whether `viewer` (a user or the anonymous user) may see `person`'s profile and badge
    credentials. Everyone may see an adult's: profiles show only public things (display
    name, points, badges, fixes), and people hidden from the boards still have one. A
    child's profile is private to the child, their teachers and their class
    (childsafe.policy.may_see_child). A profile a moderator hid is shown only to its owner
    and organisers (moderation.visibility.profile_visible)."""
    return may_see_person(db.session, viewer, person) and profile_visible(viewer, person)


@dataclass(frozen=True)
class RecentFix:
    quest_id: int
    title: str
    decided_at: datetime | None


@dataclass(frozen=True)
class Profile:
    person: User
    points: int
    level: Level
    streak: Streak
    active_this_week: bool
    earned: list[EarnedBadge]
    progress: list[BadgeProgress]
    recent: list[RecentFix]


def recent_fixes(session: Session, user_id: int, *, limit: int = RECENT_FIXES) -> list[RecentFix]:
    rows = session.execute(select(Quest.id, Quest.title, Claim.decided_at).join(Quest, Quest.id == Claim.quest_id)
                           .where(Claim.status == ClaimStatus.approved.value, credited_claims(user_id))
                           .order_by(Claim.decided_at.desc(), Claim.id.desc()).limit(limit)).all()
    return [RecentFix(*row) for row in rows]


def load_profile(session: Session, person: User, *, now: datetime | None = None,
                 settings: BadgeSettings | None = None) -> Profile:
    """Everything a profile shows, in four queries whatever the person has done."""
    settings = settings or current_settings()
    today = (now or utcnow()).astimezone(ZoneInfo(settings.timezone)).date()
    points = ledger.lifetime_points(session, person.id)
    record = contributions(session, person.id, timezone=settings.timezone)
    streak = weekly_streak(record.weeks, today=today, enabled=streaks_enabled(session, person.id))
    earned = badges_of(session, person.id, settings=settings)
    progress = next_badges(record, catalogue(settings.categories).values(), {e.badge.code for e in earned},
                           streak=streak, reviewer=person.is_organiser or record.reviews > 0)
    return Profile(person=person, points=points, level=level_for(points), streak=streak,
                   active_this_week=week_start(today) in record.weeks, earned=earned, progress=progress,
                   recent=recent_fixes(session, person.id))


def _viewable_person(user_id: int) -> User:
    person = db.get_or_404(User, user_id)
    if not can_view_profile(current_user, person):
        abort(404)  # the same answer as for nobody, so a private profile is not confirmed
    return person


@bp.get("/people/<int:user_id>")
def profile(user_id: int):
    person = _viewable_person(user_id)
    return render_template("scoring/profile.html", profile=load_profile(db.session, person))


@bp.get("/me")
@login_required
def me():
    return redirect(url_for("profiles.profile", user_id=current_user.id))


@bp.get("/dashboard")
@login_required
def dashboard():
    """The signed-in person's own page (scoring.dashboard): progress, claims, thanks."""
    from scoring.dashboard import load_dashboard

    return render_template("scoring/dashboard.html", board=load_dashboard(db.session, current_user))


@bp.post("/dashboard/celebrated")
@login_required
def dismiss_celebration():
    """The celebration banner's Dismiss: it is not shown again for what it celebrated."""
    from scoring.dashboard import mark_celebrated

    mark_celebrated(db.session, actor=current_user)  # CSRF-checked app-wide, like every POST
    db.session.commit()
    if request.accept_mimetypes.best == "application/json":
        return "", 204
    return redirect(url_for("profiles.dashboard"))


# --- Open Badges ---------------------------------------------------------------------------

def _links() -> openbadges.Links:
    """PUBLIC_URL when set (the address people and badge readers use), else this request's."""
    return openbadges.Links(current_app.url_map, current_app.config.get("PUBLIC_URL") or request.url_root)


def _json_ld(document: dict, *, download: str | None = None):
    response = current_app.response_class(json.dumps(document, indent=2, ensure_ascii=False) + "\n",
                                          mimetype=openbadges.MEDIA_TYPE)
    if download:
        response.headers["Content-Disposition"] = f'attachment; filename="{download}"'
    # Public documents that badge readers fetch from other sites' pages.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/people/<int:user_id>/badges/<code>.json")
def badge_credential(user_id: int, code: str):
    person = _viewable_person(user_id)
    awarded_at = db.session.scalar(select(BadgeAward.awarded_at).where(BadgeAward.user_id == person.id,
                                                                      BadgeAward.code == code))
    badge = badge_for(code, current_settings().categories)
    if awarded_at is None or badge is None:
        abort(404)
    salt = openbadges.award_salt(current_app.config["SECRET_KEY"], user_id=person.id, code=code)
    document = openbadges.credential(_links(), badge, user_id=person.id, awarded_at=awarded_at, salt=salt)
    return _json_ld(document, download=f"fixquest-{code}-{person.id}.json")


@bp.get("/badges/issuer.json")
def issuer():
    return _json_ld(openbadges.standalone(openbadges.issuer_profile(_links())))


@bp.get("/badges/<code>/achievement.json")
def achievement(code: str):
    """Every badge in the catalogue, and any badge someone holds (a category since removed)."""
    categories = current_settings().categories
    badge = catalogue(categories).get(code)
    if badge is None and db.session.scalar(select(BadgeAward.id).where(BadgeAward.code == code).limit(1)):
        badge = badge_for(code, categories)
    if badge is None:
        abort(404)
    return _json_ld(openbadges.standalone(openbadges.achievement(_links(), badge)))
