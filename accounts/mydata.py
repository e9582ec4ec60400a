"""Personal data: a person downloads everything FixQuest holds about them, or deletes their
account.

The export reads every (table, column) that names a user (EXPORTED), one query each,
leaving out the columns that hold secrets (SECRET_COLUMNS). A column naming a user that is
neither exported nor listed in NOT_EXPORTED (with the reason) fails
tests/test_my_data.py, so a new package's table cannot be forgotten.

Deleting an account goes through accounts.erasure.erase_users, as a class's children's
deletion does: the person's public contributions (problems, updates, claims, reviews,
fix stories) stay under an anonymous stand-in named "a former participant", their ledger
rows move to it (so every team total is unchanged), and their personal rows, email,
password and tokens are gone.

Functions flush; the caller commits.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from accounts.erasure import Erasure, erase_users
from accounts.models import Kudos, Team, TeamMembership, User
from accounts.services import _close
from challenges.models import Claim
from errors import Conflict, Forbidden, ValidationFailed
from extensions import db
from timeutil import utcnow
from webhooks.services import remove_all_of

FORMER_PARTICIPANT = "a former participant"

# (table, column naming the user) -> the export's section for those rows.
EXPORTED: dict[tuple[str, str], str] = {
    ("team_memberships", "user_id"): "team_memberships",
    ("teams", "captain_id"): "teams_captained",
    ("team_invites", "created_by_id"): "team_invites_created",
    ("team_join_requests", "user_id"): "team_join_requests",
    ("team_join_requests", "decided_by_id"): "team_join_requests_decided",
    ("problems", "reporter_id"): "problems_reported",
    ("problem_updates", "author_id"): "problem_updates_written",
    ("confirmations", "user_id"): "confirmations",
    ("subscriptions", "user_id"): "subscriptions",
    ("quests", "created_by_id"): "quests_created",
    ("claims", "user_id"): "claims",
    ("claim_members", "user_id"): "team_claims_taken_part_in",
    ("reviews", "reviewer_id"): "reviews_written",
    ("photos", "uploader_id"): "photos_uploaded",
    ("ledger_entries", "user_id"): "ledger_entries",
    ("badge_awards", "user_id"): "badges",
    ("notifications", "user_id"): "notifications",
    ("api_tokens", "user_id"): "api_tokens",
    ("kudos", "giver_id"): "kudos_given",
    ("class_children", "user_id"): "class_card",
    ("class_name_requests", "user_id"): "class_name_requests",
    ("moderation_holds", "child_id"): "claims_held_for_teacher",
    ("moderation_holds", "decided_by_id"): "held_claims_decided",
    ("events", "created_by_id"): "events_created",
    ("event_organisers", "user_id"): "events_co_organised",
    ("event_entries", "user_id"): "event_entries",
    ("event_entries", "registered_by_id"): "event_entries_registered",
    ("campaigns", "organiser_id"): "campaigns_organised",
    ("campaign_pledges", "user_id"): "campaign_pledges",
    ("fix_stories", "author_id"): "fix_stories",
    ("webhooks", "owner_id"): "webhooks",
    ("open311_api_keys", "created_by"): "open311_keys_created",
    ("moderation_flags", "reporter_id"): "flags_raised",
    ("moderation_flags", "closed_by_id"): "flags_closed_as_moderator",
    ("moderated_items", "owner_id"): "content_hidden_or_held",
    ("moderated_items", "decided_by_id"): "moderation_decisions",
    ("moderation_words", "created_by_id"): "held_words_added",
}
# (table, column naming a user) deliberately left out of the export, with the reason.
NOT_EXPORTED: dict[tuple[str, str], str] = {
    ("open311_api_keys", "reporter_id"): "names the system account an Open311 key files its reports under, "
                                         "never a person who logs in",
    ("integrity_alerts", "reviewer_id"): "an organisers' anti-cheating record about a burst of approvals (the "
                                         "reviews and claims themselves are exported); kept from export as a "
                                         "fraud check",
    ("integrity_alerts", "claimant_id"): "as integrity_alerts.reviewer_id",
    ("integrity_alerts", "reviewed_by_id"): "as integrity_alerts.reviewer_id: which organiser cleared an alert",
}
# Never exported, whatever the table: hashes of passwords and tokens, and secrets' salts.
SECRET_COLUMNS = frozenset({"password_hash", "token_hash", "key_hash", "secret_salt"})
# Columns of a section that hold someone else's words or identity, not the exporter's: a
# moderator's export says which flags they closed and how, not who raised them or what they
# wrote (a flag's note can name a pupil that moderator was never shown).
OTHERS_COLUMNS: dict[tuple[str, str], frozenset[str]] = {
    ("moderation_flags", "closed_by_id"): frozenset({"text", "reporter_id"}),
}


# --- errors --------------------------------------------------------------------------------

class ChildAccountKept(Forbidden):
    code = "child_account"

    def __init__(self):
        super().__init__("delete this account", "a school-class child's account is deleted by their teacher "
                                                "at the end of the year. Ask your teacher.")


class WrongPassword(ValidationFailed):
    code = "wrong_password"

    def __init__(self):
        super().__init__({"password": ["That is not your password: nothing was deleted."]})


class CaptainStillNeeded(Conflict):
    code = "captain_still_needed"

    def __init__(self, team_names: list[str]):
        super().__init__(f"You captain {', '.join(team_names)}, which still has other members: hand the "
                         "captaincy to one of them first (a teacher deletes their class's children first).")
        self.team_names = team_names


# --- the export ------------------------------------------------------------------------------

def _value(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def _rows(session: Session, table, column, user_id: int) -> list[dict[str, Any]]:
    left_out = SECRET_COLUMNS | OTHERS_COLUMNS.get((table.name, column.name), frozenset())
    columns = [c for c in table.columns if c.name not in left_out]
    stmt = select(*columns).where(column == user_id)
    if "id" in table.columns:
        stmt = stmt.order_by(table.columns["id"])
    return [{key: _value(value) for key, value in row._mapping.items()} for row in session.execute(stmt)]


def exported_columns() -> dict[tuple[str, str], Any]:
    """Every (table, column) naming a user, with its Column: what the export must cover."""
    return {(table.name, fk.parent.name): fk.parent
            for table in db.metadata.sorted_tables for fk in table.foreign_keys
            if fk.column.table.name == "users" and table.name != "users"}


def export(session: Session, *, user: User, now: datetime | None = None) -> dict[str, Any]:
    """Everything FixQuest holds about `user`, as JSON-ready data (no hashes, no secrets)."""
    data: dict[str, Any] = {
        "generated_at": _value(now or utcnow()),
        "account": {
            "id": user.id, "email": user.email, "display_name": user.display_name, "role": user.role,
            "created_at": _value(user.created_at), "email_verified_at": _value(user.email_verified_at),
            "hidden_from_boards": user.hidden_from_boards, "is_child": user.is_child,
        },
    }
    for key, column in sorted(exported_columns().items()):
        if key in EXPORTED:
            data[EXPORTED[key]] = _rows(session, column.table, column, user.id)
    data["kudos_received"] = [
        {"claim_id": claim_id, "created_at": _value(created_at)}
        for claim_id, created_at in session.execute(
            select(Kudos.claim_id, Kudos.created_at).join(Claim, Claim.id == Kudos.claim_id)
            .where(Claim.user_id == user.id).order_by(Kudos.id))]
    return data


# --- deleting an account ---------------------------------------------------------------------

def delete_account(session: Session, *, actor: User, password: str, now: datetime | None = None) -> Erasure:
    """Delete the actor's own account after they re-entered their password. Their webhooks
    go; teams they captain alone are closed (as when a last member leaves); then
    erase_users keeps their contributions under "a former participant"."""
    if actor.is_child:
        raise ChildAccountKept()
    if not check_password_hash(actor.password_hash, password or ""):
        raise WrongPassword()
    now = now or utcnow()
    captained = session.scalars(select(Team).where(Team.captain_id == actor.id, Team.closed_at.is_(None))
                                .order_by(Team.name)).all()
    others = set(session.scalars(select(TeamMembership.team_id).where(
        TeamMembership.team_id.in_([t.id for t in captained]), TeamMembership.user_id != actor.id)))
    if others:
        raise CaptainStillNeeded([t.name for t in captained if t.id in others])
    for team in captained:
        _close(session, team, now=now)
    remove_all_of(session, owner_id=actor.id)
    return erase_users(session, [actor], stand_in_name=FORMER_PARTICIPANT, child=False, now=now)
