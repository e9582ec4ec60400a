from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ColumnElement, ForeignKey, Index, Integer, String, UniqueConstraint, false, or_
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from timeutil import UTCDateTime, utcnow


class Role(str, enum.Enum):
    participant = "participant"
    organiser = "organiser"
    admin = "admin"


# Accounts that act for software, e.g. an Open311 client's key: they never log in and
# are not offered in the admin's role menu.
SYSTEM_ROLE = "system"


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # None for a school-class child's account: children never give an email (classes/).
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(20), default=Role.participant.value)
    # Hidden people still see their own rank; nobody else sees them on a public board.
    hidden_from_boards: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # A child's account (a school class member): nothing about it may reach a public page,
    # feed, export or API. Set only when a teacher creates the account.
    is_child: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Part of the id in every session cookie: raising it (logout, a password reset) ends
    # every session the person has, even a copied cookie.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # When the person proved they read mail at `email` (None: not yet). See README, "Sessions".
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The interface language the person chose ("en", "cy"); None: follow the browser (i18n.py).
    locale: Mapped[str | None] = mapped_column(String(8))
    # A moderator hid this profile (moderation/): its page is gone and it is off the boards.
    profile_hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # An admin suspended the account (moderation/suspension.py): no login, no tokens, until
    # suspended_until (None: until lifted).
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suspended_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suspension_reason: Mapped[str | None] = mapped_column(String(500))
    # What the dashboard has already celebrated (scoring.dashboard): the highest level, and
    # the newest badge award's id. A level or badge beyond them is celebrated once.
    celebrated_level: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    celebrated_badge_id: Mapped[int | None] = mapped_column(Integer)

    memberships: Mapped[list[TeamMembership]] = relationship(back_populates="user")

    def get_id(self) -> str:
        return f"{self.id}.{self.session_epoch or 0}"

    @property
    def is_organiser(self) -> bool:
        return self.role in (Role.organiser.value, Role.admin.value)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin.value

    # --- who may be named in public: the one place these rules are written ------------------
    # Each is a hybrid: `user.unnamed_in_public` on a loaded object, `User.unnamed_in_public`
    # in a query (a WHERE condition or a selected column). Pages that know the viewer add their
    # exceptions on top (a child's class sees the child, moderators see hidden profiles:
    # childsafe.policy, moderation.visibility); everything anonymous starts from these.

    @hybrid_property
    def unnamed_in_public(self) -> bool:
        """Never named, ranked or listed where the public reads: leaderboards (pages, API,
        Redis, open data), team, event and campaign listings, open-data rows, webhook payloads
        and thank-yous. True for a child's account (`is_child`: nothing about a child is
        public), for someone who opted out of the boards (`hidden_from_boards`: the opt-out
        covers every public list of people, not only the rankings) and for a profile a
        moderator hid (`profile_hidden`). Such people are counted ("2 more members"), never named."""
        return bool(self.is_child or self.hidden_from_boards or self.profile_hidden)

    @unnamed_in_public.inplace.expression
    @classmethod
    def _unnamed_in_public_expression(cls) -> ColumnElement[bool]:
        return or_(cls.is_child, cls.hidden_from_boards, cls.profile_hidden)

    @hybrid_property
    def unnamed_as_author(self) -> bool:
        """Shown as a stand-in ("a pupil", "a participant") beside what they did in public:
        the problems and updates they posted, the claims they made, the reviews they gave
        (problem and claim pages, feeds, the API's `author`). True for a child's account and
        for a profile a moderator hid. Opting out of the boards does not make one's own
        posts anonymous: `hidden_from_boards` takes a person out of lists of people, not off
        what they chose to post (their profile stays up too)."""
        return bool(self.is_child or self.profile_hidden)

    @unnamed_as_author.inplace.expression
    @classmethod
    def _unnamed_as_author_expression(cls) -> ColumnElement[bool]:
        return or_(cls.is_child, cls.profile_hidden)

    def is_suspended(self, now: datetime | None = None) -> bool:
        if self.suspended_at is None:
            return False
        return self.suspended_until is None or self.suspended_until > (now or utcnow())

    def __repr__(self) -> str:
        return f"<User {self.id} {self.display_name!r} {self.role}>"


class Team(db.Model):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    join_code: Mapped[str] = mapped_column(String(16), unique=True)
    captain_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The join code stops working at this time (None: until it is regenerated).
    join_code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # This team's own size limit, below the site's TEAM_MAX_SIZE (None: the site's).
    max_size: Mapped[int | None] = mapped_column(Integer)
    # Set when its last member (the captain) left: nobody can join it again; its points stay.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    captain: Mapped[User] = relationship(foreign_keys=[captain_id])
    memberships: Mapped[list[TeamMembership]] = relationship(
        back_populates="team", cascade="all, delete-orphan"
    )


class TeamMembership(db.Model):
    __tablename__ = "team_memberships"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    team: Mapped[Team] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship(back_populates="memberships")


class TeamInvite(db.Model):
    """An invite link: /teams/invite/<token>. Only the token's SHA-256 digest is stored."""

    __tablename__ = "team_invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    single_use: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the last time someone joined with it
    uses: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class JoinRequestStatus(str, enum.Enum):
    pending = "pending"
    approved = "approved"
    declined = "declined"
    withdrawn = "withdrawn"  # the person joined another way first


class TeamJoinRequest(db.Model):
    """Someone asking to join a team; its captain approves or declines."""

    __tablename__ = "team_join_requests"
    __table_args__ = (
        # One pending request per person and team (a partial unique index, as for claims).
        Index("uq_team_join_requests_pending", "team_id", "user_id", unique=True,
              sqlite_where=db.text("status = 'pending'"), postgresql_where=db.text("status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default=JoinRequestStatus.pending.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class Kudos(db.Model):
    """A participant thanking the people credited for an approved fix (a claim). No points."""

    __tablename__ = "kudos"
    __table_args__ = (UniqueConstraint("claim_id", "giver_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    giver_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    giver: Mapped[User] = relationship()


class ApiToken(db.Model):
    """A bearer token for the JSON API. Only its SHA-256 digest is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # "read": GETs only; "write": everything the person may do. Tokens from before scopes: write.
    scope: Mapped[str] = mapped_column(String(10), default="write", server_default="write")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
