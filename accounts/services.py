"""Account and team operations. They flush; the caller commits."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from flask import current_app, has_app_context
from flask_babel import gettext as _
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import Select, and_, false, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload
from werkzeug.security import check_password_hash, generate_password_hash

from accounts import rules
from accounts.models import (SYSTEM_ROLE, ApiToken, JoinRequestStatus, Role, Team, TeamInvite, TeamJoinRequest,
                             TeamMembership, User)
from childsafe.policy import ORGANISER_ROLES, ChildRefused, children_known_to, refuse_public
from errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from events.guards import check_team_join
from timeutil import utcnow

JOIN_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud
DEFAULT_TEAM_MAX_SIZE = 12


class EmailTaken(Conflict):
    code = "email_taken"

    def __init__(self, email: str):
        super().__init__("An account with that email already exists.",
                         fields={"email": ["An account with that email already exists."]})
        self.email = email


class InvalidCredentials(DomainError):
    status = 401
    code = "invalid_credentials"

    def __init__(self):
        super().__init__(_("That email and password do not match an account."))


class TeamNameTaken(Conflict):
    code = "team_name_taken"

    def __init__(self, name: str):
        super().__init__("A team with that name already exists.",
                         fields={"name": ["A team with that name already exists."]})
        self.name = name


class AlreadyInTeam(Conflict):
    code = "already_in_team"

    def __init__(self, team_id: int):
        super().__init__(_("You are already in this team."))
        self.team_id = team_id


class UnknownJoinCode(DomainError):
    status = 404
    code = "unknown_join_code"

    def __init__(self, code: str):
        message = _("No team has that join code.")
        super().__init__(message, fields={"code": [message]})
        self.join_code = code


class CaptainCannotLeave(Conflict):
    code = "captain_cannot_leave"

    def __init__(self, team_id: int):
        super().__init__("A team always has a captain: hand the captaincy to another member first, "
                         "then leave or remove them.")
        self.team_id = team_id


class TeamFull(Conflict):
    code = "team_full"

    def __init__(self, team_id: int, limit: int):
        super().__init__(_("This team is full: it has its maximum of %(limit)d members.", limit=limit))
        self.team_id = team_id
        self.limit = limit


class TeamClosed(Conflict):
    code = "team_closed"

    def __init__(self, team_id: int):
        super().__init__(_("This team has closed: nobody can join it any more."))
        self.team_id = team_id


class JoinCodeExpired(DomainError):
    status = 410
    code = "join_code_expired"

    def __init__(self, team_id: int):
        message = _("That join code has expired: ask the team's captain for a new one.")
        super().__init__(message, fields={"code": [message]})
        self.team_id = team_id


class UnknownInvite(DomainError):
    status = 404
    code = "unknown_invite"

    def __init__(self):
        super().__init__("This invite link does not work: check that it was copied in full.")


class InviteNotUsable(DomainError):
    status = 410
    code = "invite_not_usable"


class RequestPending(Conflict):
    code = "request_pending"

    def __init__(self, team_id: int):
        super().__init__("You have already asked to join this team: its captain will decide.")
        self.team_id = team_id


class RequestDecided(Conflict):
    code = "request_decided"

    def __init__(self, request_id: int, status: str):
        super().__init__(f"That request was already {status}.")
        self.request_id = request_id
        self.request_status = status


def hash_password(password: str, *, method: str = "scrypt") -> str:
    return generate_password_hash(password, method=method)


def create_user(session: Session, *, email: str, password: str, display_name: str,
                role: Role | str = Role.participant, min_password: int = 10,
                hash_method: str = "scrypt", verified: bool = False, now: datetime | None = None) -> User:
    """Create an account. Raises ValidationFailed or EmailTaken. `verified`: the email is
    vouched for (an operator's command, the demo), so no verification mail is needed."""
    fields = rules.account_problems(email=email, password=password, display_name=display_name,
                                    min_length=min_password)
    if fields:
        raise ValidationFailed(fields)
    email = rules.normalise_email(email)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise EmailTaken(email)
    user = User(email=email, password_hash=hash_password(password, method=hash_method),
                display_name=display_name.strip(), role=Role(role).value,
                email_verified_at=(now or utcnow()) if verified else None)
    session.add(user)
    session.flush()
    return user


_DUMMY_HASHES: dict[str, str] = {}


def rename(session: Session, *, actor: User, display_name: str) -> User:
    """A new public display name, under the sign-up form's rules. Children's names are the
    teacher's to approve (classes.services.request_name), so they are refused here."""
    refuse_public(actor, "change your display name here")
    problems = rules.display_name_problems(display_name or "")
    if problems:
        raise ValidationFailed({"display_name": problems})
    actor.display_name = display_name.strip()
    session.flush()
    return actor


def _dummy_hash(method: str) -> str:
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = generate_password_hash(secrets.token_urlsafe(16), method=method)
    return _DUMMY_HASHES[method]


def authenticate(session: Session, *, email: str, password: str, hash_method: str = "scrypt") -> User:
    """The user with this email and password. An unknown email costs the same hash check
    as a wrong password, so response times do not tell which emails have accounts."""
    user = session.scalar(select(User).where(User.email == rules.normalise_email(email)))
    if user is None:
        check_password_hash(_dummy_hash(hash_method), password)
        raise InvalidCredentials()
    if not check_password_hash(user.password_hash, password):
        raise InvalidCredentials()
    from moderation.suspension import check_not_suspended

    check_not_suspended(user)  # only after the password: a suspension is not told to strangers
    return user


def end_sessions(session: Session, user: User) -> None:
    """Every session the person has ends (their cookies name the old epoch)."""
    user.session_epoch = (user.session_epoch or 0) + 1
    session.flush()


# --- password reset -------------------------------------------------------------------------
# A reset link carries a signed, timed token naming the person and a fingerprint of their
# current password hash. Nothing is stored: the link dies when it expires, and it is single
# use because using it changes the hash (and so the fingerprint) it was made for.

RESET_SALT = "fixquest-password-reset"


class InvalidResetLink(DomainError):
    status = 400
    code = "invalid_reset_link"

    def __init__(self):
        super().__init__("This reset link has expired or has been used already. Ask for a new one.")


def _fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:32]


# --- email verification ---------------------------------------------------------------------
# A verification link carries a signed, timed token naming the person and the address it
# was sent to: it proves nothing once the address changes.

VERIFY_SALT = "fixquest-verify-email"
VERIFY_MAX_AGE_S = 7 * 24 * 3600


class InvalidVerifyLink(DomainError):
    status = 400
    code = "invalid_verify_link"

    def __init__(self):
        super().__init__("This confirmation link has expired or is not for your current address. "
                         "Log in and ask for a new one.")


class EmailNotVerified(Forbidden):
    code = "email_not_verified"

    def __init__(self, limit: int):
        super().__init__("report more problems yet", f"please confirm your email address first (you can report "
                         f"{limit} before you do). We emailed you a link; you can ask for another.")
        self.limit = limit


def needs_verification(user: User) -> bool:
    return bool(user.email) and user.email_verified_at is None and user.role == Role.participant.value


def verify_email_token(user: User, *, secret_key: str) -> str:
    return URLSafeTimedSerializer(secret_key, salt=VERIFY_SALT).dumps({"u": user.id, "e": user.email})


def verify_email(session: Session, token: str, *, secret_key: str, now: datetime | None = None) -> User:
    """Mark the address in the link verified (once; again is harmless)."""
    try:
        data = URLSafeTimedSerializer(secret_key, salt=VERIFY_SALT).loads(token, max_age=VERIFY_MAX_AGE_S)
    except BadData:
        raise InvalidVerifyLink() from None
    user = session.get(User, data.get("u")) if isinstance(data, dict) and isinstance(data.get("u"), int) else None
    if user is None or not user.email or data.get("e") != user.email:
        raise InvalidVerifyLink()
    if user.email_verified_at is None:
        user.email_verified_at = now or utcnow()
        session.flush()
    return user


def user_for_reset_request(session: Session, email: str) -> User | None:
    """Who a reset request is for: an account with that address (children have none)."""
    if not email or rules.email_problems(email):
        return None
    return session.scalar(select(User).where(User.email == rules.normalise_email(email)))


def password_reset_token(user: User, *, secret_key: str) -> str:
    return URLSafeTimedSerializer(secret_key, salt=RESET_SALT).dumps({"u": user.id, "f": _fingerprint(user)})


def user_for_reset_token(session: Session, token: str, *, secret_key: str, max_age: int) -> User:
    """The person a reset link is for; InvalidResetLink if it is forged, expired or used."""
    try:
        data = URLSafeTimedSerializer(secret_key, salt=RESET_SALT).loads(token, max_age=max_age)
    except BadData:
        raise InvalidResetLink() from None
    user = session.get(User, data.get("u")) if isinstance(data, dict) and isinstance(data.get("u"), int) else None
    if user is None or not hmac.compare_digest(str(data.get("f")), _fingerprint(user)):
        raise InvalidResetLink()
    return user


def reset_password(session: Session, *, user: User, password: str, min_password: int = 10,
                   hash_method: str = "scrypt") -> User:
    """Set a new password and end every session the person had (a thief's too)."""
    problems = rules.password_problems(password, min_length=min_password)
    if problems:
        raise ValidationFailed({"password": problems})
    user.password_hash = hash_password(password, method=hash_method)
    end_sessions(session, user)
    return user


def user_by_email(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == rules.normalise_email(email)))
    if user is None:
        raise NotFound("user", email)
    return user


def set_role(session: Session, *, actor: User | None, user: User, role: Role | str) -> User:
    """Change a user's role. actor None means the command line (trusted operator)."""
    if actor is not None and not actor.is_admin:
        raise Forbidden("change roles", "only admins change roles.")
    try:
        role = Role(role).value
    except ValueError:
        raise ValidationFailed({"role": [f"Choose one of: {', '.join(r.value for r in Role)}."]})
    if user.is_child and role != Role.participant.value:
        raise ValidationFailed({"role": ["A child's account stays a participant: organisers act in public."]})
    old, user.role = user.role, role
    session.flush()
    if old != role:
        from moderation import audit

        audit.record(session, actor=actor, action=audit.Action.role, object_kind="user", object_id=user.id,
                     detail={"from": old, "to": role})
    return user


# --- teams -----------------------------------------------------------------------------
#
# Only a team's captain manages it (codes, invites, requests, members, size, captaincy).
# Every way in (code, invite link, approved request) goes through _add_member, which locks
# the team's row first, so two people taking the last place cannot both get it.

def _new_join_code(session: Session) -> str:
    while True:
        code = "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(8))
        if session.scalar(select(Team.id).where(Team.join_code == code)) is None:
            return code


def create_team(session: Session, *, actor: User, name: str) -> Team:
    refuse_public(actor, "start a team")
    name = name.strip()
    if not 2 <= len(name) <= 60:
        raise ValidationFailed({"name": ["Team names are 2 to 60 characters."]})
    if session.scalar(select(Team.id).where(Team.name == name)) is not None:
        raise TeamNameTaken(name)
    team = Team(name=name, join_code=_new_join_code(session), captain_id=actor.id)
    team.memberships.append(TeamMembership(user_id=actor.id))
    session.add(team)
    session.flush()
    return team


def get_team(session: Session, team_id: int) -> Team:
    team = session.get(Team, team_id)
    if team is None:
        raise NotFound("team", team_id)
    return team


def teams_select(*, name: str | None = None, include_closed: bool = False) -> Select:
    """Teams by name (as the teams page lists them: open ones only unless asked; never a
    private class team, for anyone: its teacher reaches it from the class dashboard, its
    children from their own), optionally those whose name contains `name` (any case)."""
    stmt = select(Team).where(~is_private_class_team(Team.id)).order_by(Team.name, Team.id)
    if not include_closed:
        stmt = stmt.where(Team.closed_at.is_(None))
    if name:
        pattern = "%" + name.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(func.lower(Team.name).like(pattern, escape="\\"))
    return stmt


def member_counts(session: Session, team_ids: list[int]) -> dict[int, int]:
    """How many members each team has, in one query."""
    if not team_ids:
        return {}
    rows = session.execute(select(TeamMembership.team_id, func.count()).where(TeamMembership.team_id.in_(team_ids))
                           .group_by(TeamMembership.team_id)).all()
    return {team_id: 0 for team_id in team_ids} | {team_id: int(count) for team_id, count in rows}


def pending_requests(session: Session, *, actor: User, team: Team) -> list[TeamJoinRequest]:
    """The join requests waiting for the captain's decision, oldest first (the captain only)."""
    _require_captain(team, actor, "see join requests")
    return list(session.scalars(select(TeamJoinRequest).where(
        TeamJoinRequest.team_id == team.id, TeamJoinRequest.status == JoinRequestStatus.pending.value)
        .options(selectinload(TeamJoinRequest.user)).order_by(TeamJoinRequest.id)))


def is_member(session: Session, *, user_id: int, team_id: int) -> bool:
    return session.scalar(
        select(TeamMembership.id).where(TeamMembership.team_id == team_id,
                                        TeamMembership.user_id == user_id)
    ) is not None


def team_ids_of(session: Session, user_id: int) -> set[int]:
    return set(session.scalars(select(TeamMembership.team_id).where(TeamMembership.user_id == user_id)))


def teams_of(session: Session, user_id: int) -> list[Team]:
    return list(session.scalars(
        select(Team).join(TeamMembership).where(TeamMembership.user_id == user_id).order_by(Team.name)
    ))


def site_max_size() -> int:
    """The site's TEAM_MAX_SIZE (12 outside an app)."""
    return int(current_app.config.get("TEAM_MAX_SIZE", DEFAULT_TEAM_MAX_SIZE)) if has_app_context() \
        else DEFAULT_TEAM_MAX_SIZE


def size_limit(team: Team, *, limit: int | None = None) -> int:
    """How many members `team` may have: `limit` when a caller (an event) sets its own,
    else the team's own lower limit, else the site's."""
    if limit is not None:
        return limit
    site = site_max_size()
    return site if team.max_size is None else min(team.max_size, site)


def member_count(session: Session, team_id: int) -> int:
    return session.scalar(select(func.count()).select_from(TeamMembership).where(TeamMembership.team_id == team_id))


def check_room(session: Session, team: Team, *, extra: int = 1, limit: int | None = None) -> None:
    """TeamFull unless `extra` more people fit in `team` (under `limit`, or the team's and
    the site's limit). Callers that then add members should hold the team's row lock
    (`lock_team`), as _add_member does."""
    allowed = size_limit(team, limit=limit)
    if member_count(session, team.id) + extra > allowed:
        raise TeamFull(team.id, allowed)


def lock_team(session: Session, team: Team) -> Team:
    """Re-read the team holding its row lock (PostgreSQL), so that changes to its members
    take turns."""
    return session.execute(select(Team).where(Team.id == team.id).with_for_update()
                           .execution_options(populate_existing=True)).scalar_one()


def _require_captain(team: Team, actor: User, action: str) -> None:
    if team.captain_id != actor.id:
        raise Forbidden(action, "only the team's captain can.")
    if team.closed_at is not None:
        raise TeamClosed(team.id)


class ClassTeam(Forbidden):
    """A school class's team: only its teacher and the children of the class are in it, and
    the children come in through their login cards (classes/), never a code, link or request."""
    code = "class_team"

    def __init__(self, action: str):
        super().__init__(action, "it is a school class's team: its children join with their login cards.")


def is_class_team(session: Session, team_id: int) -> bool:
    from classes.models import SchoolClass

    return session.scalar(select(SchoolClass.id).where(SchoolClass.team_id == team_id)) is not None


def private_class_team_ids() -> Select:
    """The one rule for a class's privacy: the teams of school classes whose teacher has not
    chosen to show the class in public (SchoolClass.show_in_rankings, off by default). Such a
    team is private to its class: left out of every public list of teams and of the public
    boards, its page and API reads are 404 to all but its members, its captain (the teacher)
    and admins, and elsewhere it is named only as "a school class" (childsafe.views)."""
    from classes.models import SchoolClass

    return select(SchoolClass.team_id).where(SchoolClass.show_in_rankings.is_(False))


def is_private_class_team(team_id_column):
    """SQL: `team_id_column` is a private class team's (private_class_team_ids)."""
    return team_id_column.in_(private_class_team_ids())


def is_private_class(session: Session, team_id: int) -> bool:
    return session.scalar(select(Team.id).where(Team.id == team_id, is_private_class_team(Team.id))) is not None


def may_see_private_team(session: Session, viewer, team: Team, *, is_member_: bool | None = None) -> bool:
    """Whether `viewer` may see a private class team: its members, its captain, admins
    (`is_member_` when the caller already knows, to spare the query)."""
    if not getattr(viewer, "is_authenticated", False):
        return False
    if viewer.is_admin or viewer.id == team.captain_id:
        return True
    return is_member_ if is_member_ is not None else is_member(session, user_id=viewer.id, team_id=team.id)


def private_team_ids_hidden_from(session: Session, viewer) -> set[int]:
    """The private class teams `viewer` may not see, in one query (none for admins): the
    teams a page names with the stand-in."""
    stmt = select(Team.id).where(is_private_class_team(Team.id))
    if getattr(viewer, "is_authenticated", False):
        if viewer.is_admin:
            return set()
        stmt = stmt.where(Team.captain_id != viewer.id, Team.id.not_in(
            select(TeamMembership.team_id).where(TeamMembership.user_id == viewer.id)))
    return set(session.scalars(stmt))


def team_and_whether_a_class(session: Session, team_id: int) -> tuple[Team, bool, bool] | None:
    """The team, whether it is a school class's and whether that class is private
    (private_class_team_ids), in one query (the team page's)."""
    from classes.models import SchoolClass

    row = session.execute(select(Team, SchoolClass.show_in_rankings)
                          .outerjoin(SchoolClass, SchoolClass.team_id == Team.id)
                          .where(Team.id == team_id)).first()
    return None if row is None else (row[0], row[1] is not None, row[1] is False)


def visible_team(session: Session, viewer, team_id: int) -> Team:
    """The team, or NotFound for one that does not exist and for a private class team the
    viewer may not see (the same answer: nobody learns that a class is there)."""
    found = team_and_whether_a_class(session, team_id)
    if found is None or (found[2] and not may_see_private_team(session, viewer, found[0])):
        raise NotFound("team", team_id)
    return found[0]


def _refuse_class_team(session: Session, team: Team, action: str) -> None:
    if is_class_team(session, team.id):
        raise ClassTeam(action)


def _add_member(session: Session, team: Team, user: User, *, limit: int | None = None,
                now: datetime | None = None) -> Team:
    _refuse_class_team(session, team, "join this team")
    team = lock_team(session, team)
    if team.closed_at is not None:
        raise TeamClosed(team.id)
    if is_member(session, user_id=user.id, team_id=team.id):
        raise AlreadyInTeam(team.id)
    if user.is_child:  # a pupil is in their class's team only, put there by the class (classes/)
        raise ChildRefused("join another team: you are in your class's team")
    check_room(session, team, limit=limit)
    check_team_join(session, team_id=team.id)  # a team in a running event keeps within its size
    session.add(TeamMembership(team_id=team.id, user_id=user.id, joined_at=now or utcnow()))
    # A request this person left pending is settled by their joining.
    session.execute(update(TeamJoinRequest).where(
        TeamJoinRequest.team_id == team.id, TeamJoinRequest.user_id == user.id,
        TeamJoinRequest.status == JoinRequestStatus.pending.value,
    ).values(status=JoinRequestStatus.withdrawn.value, decided_at=now or utcnow()))
    session.flush()
    return team


def join_team(session: Session, *, actor: User, code: str, now: datetime | None = None) -> Team:
    """Join with the team's join code (any case, spaces around it ignored)."""
    now = now or utcnow()
    team = session.scalar(select(Team).where(Team.join_code == code.strip().upper()))
    if team is None:
        raise UnknownJoinCode(code)
    if team.join_code_expires_at is not None and team.join_code_expires_at <= now:
        raise JoinCodeExpired(team.id)
    return _add_member(session, team, actor, now=now)


def regenerate_join_code(session: Session, *, actor: User, team: Team, expires_at: datetime | None = None,
                         now: datetime | None = None) -> Team:
    """A new join code (the old one stops working at once), optionally expiring."""
    _require_captain(team, actor, "change the join code")
    _refuse_class_team(session, team, "make a join code for this team")
    if expires_at is not None and expires_at <= (now or utcnow()):
        raise ValidationFailed({"expires": ["Choose an expiry in the future."]})
    team.join_code = _new_join_code(session)
    team.join_code_expires_at = expires_at
    session.flush()
    return team


def set_max_size(session: Session, *, actor: User, team: Team, max_size: int | None) -> Team:
    """The captain's own limit for the team, at most the site's; None: the site's."""
    _require_captain(team, actor, "change the team's size")
    site = site_max_size()
    if max_size is not None:
        if not 2 <= max_size <= site:
            raise ValidationFailed({"max_size": [f"Choose a size from 2 to {site}."]})
        members = member_count(session, team.id)
        if max_size < members:
            raise ValidationFailed({"max_size": [f"The team already has {members} members: "
                                                 f"remove some first, or choose at least {members}."]})
    team.max_size = max_size
    session.flush()
    return team


def leave_team(session: Session, *, actor: User, team: Team, now: datetime | None = None) -> None:
    """Leave a team. A captain with other members must hand over first. A captain who is
    the last member closes the team: nobody can join it again, its points stay."""
    team = lock_team(session, team)
    membership = session.scalar(select(TeamMembership).where(
        TeamMembership.team_id == team.id, TeamMembership.user_id == actor.id))
    if membership is None:
        raise Forbidden("leave this team", "you are not a member.")
    if actor.is_child:
        raise ChildRefused("leave your class's team")
    if team.captain_id == actor.id:
        if member_count(session, team.id) > 1:
            raise CaptainCannotLeave(team.id)
        _close(session, team, now=now or utcnow())
    session.delete(membership)
    session.flush()


def _close(session: Session, team: Team, *, now: datetime) -> None:
    team.closed_at = now
    session.execute(update(TeamInvite).where(TeamInvite.team_id == team.id, TeamInvite.revoked_at.is_(None))
                    .values(revoked_at=now))
    session.execute(update(TeamJoinRequest).where(
        TeamJoinRequest.team_id == team.id, TeamJoinRequest.status == JoinRequestStatus.pending.value,
    ).values(status=JoinRequestStatus.declined.value, decided_at=now))


def remove_member(session: Session, *, actor: User, team: Team, user_id: int) -> None:
    """The captain removes a member (never themselves: they hand over or leave)."""
    _require_captain(team, actor, "remove members")
    _refuse_class_team(session, team, "remove a pupil from their class's team (the class page erases accounts)")
    if user_id == team.captain_id:
        raise CaptainCannotLeave(team.id)
    membership = session.scalar(select(TeamMembership).where(
        TeamMembership.team_id == team.id, TeamMembership.user_id == user_id))
    if membership is None:
        raise NotFound("member of this team", user_id)
    session.delete(membership)
    session.flush()


def hand_over_captaincy(session: Session, *, actor: User, team: Team, new_captain_id: int) -> Team:
    _require_captain(team, actor, "hand over the captaincy")
    if new_captain_id == actor.id or not is_member(session, user_id=new_captain_id, team_id=team.id):
        raise ValidationFailed({"new_captain_id": ["The new captain must be another member of the team."]})
    if session.scalar(select(User.is_child).where(User.id == new_captain_id)):
        raise ValidationFailed({"new_captain_id": ["A child cannot captain a team: a class stays with its teacher."]})
    team.captain_id = new_captain_id
    session.flush()
    return team


# --- invite links --------------------------------------------------------------------------

def create_invite(session: Session, *, actor: User, team: Team, expires_at: datetime | None = None,
                  single_use: bool = False, now: datetime | None = None) -> tuple[TeamInvite, str]:
    """A new invite link's token, returned once (only its digest is kept)."""
    _require_captain(team, actor, "make invite links")
    _refuse_class_team(session, team, "make invite links for this team")
    now = now or utcnow()
    if expires_at is not None and expires_at <= now:
        raise ValidationFailed({"expires": ["Choose an expiry in the future."]})
    token = secrets.token_urlsafe(24)
    invite = TeamInvite(team_id=team.id, token_hash=_digest(token), created_by_id=actor.id, created_at=now,
                        expires_at=expires_at, single_use=single_use)
    session.add(invite)
    session.flush()
    return invite, token


def invite_for(session: Session, token: str, *, now: datetime | None = None) -> TeamInvite:
    """The usable invite with this token: UnknownInvite, or InviteNotUsable saying why."""
    invite = session.scalar(select(TeamInvite).where(TeamInvite.token_hash == _digest(token)))
    if invite is None:
        raise UnknownInvite()
    now = now or utcnow()
    if invite.revoked_at is not None:
        raise InviteNotUsable("This invite link was withdrawn by the team's captain.")
    if invite.expires_at is not None and invite.expires_at <= now:
        raise InviteNotUsable("This invite link has expired: ask the team's captain for a new one.")
    if invite.single_use and invite.uses > 0:
        raise InviteNotUsable("This invite link was for one person and has been used.")
    return invite


def join_by_invite(session: Session, *, actor: User, token: str, now: datetime | None = None) -> Team:
    now = now or utcnow()
    invite = invite_for(session, token, now=now)
    team = _add_member(session, get_team(session, invite.team_id), actor, now=now)
    # Count the use only if a single-use link is still unused: of two racing people one joins.
    counted = session.execute(update(TeamInvite).where(
        TeamInvite.id == invite.id, or_(TeamInvite.single_use.is_(False), TeamInvite.uses == 0),
    ).values(uses=TeamInvite.uses + 1, used_at=now).execution_options(synchronize_session=False)).rowcount
    if not counted:
        raise InviteNotUsable("This invite link was for one person and has been used.")
    return team


def live_invites(session: Session, *, actor: User, team: Team) -> list[TeamInvite]:
    """The captain's invite links not withdrawn (expired and used ones too), newest first."""
    if team.captain_id != actor.id:
        raise Forbidden("see the invite links", "only the team's captain can.")
    return list(session.scalars(select(TeamInvite).where(TeamInvite.team_id == team.id,
                                                         TeamInvite.revoked_at.is_(None))
                                .order_by(TeamInvite.id.desc())))


def revoke_invite(session: Session, *, actor: User, team: Team, invite_id: int,
                  now: datetime | None = None) -> TeamInvite:
    _require_captain(team, actor, "withdraw invite links")
    invite = session.scalar(select(TeamInvite).where(TeamInvite.id == invite_id, TeamInvite.team_id == team.id))
    if invite is None:
        raise NotFound("invite link", invite_id)
    invite.revoked_at = invite.revoked_at or now or utcnow()
    session.flush()
    return invite


# --- join requests -------------------------------------------------------------------------

def request_to_join(session: Session, *, actor: User, team: Team, now: datetime | None = None) -> TeamJoinRequest:
    """Ask the captain to let you in. Refused at once if you are in, asked already, or the
    team is full or closed."""
    if team.closed_at is not None:
        raise TeamClosed(team.id)
    _refuse_class_team(session, team, "ask to join this team")
    if is_member(session, user_id=actor.id, team_id=team.id):
        raise AlreadyInTeam(team.id)
    pending = select(TeamJoinRequest.id).where(TeamJoinRequest.team_id == team.id,
                                               TeamJoinRequest.user_id == actor.id,
                                               TeamJoinRequest.status == JoinRequestStatus.pending.value)
    if session.scalar(pending) is not None:
        raise RequestPending(team.id)
    check_room(session, team)
    request = TeamJoinRequest(team_id=team.id, user_id=actor.id, created_at=now or utcnow())
    try:
        with session.begin_nested():
            session.add(request)
    except IntegrityError:
        raise RequestPending(team.id) from None
    return request


def decide_request(session: Session, *, actor: User, team: Team, request_id: int, approve: bool,
                   now: datetime | None = None) -> TeamJoinRequest:
    """The captain approves (the person joins, if there is room) or declines a request."""
    _require_captain(team, actor, "decide join requests")
    now = now or utcnow()
    request = session.scalar(select(TeamJoinRequest).where(TeamJoinRequest.id == request_id,
                                                           TeamJoinRequest.team_id == team.id)
                             .with_for_update())  # a double click decides once
    if request is None:
        raise NotFound("join request", request_id)
    if request.status != JoinRequestStatus.pending.value:
        raise RequestDecided(request.id, request.status)
    if approve:
        _add_member(session, team, session.get(User, request.user_id), now=now)
    request.status = (JoinRequestStatus.approved if approve else JoinRequestStatus.declined).value
    request.decided_at, request.decided_by_id = now, actor.id
    session.flush()
    return request


def latest_request(session: Session, *, user_id: int, team_id: int) -> TeamJoinRequest | None:
    return session.scalar(select(TeamJoinRequest).where(TeamJoinRequest.user_id == user_id,
                                                        TeamJoinRequest.team_id == team_id)
                          .order_by(TeamJoinRequest.id.desc()).limit(1))


# --- API tokens ------------------------------------------------------------------------

def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


TOKEN_SCOPES = ("read", "write")
MAX_LIVE_TOKENS = 50


def issue_token(session: Session, *, user: User, name: str = "api", scope: str = "write") -> str:
    """Create a bearer token; the plain token is returned once and only its digest kept."""
    refuse_public(user, "get an API token")
    name = (name or "").strip()
    fields = {}
    if not 1 <= len(name) <= 80:
        fields["name"] = ["Give the token a name of 1 to 80 characters, e.g. the app that will use it."]
    if scope not in TOKEN_SCOPES:
        fields["scope"] = ["Choose read (look only) or write (act for you)."]
    if fields:
        raise ValidationFailed(fields)
    live = session.scalar(select(func.count(ApiToken.id)).where(ApiToken.user_id == user.id,
                                                                 ApiToken.revoked_at.is_(None)))
    if live >= MAX_LIVE_TOKENS:
        raise ValidationFailed({"name": [f"You have {MAX_LIVE_TOKENS} tokens already: revoke one you no longer use."]})
    token = "fq_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name, token_hash=_digest(token), scope=scope))
    session.flush()
    return token


def token_row(session: Session, token: str) -> ApiToken | None:
    """The live token with this value (its person in .user), marked as used now."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token),
                                                ApiToken.revoked_at.is_(None)))
    if row is not None:
        row.last_used_at = utcnow()
    return row


def user_for_token(session: Session, token: str) -> User | None:
    row = token_row(session, token)
    return row.user if row is not None else None


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    """A person's tokens, live first, newest first (revoked ones stay listed for the record)."""
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())))


def revoke_token(session: Session, *, actor: User, token_id: int, now: datetime | None = None) -> ApiToken:
    """Revoke one of your own tokens at once (someone else's is a 404, as if it did not exist)."""
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != actor.id:
        raise NotFound("token", token_id)
    if row.revoked_at is None:
        row.revoked_at = now or utcnow()
        session.flush()
    return row


# --- the admins' list of accounts (the /admin/users page and GET /api/v1/admin/users) ------

ACCOUNT_ROLES = (*(role.value for role in Role), SYSTEM_ROLE)  # what the list filters by
SEARCH_MAX = 100


def _require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise Forbidden("see the list of accounts", "it is for admins.")


def accounts_for_admin(session: Session, *, actor: User, search: str | None = None,
                       role: str | None = None) -> Select:
    """Every account, oldest first, for admins: optionally those whose display name or email
    contains `search` (any case) and those of one `role`. A child is found by name only by
    an admin who may see that child (their teacher), and never by an email: to anyone else
    a child's name is "a pupil" (moderation.labels.Names), so a search must not reveal it."""
    _require_admin(actor)
    if role is not None and role not in ACCOUNT_ROLES:
        raise ValidationFailed({"role": [f"Choose one of: {', '.join(ACCOUNT_ROLES)}."]})
    stmt = select(User).order_by(User.id)
    if role:
        stmt = stmt.where(User.role == role)
    search = (search or "").strip()
    if search:
        if len(search) > SEARCH_MAX:
            raise ValidationFailed({"q": [f"Keep this to {SEARCH_MAX} characters or fewer."]})
        pattern = "%" + search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        known = children_known_to(session, actor)
        stmt = stmt.where(or_(
            and_(func.lower(User.display_name).like(pattern, escape="\\"),
                 or_(User.is_child.is_(False), User.id.in_(known) if known else false())),
            and_(User.is_child.is_(False), func.lower(User.email).like(pattern, escape="\\"))))
    return stmt


def account_for_admin(session: Session, *, actor: User, user_id: int) -> User:
    _require_admin(actor)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user", user_id)
    return user


def email_shown_to_admin(user: User) -> str | None:
    """The address an admin sees: a child never has one (an older child account may still
    hold a login address: it stays private)."""
    return None if user.is_child else user.email
