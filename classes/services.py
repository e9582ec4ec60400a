"""School classes: a teacher's class of children with teacher-made accounts.

A class owns a team (`school_classes.team_id`) whose captain is the teacher and whose
members are the children, so boards, team quests and the rest of the app see the class as
a team. The teacher is deliberately *not* a member: nobody reviews their own team's work,
and the teacher is the one who approves the class's claims.

Children (`users.is_child`, `hidden_from_boards`, no email) log in with the class code,
the name on their card and a password or a picture-PIN. Secrets are stored hashed, so a
card can be printed only when its secret is made (at creation or on a reset).

Functions flush; the caller commits.
"""
from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session, joinedload
from werkzeug.security import check_password_hash, generate_password_hash

import aftercommit
from accounts.erasure import Erasure, erase_users
from accounts.models import Role, Team, TeamMembership, User
from accounts.services import JOIN_CODE_ALPHABET, TeamNameTaken
from challenges.models import Claim, ClaimStatus
from classes import words
from classes.models import ClassChild, NameRequest, SchoolClass, SecretKind
from errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from events.guards import check_team_join
from scoring import ledger
from scoring.leaderboards import Scope, totals_select
from scoring.models import BadgeAward, LedgerEntry
from scoring.windows import ALL_TIME, Window
from spreadsheet import safe_cell as _cell
from timeutil import utcnow

MAX_CLASS_SIZE = 60
MAX_FAILED_LOGINS = 5
LOCK_FOR = timedelta(minutes=15)
FORMER_PUPIL = "Former pupil"


# --- errors --------------------------------------------------------------------------------

class ClassArchived(Conflict):
    code = "class_archived"

    def __init__(self, class_id: int):
        super().__init__("This class is archived: it can no longer be changed, and its children cannot log in.")
        self.class_id = class_id


class ChildLoginFailed(DomainError):
    status = 401
    code = "child_login_failed"

    def __init__(self):
        super().__init__("That class code, name and secret do not match a card. Check your card and try again.")


class CardLocked(DomainError):
    status = 429
    code = "card_locked"

    def __init__(self, until: datetime):
        super().__init__("Too many wrong tries with this card. Wait a little, or ask your teacher to reset it.")
        self.until = until


class NotAChild(Forbidden):
    def __init__(self):
        super().__init__("change your name here", "this page is for children in a school class.")


# --- what pages get back -------------------------------------------------------------------

@dataclass(frozen=True)
class Card:
    """One printed login card. `secret` is a password or the picture codes of a PIN; it is
    never stored, only shown once."""

    child_id: int
    card_name: str
    class_name: str
    class_code: str
    kind: str
    secret: str | tuple[str, ...]

    @property
    def pictures(self) -> list[tuple[str, str, str]]:
        """(code, name, symbol) for each picture of a PIN."""
        if self.kind != SecretKind.pictures:
            return []
        return [(code, words.PICTURE_NAMES[code], words.PICTURE_SYMBOLS[code]) for code in self.secret]


@dataclass(frozen=True)
class ClassSettings:
    class_id: int
    team_id: int
    streaks_enabled: bool
    show_in_rankings: bool
    archived: bool


@dataclass
class ChildRow:
    child: ClassChild
    claims: int = 0
    submitted: int = 0
    approved: int = 0
    badges: list[str] = field(default_factory=list)
    points: int = 0


@dataclass
class Dashboard:
    school_class: SchoolClass
    rows: list[ChildRow]
    pending: list[Claim]
    name_requests: list[NameRequest]
    team_points: int


# --- reading -------------------------------------------------------------------------------

def get_class(session: Session, class_id: int) -> SchoolClass:
    school_class = session.get(SchoolClass, class_id)
    if school_class is None:
        raise NotFound("class", class_id)
    return school_class


def class_for_teacher(session: Session, *, actor: User, class_id: int) -> SchoolClass:
    """The class if `actor` is its teacher. Anyone else, other organisers and admins
    included, is told it does not exist: only a class's teacher sees its children."""
    school_class = session.scalar(select(SchoolClass).join(Team).where(SchoolClass.id == class_id)
                                  .options(joinedload(SchoolClass.team)))
    if school_class is None or school_class.team.captain_id != actor.id:
        raise NotFound("class", class_id)
    return school_class


def classes_of_teacher(session: Session, teacher_id: int) -> list[SchoolClass]:
    return list(session.scalars(select(SchoolClass).join(Team).where(Team.captain_id == teacher_id)
                                .options(joinedload(SchoolClass.team))
                                .order_by(SchoolClass.archived_at.is_not(None), Team.name)))


def children_counts(session: Session, class_ids: Sequence[int]) -> dict[int, int]:
    """How many children each class has (its cards), in one query."""
    if not class_ids:
        return {}
    return dict(session.execute(select(ClassChild.class_id, func.count()).where(ClassChild.class_id.in_(class_ids))
                                .group_by(ClassChild.class_id)).all())


def children_count(session: Session, school_class: SchoolClass) -> int:
    return children_counts(session, [school_class.id]).get(school_class.id, 0)


def class_of_child(session: Session, user_id: int) -> SchoolClass | None:
    return session.scalar(select(SchoolClass).join(ClassChild).where(ClassChild.user_id == user_id)
                          .options(joinedload(SchoolClass.team)))


def is_archived_child(session: Session, user_id: int) -> bool:
    return bool(session.scalar(select(SchoolClass.archived_at.is_not(None)).join(ClassChild)
                               .where(ClassChild.user_id == user_id)))


def class_settings_for(session: Session, user_id: int) -> ClassSettings | None:
    """The settings of the class a child belongs to, or None for anyone not in a class.
    The rest of the app asks this (streaks, public rankings)."""
    school_class = class_of_child(session, user_id)
    if school_class is None:
        return None
    return ClassSettings(school_class.id, school_class.team_id, school_class.streaks_enabled,
                         school_class.show_in_rankings, school_class.archived)


def class_team_id_for(session: Session, user_id: int) -> int | None:
    """The team of the child's class: a child's solo work is credited to it as well."""
    return session.scalar(select(SchoolClass.team_id).join(ClassChild).where(ClassChild.user_id == user_id))


def class_team_for_claim(session: Session, claim: Claim) -> int | None:
    """The class team a child's solo claim credits: their class's, or, once the child's
    account is deleted, the one it already credited (so a later re-scoring or reversal
    still settles the class's rows, never leaving them unbalanced)."""
    team_id = class_team_id_for(session, claim.user_id)
    if team_id is None:
        team_id = session.scalar(select(LedgerEntry.team_id).where(
            LedgerEntry.claim_id == claim.id, LedgerEntry.team_id.is_not(None)).limit(1))
    return team_id


def may_see_board(session: Session, user: User, school_class: SchoolClass) -> bool:
    """The class board (children by name) is for the teacher and the class's children."""
    if not user.is_authenticated:
        return False
    if school_class.team.captain_id == user.id:
        return True
    return session.scalar(select(ClassChild.id).where(ClassChild.class_id == school_class.id,
                                                      ClassChild.user_id == user.id)) is not None


def _check_open(school_class: SchoolClass) -> None:
    if school_class.archived:
        raise ClassArchived(school_class.id)


# --- creating a class and its cards --------------------------------------------------------

def _new_class_code(session: Session) -> str:
    while True:
        code = "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(6))
        if session.scalar(select(SchoolClass.id).where(SchoolClass.code == code)) is None:
            return code


def _unusable_join_code(session: Session) -> str:
    """Teams need a join code; a class's has lower-case letters, which the join form
    (it upper-cases what is typed) can never match: nobody joins a class by code."""
    while True:
        code = "class-" + secrets.token_hex(5)
        if session.scalar(select(Team.id).where(Team.join_code == code)) is None:
            return code


def _check_size(count: int, existing: int, field_name: str) -> None:
    if not 1 <= count <= MAX_CLASS_SIZE:
        raise ValidationFailed({field_name: [f"Choose between 1 and {MAX_CLASS_SIZE} children."]})
    if existing + count > MAX_CLASS_SIZE:
        raise ValidationFailed({field_name: [f"A class holds at most {MAX_CLASS_SIZE} children; "
                                             f"this one has {existing}."]})


def create_class(session: Session, *, actor: User, name: str, size: int, secret_kind: str,
                 hash_method: str = "scrypt", now: datetime | None = None) -> tuple[SchoolClass, list[Card]]:
    """An organiser makes a class and its children's accounts; returns the cards to print."""
    if not actor.is_organiser:
        raise Forbidden("create a class", "teachers need an organiser account.")
    name = (name or "").strip()
    fields: dict[str, list[str]] = {}
    if not 2 <= len(name) <= 60:
        fields["name"] = ["Class names are 2 to 60 characters."]
    if secret_kind not in (SecretKind.password, SecretKind.pictures):
        fields["secret_kind"] = ["Choose passwords or picture-PINs."]
    if fields:
        raise ValidationFailed(fields)
    _check_size(size, 0, "size")
    if session.scalar(select(Team.id).where(Team.name == name)) is not None:
        raise TeamNameTaken(name)
    now = now or utcnow()
    team = Team(name=name, join_code=_unusable_join_code(session), captain_id=actor.id, created_at=now)
    session.add(team)
    session.flush()
    school_class = SchoolClass(team_id=team.id, code=_new_class_code(session), secret_kind=secret_kind,
                               created_at=now)
    session.add(school_class)
    session.flush()
    return school_class, _make_children(session, school_class, size, hash_method, now)


def add_children(session: Session, *, actor: User, school_class: SchoolClass, count: int,
                 hash_method: str = "scrypt", now: datetime | None = None) -> list[Card]:
    _check_teacher(actor, school_class)
    _check_open(school_class)
    existing = session.scalar(select(func.count()).select_from(ClassChild)
                              .where(ClassChild.class_id == school_class.id))
    _check_size(count, existing, "count")
    check_team_join(session, team_id=school_class.team_id, adding=count, now=now)  # an entered event's size
    return _make_children(session, school_class, count, hash_method, now or utcnow())


def _check_teacher(actor: User, school_class: SchoolClass) -> None:
    if school_class.team.captain_id != actor.id:
        raise NotFound("class", school_class.id)


def _new_secret(kind: str) -> tuple[str | tuple[str, ...], str]:
    """(what the card shows, what is hashed)."""
    if kind == SecretKind.pictures:
        pin = words.picture_pin()
        return pin, words.pin_secret(pin)
    password = words.password()
    return password, password


def _make_children(session: Session, school_class: SchoolClass, count: int, hash_method: str,
                   now: datetime) -> list[Card]:
    taken = set(session.scalars(select(ClassChild.card_name).where(ClassChild.class_id == school_class.id)))
    cards = []
    for _ in range(count):
        name = words.pseudonym()
        while name in taken:
            name = words.pseudonym()
        taken.add(name)
        shown, hashed = _new_secret(school_class.secret_kind)
        child = User(email=None, password_hash=generate_password_hash(hashed, method=hash_method),
                     display_name=name, role=Role.participant.value, is_child=True, hidden_from_boards=True,
                     created_at=now)
        session.add(child)
        session.flush()
        session.add_all([ClassChild(class_id=school_class.id, user_id=child.id, card_name=name, secret_set_at=now),
                         TeamMembership(team_id=school_class.team_id, user_id=child.id, joined_at=now)])
        cards.append(Card(child.id, name, school_class.name, school_class.code, school_class.secret_kind, shown))
    session.flush()
    return cards


def reset_secrets(session: Session, *, actor: User, school_class: SchoolClass,
                  child_ids: Sequence[int] | None = None, hash_method: str = "scrypt",
                  now: datetime | None = None) -> list[Card]:
    """New secrets for some children (or all, with None); unlocks their cards. The old
    secrets stop working at once, and so does any session made with them (a lost card may
    be in someone else's hands); the new cards are shown this once."""
    _check_teacher(actor, school_class)
    _check_open(school_class)
    stmt = (select(ClassChild).where(ClassChild.class_id == school_class.id)
            .options(joinedload(ClassChild.user)).order_by(ClassChild.card_name))
    if child_ids is not None:
        stmt = stmt.where(ClassChild.user_id.in_(list(child_ids)))
    children = session.scalars(stmt).all()
    if child_ids is not None and len(children) != len(set(child_ids)):
        raise NotFound("child in this class", ",".join(map(str, child_ids)))
    now = now or utcnow()
    cards = []
    for child in children:
        shown, hashed = _new_secret(school_class.secret_kind)
        child.user.password_hash = generate_password_hash(hashed, method=hash_method)
        child.user.session_epoch = (child.user.session_epoch or 0) + 1
        child.secret_set_at, child.failed_logins, child.locked_until = now, 0, None
        cards.append(Card(child.user_id, child.card_name, school_class.name, school_class.code,
                          school_class.secret_kind, shown))
    session.flush()
    return cards


# --- children logging in -------------------------------------------------------------------

_DUMMY: dict[str, str] = {}


def _dummy_hash(method: str) -> str:
    if method not in _DUMMY:
        _DUMMY[method] = generate_password_hash(secrets.token_urlsafe(12), method=method)
    return _DUMMY[method]


def authenticate_child(session: Session, *, code: str, card_name: str, password: str | None = None,
                       pictures: Sequence[str] | None = None, hash_method: str = "scrypt",
                       now: datetime | None = None) -> User:
    """The child whose card this is. Wrong secrets count against the card: after
    MAX_FAILED_LOGINS it is locked for LOCK_FOR (a picture-PIN has only 4,096 values).
    The caller commits even on failure, so the count is kept."""
    now = now or utcnow()
    code = (code or "").strip().upper()
    card_name = " ".join((card_name or "").split()).lower()
    child = session.scalar(select(ClassChild).join(SchoolClass).where(
        SchoolClass.code == code, func.lower(ClassChild.card_name) == card_name)
        .options(joinedload(ClassChild.user), joinedload(ClassChild.school_class)))
    if child is None:
        check_password_hash(_dummy_hash(hash_method), password or "")
        raise ChildLoginFailed()
    if child.school_class.archived:
        raise ClassArchived(child.class_id)
    if child.locked_until is not None and child.locked_until > now:
        raise CardLocked(child.locked_until)
    if child.school_class.secret_kind == SecretKind.pictures:
        secret = words.pin_secret(list(pictures or ())) if pictures and len(pictures) == words.PIN_LENGTH else ""
    else:
        secret = (password or "").strip().lower()
    if not secret or not check_password_hash(child.user.password_hash, secret):
        child.failed_logins += 1
        if child.failed_logins >= MAX_FAILED_LOGINS:
            child.failed_logins, child.locked_until = 0, now + LOCK_FOR
        session.flush()
        raise ChildLoginFailed()
    child.failed_logins, child.locked_until = 0, None
    session.flush()
    from moderation.suspension import check_not_suspended

    check_not_suspended(child.user, now=now)
    return child.user


# --- display names -------------------------------------------------------------------------

def _child_class(session: Session, actor: User) -> SchoolClass:
    school_class = class_of_child(session, actor.id) if actor.is_child else None
    if school_class is None:
        raise NotAChild()
    _check_open(school_class)
    return school_class


def choose_safe_name(session: Session, *, actor: User, adjective: str, noun: str) -> User:
    """A child picks a new name from the safe word lists: no approval needed."""
    _child_class(session, actor)
    name = f"{adjective} {noun}"
    if not words.is_safe_pseudonym(name):
        raise ValidationFailed({"adjective": ["Choose both words from the lists."]})
    actor.display_name = name
    session.flush()
    return actor


def request_name(session: Session, *, actor: User, name: str, now: datetime | None = None) -> NameRequest:
    """A child asks for a name of their own: held until their teacher approves it. A new
    request replaces one still waiting."""
    school_class = _child_class(session, actor)
    name = " ".join((name or "").split())
    if not 2 <= len(name) <= 40:
        raise ValidationFailed({"name": ["Names are 2 to 40 characters."]})
    session.execute(delete(NameRequest).where(NameRequest.user_id == actor.id, NameRequest.status == "pending"))
    request = NameRequest(class_id=school_class.id, user_id=actor.id, requested_name=name, created_at=now or utcnow())
    session.add(request)
    session.flush()
    return request


def pending_name_of(session: Session, user_id: int) -> NameRequest | None:
    return session.scalar(select(NameRequest).where(NameRequest.user_id == user_id, NameRequest.status == "pending"))


def decide_name(session: Session, *, actor: User, school_class: SchoolClass, request_id: int, approve: bool,
                now: datetime | None = None) -> NameRequest:
    _check_teacher(actor, school_class)
    _check_open(school_class)
    request = session.scalar(select(NameRequest).where(NameRequest.id == request_id,
                                                       NameRequest.class_id == school_class.id)
                             .options(joinedload(NameRequest.user)))
    if request is None:
        raise NotFound("name request", request_id)
    if request.status != "pending":
        raise Conflict("This name has already been decided.")
    request.status = "approved" if approve else "refused"
    request.decided_at = now or utcnow()
    if approve:
        request.user.display_name = request.requested_name
    session.flush()
    return request


# --- settings ------------------------------------------------------------------------------

def update_settings(session: Session, *, actor: User, school_class: SchoolClass, streaks_enabled: bool,
                    show_in_rankings: bool) -> SchoolClass:
    """Streaks (read by the rest of the app through class_settings_for) and whether the
    class's team appears on public team boards (the leaderboards hide it otherwise)."""
    _check_teacher(actor, school_class)
    _check_open(school_class)
    school_class.streaks_enabled = bool(streaks_enabled)
    if school_class.show_in_rankings != bool(show_in_rankings):
        school_class.show_in_rankings = bool(show_in_rankings)
        aftercommit.queue(session, ledger.PENDING_KEY, ("teams", school_class.team_id))  # Redis: shown/hidden
    session.flush()
    return school_class


# --- the teacher's dashboard and export ----------------------------------------------------

def _children_ids(school_class: SchoolClass):
    return select(ClassChild.user_id).where(ClassChild.class_id == school_class.id)


def _class_claims_condition(school_class: SchoolClass):
    return or_(Claim.user_id.in_(_children_ids(school_class)), Claim.team_id == school_class.team_id)


def dashboard(session: Session, *, actor: User, school_class: SchoolClass) -> Dashboard:
    """Per child: claims, claims waiting for review, approved claims, badges, points; the
    class's claims waiting for review; names waiting for approval. Seven queries, however
    big the class."""
    _check_teacher(actor, school_class)
    children = session.scalars(select(ClassChild).where(ClassChild.class_id == school_class.id)
                               .options(joinedload(ClassChild.user)).order_by(ClassChild.card_name)).all()
    rows = {c.user_id: ChildRow(c) for c in children}
    ids = _children_ids(school_class)
    for user_id, status, n in session.execute(select(Claim.user_id, Claim.status, func.count())
                                              .where(Claim.user_id.in_(ids)).group_by(Claim.user_id, Claim.status)):
        row = rows[user_id]
        row.claims += n
        if status == ClaimStatus.submitted.value:
            row.submitted += n
        elif status == ClaimStatus.approved.value:
            row.approved += n
    for user_id, code in session.execute(select(BadgeAward.user_id, BadgeAward.code)
                                         .where(BadgeAward.user_id.in_(ids)).order_by(BadgeAward.awarded_at)):
        rows[user_id].badges.append(code)
    for user_id, total in session.execute(select(LedgerEntry.user_id, func.sum(LedgerEntry.amount))
                                          .where(LedgerEntry.user_id.in_(ids)).group_by(LedgerEntry.user_id)):
        rows[user_id].points = int(total)
    pending = session.scalars(select(Claim).where(_class_claims_condition(school_class),
                                                  Claim.status == ClaimStatus.submitted.value)
                              .options(joinedload(Claim.quest), joinedload(Claim.user))
                              .order_by(Claim.submitted_at, Claim.id)).all()
    requests = session.scalars(select(NameRequest).where(NameRequest.class_id == school_class.id,
                                                         NameRequest.status == "pending")
                               .options(joinedload(NameRequest.user)).order_by(NameRequest.created_at)).all()
    return Dashboard(school_class, list(rows.values()), list(pending), list(requests),
                     team_points(session, school_class))


def team_points(session: Session, school_class: SchoolClass) -> int:
    return int(session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0))
                              .where(LedgerEntry.team_id == school_class.team_id)))


EXPORT_COLUMNS = ("pupil", "display_name", "quest", "team_claim", "status", "taken_at", "submitted_at",
                  "decided_at", "points", "evidence")


def export_rows(session: Session, *, actor: User, school_class: SchoolClass) -> Iterable[list[str]]:
    """The class's work, one row per claim, for a school report: pseudonyms and card names
    only, never a secret. Points are what the claim paid the child (or the class, for a
    team claim)."""
    _check_teacher(actor, school_class)
    cards = dict(session.execute(select(ClassChild.user_id, ClassChild.card_name)
                                 .where(ClassChild.class_id == school_class.id)).all())
    claims = session.scalars(select(Claim).where(_class_claims_condition(school_class))
                             .options(joinedload(Claim.quest), joinedload(Claim.user))
                             .order_by(Claim.created_at, Claim.id)).all()
    paid = _paid_per_claim(session, school_class, [c.id for c in claims])
    yield list(EXPORT_COLUMNS)
    for claim in claims:
        yield [_cell(v) for v in (
            cards.get(claim.user_id, FORMER_PUPIL), claim.user.display_name, claim.quest.title,
            "yes" if claim.team_id else "no", claim.status, _iso(claim.created_at), _iso(claim.submitted_at),
            _iso(claim.decided_at), paid.get(claim.id, 0), claim.evidence or "")]


def export_csv(session: Session, *, actor: User, school_class: SchoolClass) -> str:
    """export_rows as CSV text (the class page's download and GET /api/v1/classes/<id>/export.csv)."""
    out = io.StringIO()
    csv.writer(out).writerows(export_rows(session, actor=actor, school_class=school_class))
    return out.getvalue()


def export_filename(school_class: SchoolClass) -> str:
    return f"class-{school_class.id}-work.csv"


def _paid_per_claim(session: Session, school_class: SchoolClass, claim_ids: list[int]) -> dict[int, int]:
    if not claim_ids:
        return {}
    rows = session.execute(select(LedgerEntry.claim_id, func.sum(LedgerEntry.amount))
                           .where(LedgerEntry.claim_id.in_(claim_ids), LedgerEntry.kind != "review",
                                  LedgerEntry.team_id == school_class.team_id)
                           .group_by(LedgerEntry.claim_id)).all()
    return {claim_id: int(total) for claim_id, total in rows}


def _iso(value: datetime | None) -> str:
    return "" if value is None else value.isoformat(timespec="seconds")


# --- the class board -----------------------------------------------------------------------

@dataclass(frozen=True)
class BoardRow:
    rank: int
    user_id: int
    name: str
    points: int


def class_board(session: Session, *, viewer: User, school_class: SchoolClass,
                window: Window = ALL_TIME) -> list[BoardRow]:
    """The class's children ranked by their own points, for the teacher and the class's
    children only (children are hidden from every public board, so this reads the ledger
    through the leaderboard's ClassScope without the public boards' hiding)."""
    if not may_see_board(session, viewer, school_class):
        raise NotFound("class", school_class.id)
    totals = totals_select("participants", window, Scope("class", school_class.id)).subquery()
    rows = session.execute(select(totals.c.member_id, totals.c.points, User.display_name)
                           .join(User, User.id == totals.c.member_id)
                           .order_by(totals.c.points.desc(), totals.c.last_id.asc())).all()
    return [BoardRow(i + 1, r.member_id, r.display_name, int(r.points)) for i, r in enumerate(rows)]


# --- the end of the year -------------------------------------------------------------------

def archive_class(session: Session, *, actor: User, school_class: SchoolClass,
                  now: datetime | None = None) -> SchoolClass:
    """Read-only from now on: no new children, resets, names or settings; children can no
    longer log in. Its team and points stay."""
    _check_teacher(actor, school_class)
    _check_open(school_class)
    school_class.archived_at = now or utcnow()
    session.flush()
    return school_class


@dataclass(frozen=True)
class Deletion(Erasure):
    """The erased children (user_ids) and their photo files (photo_keys)."""

    @property
    def children(self) -> int:
        return len(self.user_ids)


def delete_children(session: Session, *, actor: User, school_class: SchoolClass,
                    now: datetime | None = None) -> Deletion:
    """Erase an archived class's children (accounts.erasure.erase_users): their accounts
    and every row only about them (its PERSONAL_COLUMNS, their photos, the text of their
    evidence) are deleted. What the class did stays, credited to one anonymous stand-in per
    child ("Former pupil": no email, no password, hidden, is_child): claims, reviews,
    reports and their ledger rows. The class team's rows are untouched, so its totals are
    the same before and after."""
    _check_teacher(actor, school_class)
    if not school_class.archived:
        raise Conflict("Archive the class first: children's accounts are deleted at the end of the year.")
    children = session.scalars(select(User).join(ClassChild, ClassChild.user_id == User.id)
                               .where(ClassChild.class_id == school_class.id)).all()
    now = now or utcnow()
    erasure = erase_users(session, children, stand_in_name=FORMER_PUPIL, child=True,
                          evidence_note="(removed when the pupil's account was deleted)", now=now)
    school_class.children_deleted_at = now if children else (school_class.children_deleted_at or now)
    session.flush()
    return Deletion(erasure.user_ids, erasure.photo_keys)
