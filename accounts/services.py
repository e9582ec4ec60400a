"""Account and team operations. They flush; the caller commits."""
from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from accounts import rules
from accounts.models import ApiToken, Role, Team, TeamMembership, User
from errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from events.guards import check_team_join
from timeutil import utcnow

JOIN_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud


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
        super().__init__("That email and password do not match an account.")


class TeamNameTaken(Conflict):
    code = "team_name_taken"

    def __init__(self, name: str):
        super().__init__("A team with that name already exists.",
                         fields={"name": ["A team with that name already exists."]})
        self.name = name


class AlreadyInTeam(Conflict):
    code = "already_in_team"

    def __init__(self, team_id: int):
        super().__init__("You are already in this team.")
        self.team_id = team_id


class UnknownJoinCode(DomainError):
    status = 404
    code = "unknown_join_code"

    def __init__(self, code: str):
        super().__init__("No team has that join code.", fields={"code": ["No team has that join code."]})
        self.join_code = code


class CaptainCannotLeave(Conflict):
    code = "captain_cannot_leave"

    def __init__(self, team_id: int):
        super().__init__("A team always has a captain: hand the captaincy to another member first.")
        self.team_id = team_id


def hash_password(password: str, *, method: str = "scrypt") -> str:
    return generate_password_hash(password, method=method)


def create_user(session: Session, *, email: str, password: str, display_name: str,
                role: Role | str = Role.participant, min_password: int = 10,
                hash_method: str = "scrypt") -> User:
    """Create an account. Raises ValidationFailed or EmailTaken."""
    fields = rules.account_problems(email=email, password=password, display_name=display_name,
                                    min_length=min_password)
    if fields:
        raise ValidationFailed(fields)
    email = rules.normalise_email(email)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise EmailTaken(email)
    user = User(email=email, password_hash=hash_password(password, method=hash_method),
                display_name=display_name.strip(), role=Role(role).value)
    session.add(user)
    session.flush()
    return user


_DUMMY_HASHES: dict[str, str] = {}


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
        user.role = Role(role).value
    except ValueError:
        raise ValidationFailed({"role": [f"Choose one of: {', '.join(r.value for r in Role)}."]})
    session.flush()
    return user


# --- teams -----------------------------------------------------------------------------

def _new_join_code(session: Session) -> str:
    while True:
        code = "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(8))
        if session.scalar(select(Team.id).where(Team.join_code == code)) is None:
            return code


def create_team(session: Session, *, actor: User, name: str) -> Team:
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


def join_team(session: Session, *, actor: User, code: str) -> Team:
    team = session.scalar(select(Team).where(Team.join_code == code.strip().upper()))
    if team is None:
        raise UnknownJoinCode(code)
    if is_member(session, user_id=actor.id, team_id=team.id):
        raise AlreadyInTeam(team.id)
    check_team_join(session, team_id=team.id)
    session.add(TeamMembership(team_id=team.id, user_id=actor.id))
    session.flush()
    return team


def leave_team(session: Session, *, actor: User, team: Team) -> None:
    membership = session.scalar(select(TeamMembership).where(
        TeamMembership.team_id == team.id, TeamMembership.user_id == actor.id))
    if membership is None:
        raise Forbidden("leave this team", "you are not a member.")
    if team.captain_id == actor.id:
        raise CaptainCannotLeave(team.id)
    session.delete(membership)
    session.flush()


def hand_over_captaincy(session: Session, *, actor: User, team: Team, new_captain_id: int) -> Team:
    if team.captain_id != actor.id:
        raise Forbidden("hand over the captaincy", "only the captain can.")
    if not is_member(session, user_id=new_captain_id, team_id=team.id):
        raise ValidationFailed({"new_captain_id": ["The new captain must be a member of the team."]})
    team.captain_id = new_captain_id
    session.flush()
    return team


# --- API tokens ------------------------------------------------------------------------

def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, *, user: User, name: str = "api") -> str:
    """Create a bearer token; the plain token is returned once and only its digest kept."""
    token = "fq_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name[:80], token_hash=_digest(token)))
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> User | None:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token),
                                                ApiToken.revoked_at.is_(None)))
    if row is None:
        return None
    row.last_used_at = utcnow()
    return row.user
