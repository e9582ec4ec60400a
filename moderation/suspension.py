"""Suspending accounts: no login, no API tokens, every session ended; lifted by an admin
or when the end date passes. What the person made stays public unless hidden separately."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from accounts.models import User
from errors import Conflict, Forbidden, ValidationFailed
from moderation import audit
from moderation.audit import Action
from moderation.services import REASON_MAX
from timeutil import isoformat, local_text, utcnow


class AccountSuspended(Forbidden):
    """The person tried to log in or use a token while suspended."""

    code = "account_suspended"

    def __init__(self, user: User, timezone: str = "UTC"):
        until = (f" until {local_text(user.suspended_until, timezone)}" if user.suspended_until
                 else " until an admin lifts it")
        reason = f" Reason: {user.suspension_reason}." if user.suspension_reason else ""
        super().__init__("use FixQuest", f"your account is suspended{until}.{reason}")
        self.user_id = user.id
        self.until = user.suspended_until


def check_not_suspended(user: User, *, timezone: str = "UTC", now: datetime | None = None) -> None:
    if user.is_suspended(now):
        raise AccountSuspended(user, timezone)


def suspend(session: Session, *, actor: User, user: User, reason: str, until: datetime | None = None,
            now: datetime | None = None) -> User:
    """An admin suspends an account; every session it has ends at once."""
    if not actor.is_admin:
        raise Forbidden("suspend accounts", "only admins do that.")
    if user.id == actor.id:
        raise Forbidden("suspend yourself", "ask another admin.")
    now = now or utcnow()
    reason = (reason or "").strip()
    fields = {}
    if not reason:
        fields["reason"] = ["Say why: the person is shown this."]
    elif len(reason) > REASON_MAX:
        fields["reason"] = [f"Keep this to {REASON_MAX} characters or fewer."]
    if until is not None and until <= now:
        fields["until"] = ["Choose a time in the future, or leave it empty to suspend until lifted."]
    if fields:
        raise ValidationFailed(fields)
    user.suspended_at, user.suspended_until, user.suspension_reason = now, until, reason
    user.session_epoch = (user.session_epoch or 0) + 1  # every session ends, even a copied cookie
    audit.record(session, actor=actor, action=Action.suspend, object_kind="user", object_id=user.id, reason=reason,
                 detail={"until": isoformat(until) if until else None}, now=now)
    return user


def lift(session: Session, *, actor: User, user: User, reason: str | None = None,
         now: datetime | None = None) -> User:
    if not actor.is_admin:
        raise Forbidden("lift suspensions", "only admins do that.")
    if not user.is_suspended(now):
        raise Conflict("This account is not suspended.")  # no name: the caller may not see a child's
    reason = (reason or "").strip() or None
    if reason and len(reason) > REASON_MAX:
        raise ValidationFailed({"reason": [f"Keep this to {REASON_MAX} characters or fewer."]})
    user.suspended_at = user.suspended_until = user.suspension_reason = None
    audit.record(session, actor=actor, action=Action.lift, object_kind="user", object_id=user.id, reason=reason,
                 now=now)
    return user
