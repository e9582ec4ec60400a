"""Moderation and administration in the API, each through the same service as its page:
flagging, the moderators' queue and their decisions, a teacher's held pupils' evidence
(with its photos' URLs, which media/views.py serves to the child's teachers, with their session,
as on the page), the admins' list of accounts, suspensions, roles, the word list, integrity
alerts and the audit log.

Who may do what is the pages' rule: moderators are organisers and admins; the account
list, suspensions, roles, the word list and the audit log are for admins; integrity alerts
for organisers (a non-organiser marking one reviewed gets the page's 404). Every decision is written to the
audit log by the service, exactly as when made on the page.

A child is named only to people who may see them (childsafe.policy): to anyone else a
child is "a pupil", and a child's evidence text is left out where its claim is hidden from
the viewer.
"""
from __future__ import annotations

import json

from flask import url_for

from accounts import services as accounts
from accounts.models import User
from api import bp
from api.auth import token_required
from api.parsing import (MAX_ID, choice_arg, identifier, json_body, one_of, page_args, paginated, read_args,
                         read_fields, text, text_arg, timestamp)
from api.serializers import photo_json
from childsafe import services as childsafe
from errors import Forbidden, NotFound
from extensions import db
from integrity import services as integrity
from integrity.models import IntegrityAlert
from moderation import audit, services as moderation, suspension, wordlist
from moderation.audit import Action
from moderation.labels import Names, flag_notes, queue_label
from moderation.models import AuditEntry, HeldWord, Kind
from timeutil import isoformat

ID = f"int(max={MAX_ID})"
KINDS = "any(problem, update, evidence, profile)"
DECISIONS = {"hide": moderation.hide, "restore": moderation.restore, "dismiss": moderation.dismiss,
             "release": moderation.release}
NO_STORE = {"Cache-Control": "no-store"}


def _require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise Forbidden("do that", "it is for admins.")


# --- flags and the moderators' queue -------------------------------------------------------

@bp.post("/flags")
@token_required
def flag(actor: User):
    """Tell the moderators an item {"kind", "object_id"} is abusive: {"reason", "text"}."""
    values = read_fields(json_body(), {"kind": one_of(*(k.value for k in Kind)), "object_id": identifier,
                                       "reason": text, "text": text}, required=("kind", "object_id", "reason"))
    row = moderation.flag(db.session, actor=actor, **values)
    body = {"id": row.id, "kind": row.kind, "object_id": row.object_id, "reason": row.reason,
            "status": row.status, "created_at": isoformat(row.created_at)}
    db.session.commit()
    return body, 201, {"Location": url_for("api.moderation_queue")}


@bp.get("/moderation/queue")
@token_required
def moderation_queue(actor: User):
    """Moderators: posts the word list held, and flagged items grouped, oldest first."""
    flagged = moderation.flag_queue(db.session, actor=actor)
    held = moderation.held_queue(db.session, actor=actor)
    names = Names(actor)
    return {
        "held": [{"kind": item.kind, "object_id": item.object_id, "label": queue_label(item, actor, names),
                  "reason": state.reason, "held_at": isoformat(state.created_at)} for state, item in held],
        "flagged": [{"kind": e.item.kind, "object_id": e.item.object_id, "label": queue_label(e.item, actor, names),
                     "visibility": e.item.visibility, "flags": e.count, "reasons": e.reasons,
                     "texts": flag_notes(e.item, e.texts, actor, names),
                     "first_flagged_at": isoformat(e.first_at)} for e in flagged],
    }, 200, NO_STORE


@bp.post(f"/moderation/<{KINDS}:kind>/<{ID}:object_id>/<any(hide, restore, dismiss, release):action>")
@token_required
def moderation_decision(actor: User, kind: str, object_id: int, action: str):
    """Hide or restore (a reason is required), dismiss the flags, or release a held post."""
    values = read_fields(json_body(optional=True), {"reason": text})
    if not actor.is_organiser:
        raise Forbidden("moderate content", "only organisers and admins moderate.")
    result = DECISIONS[action](db.session, actor=actor, kind=kind, object_id=object_id, reason=values["reason"])
    closed = result if action == "dismiss" else None
    item = result if action != "dismiss" else moderation.load_item(db.session, kind, object_id)
    body = {"kind": item.kind, "object_id": item.object_id, "action": action, "visibility": item.visibility,
            "flags_closed": closed}
    db.session.commit()
    return body


# --- a teacher's held pupils' evidence -----------------------------------------------------

def hold_json(hold) -> dict:
    return {"id": hold.id, "claim_id": hold.claim_id, "child_id": hold.child_id, "state": hold.state,
            "created_at": isoformat(hold.created_at), "decided_at": isoformat(hold.decided_at)}


@bp.get("/holds")
@token_required
def holds(actor: User):
    """Teachers: their pupils' evidence waiting to leave the class, oldest first."""
    if not actor.is_organiser:
        raise Forbidden("see pupils' work", "only teachers check their pupils' evidence.")
    return {"items": [{**hold_json(w.hold), "child": w.hold.child.display_name,
                       "quest": {"id": w.claim.quest.id, "title": w.claim.quest.title},
                       "team_id": w.claim.team_id, "evidence": w.claim.evidence,
                       "photos": [photo_json(photo) for photo in w.photos]}
                      for w in childsafe.waiting_for(db.session, actor)]}, 200, NO_STORE


@bp.post(f"/holds/<{ID}:hold_id>/<any(approve, reject):decision>")
@token_required
def decide_hold(actor: User, hold_id: int, decision: str):
    """The child's teacher releases the evidence to reviewers, or sends it back to redo."""
    hold = childsafe.decide(db.session, actor=actor, hold=childsafe.get_hold(db.session, hold_id), decision=decision)
    body = hold_json(hold)
    db.session.commit()
    return body


# --- people: suspensions and roles ---------------------------------------------------------

def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("user", user_id)
    return user


def admin_user_json(user: User, names: Names) -> dict:
    return {"id": user.id, "name": names(user), "role": user.role, "suspended": user.is_suspended(),
            "suspended_until": isoformat(user.suspended_until) if user.is_suspended() else None,
            "suspension_reason": user.suspension_reason if user.is_suspended() else None}


def listed_user_json(user: User, names: Names) -> dict:
    """An account as the admins' user list shows it: with its email (none for a child)."""
    return {**admin_user_json(user, names), "email": accounts.email_shown_to_admin(user), "child": user.is_child,
            "url": url_for("api.admin_user", user_id=user.id)}


@bp.get("/admin/users")
@token_required
def admin_users(actor: User):
    """Admins: every account, oldest first, as the users page lists them; `q` finds part of a
    name or email, `role` one role."""
    args = read_args(q=text_arg(max_length=accounts.SEARCH_MAX), role=choice_arg(accounts.ACCOUNT_ROLES),
                     **page_args())
    stmt = accounts.accounts_for_admin(db.session, actor=actor, search=args["q"], role=args["role"])
    names = Names(actor)
    return paginated(stmt, lambda user: listed_user_json(user, names), args), 200, NO_STORE


@bp.get(f"/admin/users/<{ID}:user_id>")
@token_required
def admin_user(actor: User, user_id: int):
    """Admins: one account, as the users page lists it."""
    user = accounts.account_for_admin(db.session, actor=actor, user_id=user_id)
    return listed_user_json(user, Names(actor)), 200, NO_STORE


@bp.post(f"/admin/users/<{ID}:user_id>/suspend")
@token_required
def suspend_user(actor: User, user_id: int):
    """Admins: suspend an account {"reason", "until"} (no until: until lifted); its sessions end."""
    values = read_fields(json_body(), {"reason": text, "until": timestamp})
    _require_admin(actor)
    user = _user(user_id)
    suspension.suspend(db.session, actor=actor, user=user, reason=values["reason"], until=values["until"])
    body = admin_user_json(user, Names(actor))
    db.session.commit()
    return body


@bp.post(f"/admin/users/<{ID}:user_id>/lift")
@token_required
def lift_suspension(actor: User, user_id: int):
    """Admins: lift a suspension (optional {"reason"})."""
    values = read_fields(json_body(optional=True), {"reason": text})
    _require_admin(actor)
    user = _user(user_id)
    suspension.lift(db.session, actor=actor, user=user, reason=values["reason"])
    body = admin_user_json(user, Names(actor))
    db.session.commit()
    return body


@bp.post(f"/admin/users/<{ID}:user_id>/role")
@token_required
def set_role(actor: User, user_id: int):
    """Admins: make someone a participant, organiser or admin {"role"}."""
    values = read_fields(json_body(), {"role": text}, required=("role",))
    user = _user(user_id)
    accounts.set_role(db.session, actor=actor, user=user, role=values["role"])
    body = admin_user_json(user, Names(actor))
    db.session.commit()
    return body


# --- the word list -------------------------------------------------------------------------

def word_json(row: HeldWord) -> dict:
    return {"id": row.id, "word": row.word, "created_at": isoformat(row.created_at)}


@bp.get("/admin/words")
@token_required
def held_words(actor: User):
    """Admins: the words that hold posts for review (the admins' list, and the configured ones)."""
    listed = wordlist.admin_list(db.session, actor=actor)
    return {"items": [word_json(row) for row in listed], "configured": list(wordlist.configured_words())}


@bp.post("/admin/words")
@token_required
def add_held_word(actor: User):
    """Admins: add {"word"} (a word or short phrase) to the list."""
    values = read_fields(json_body(), {"word": text}, required=("word",))
    _require_admin(actor)
    row = wordlist.add_word(db.session, actor=actor, word=values["word"])
    body = word_json(row)
    db.session.commit()
    return body, 201, {"Location": url_for("api.held_words")}


@bp.delete(f"/admin/words/<{ID}:word_id>")
@token_required
def remove_held_word(actor: User, word_id: int):
    """Admins: take a word off the list."""
    word = wordlist.remove_word(db.session, actor=actor, word_id=word_id)
    db.session.commit()
    return {"id": word_id, "word": word, "removed": True}


# --- integrity alerts ----------------------------------------------------------------------

def alert_json(alert: IntegrityAlert, names: Names, involved: bool) -> dict:
    return {"id": alert.id, "kind": alert.kind, "approvals": alert.approvals, "created_at": isoformat(alert.created_at),
            "reviewer": names(alert.reviewer), "claimant": names(alert.claimant),
            "teams": [names.team(team) for team in (alert.team_a, alert.team_b) if team is not None],
            "claim_ids": [link.claim_id for link in alert.claims], "involved": involved,
            "reviewed_at": isoformat(alert.reviewed_at)}


@bp.get("/integrity/alerts")
@token_required
def integrity_alerts(actor: User):
    """Organisers: open alerts, newest first; `involved`: it is about you or your team."""
    if not actor.is_organiser:
        raise Forbidden("open the organiser's tools", "they are for organisers.")
    mine, names = accounts.team_ids_of(db.session, actor.id), Names(actor)
    return {"items": [alert_json(alert, names, integrity.is_involved(db.session, actor, alert, mine))
                      for alert in integrity.open_alerts(db.session)]}, 200, NO_STORE


@bp.post(f"/integrity/alerts/<{ID}:alert_id>/reviewed")
@token_required
def mark_alert_reviewed(actor: User, alert_id: int):
    """Organisers not involved in it: mark an alert reviewed."""
    if not actor.is_organiser:
        raise NotFound("integrity alert", alert_id)  # as the page: no such thing for anyone else
    alert = integrity.mark_reviewed(db.session, actor=actor, alert=integrity.get_alert(db.session, alert_id))
    body = alert_json(alert, Names(actor), False)
    db.session.commit()
    return body


# --- the audit log -------------------------------------------------------------------------

def _actor_name(entry: AuditEntry) -> str:
    if entry.actor_id is None:
        return "command line"
    return entry.actor.display_name if entry.actor is not None else "deleted account"


def audit_json(entry: AuditEntry) -> dict:
    return {"id": entry.id, "created_at": isoformat(entry.created_at), "actor_id": entry.actor_id,
            "actor": _actor_name(entry), "action": entry.action, "object_kind": entry.object_kind,
            "object_id": entry.object_id, "reason": entry.reason,
            "detail": json.loads(entry.detail) if entry.detail else None}


@bp.get("/admin/audit")
@token_required
def audit_log(actor: User):
    """Admins: the audit log, newest first, optionally one `action`."""
    args = read_args(action=choice_arg(a.value for a in Action), **page_args())
    return paginated(audit.log_select(actor=actor, action=args["action"]), audit_json, args), 200, NO_STORE
