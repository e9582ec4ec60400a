"""School classes in the API, for their teacher: making a class and its children's login
cards, adding children, new cards, settings, children's name requests, the CSV export of
the class's work, archiving and the end-of-year deletion, each through the same
classes.services function as the class pages; and the class's leaderboard (its teacher and children).

Only a class's teacher sees it: to anyone else (other organisers and admins included, as
on the pages) a class is 404, whether or not it exists. A login card's secret exists only
in the response that makes it (as on the printed-cards page): never stored, never cached.

Children log in with their cards, not tokens: accounts.services.issue_token refuses a
child's account, as the tokens page does.
"""
from __future__ import annotations

from flask import Response, current_app, url_for

from accounts import erasure
from accounts.models import User
from api import bp
from api.auth import token_required
from api.parsing import (MAX_ID, MAX_PAGE_SIZE, boolean, choice_arg, id_list, int_arg, json_body, read_args,
                         read_fields, text, whole_number)
from classes import services as classes
from classes.models import NameRequest, SchoolClass
from errors import Forbidden, ValidationFailed
from extensions import db
from scoring.views import backend
from timeutil import isoformat

ID = f"int(max={MAX_ID})"
WINDOWS = ("all", "week", "month")  # as the class board page offers
NO_STORE = {"Cache-Control": "no-store"}


def class_json(school_class: SchoolClass, children: int) -> dict:
    return {"id": school_class.id, "name": school_class.name, "team_id": school_class.team_id,
            "code": school_class.code, "secret_kind": school_class.secret_kind,
            "streaks_enabled": school_class.streaks_enabled, "show_in_rankings": school_class.show_in_rankings,
            "archived": school_class.archived, "archived_at": isoformat(school_class.archived_at),
            "children_deleted_at": isoformat(school_class.children_deleted_at), "children_count": children,
            "created_at": isoformat(school_class.created_at),
            "url": url_for("api.school_class", class_id=school_class.id)}


def card_json(card: classes.Card) -> dict:
    """A printed card: the password, or the picture-PIN's pictures (code and name), shown once."""
    pictures = [{"code": code, "name": name} for code, name, _ in card.pictures]
    return {"child_id": card.child_id, "card_name": card.card_name, "class_code": card.class_code,
            "kind": card.kind, "password": card.secret if isinstance(card.secret, str) else None,
            "pictures": pictures or None}


def name_request_json(found: NameRequest) -> dict:
    return {"id": found.id, "child_id": found.user_id, "requested_name": found.requested_name,
            "status": found.status, "created_at": isoformat(found.created_at),
            "decided_at": isoformat(found.decided_at)}


def _cards(school_class: SchoolClass, cards: list[classes.Card]) -> dict:
    return {"class_id": school_class.id, "cards": [card_json(card) for card in cards]}


def _hash_method() -> str:
    return current_app.config["PASSWORD_HASH_METHOD"]


def _teacher_class(actor: User, class_id: int) -> SchoolClass:
    return classes.class_for_teacher(db.session, actor=actor, class_id=class_id)


def _children_count(school_class: SchoolClass) -> int:
    return classes.children_count(db.session, school_class)


def _confirmed() -> None:
    """Archiving and deleting children cannot be undone: the page asks for a ticked box,
    the API for {"confirm": true}."""
    values = read_fields(json_body(optional=True), {"confirm": boolean})
    if values["confirm"] is not True:
        raise ValidationFailed({"confirm": ["Send \"confirm\": true: this cannot be undone."]})


@bp.get("/classes")
@token_required
def my_classes(actor: User):
    """The caller's classes (teachers: organisers), open ones first."""
    if not actor.is_organiser:
        raise Forbidden("run school classes", "teachers need an organiser account.")
    found = classes.classes_of_teacher(db.session, actor.id)
    counts = classes.children_counts(db.session, [c.id for c in found])
    return {"items": [class_json(c, counts.get(c.id, 0)) for c in found]}, 200, NO_STORE


@bp.post("/classes")
@token_required
def create_class(actor: User):
    """Make a class {"name", "size", "secret_kind"} and its children's accounts: answers with
    the class and the login cards, whose secrets are shown this once."""
    values = read_fields(json_body(), {"name": text, "size": whole_number, "secret_kind": text},
                         required=("name", "size", "secret_kind"))
    school_class, cards = classes.create_class(db.session, actor=actor, hash_method=_hash_method(), **values)
    body = {"class": class_json(school_class, len(cards)), **_cards(school_class, cards)}
    db.session.commit()
    return body, 201, {**NO_STORE, "Location": body["class"]["url"]}


@bp.get(f"/classes/<{ID}:class_id>")
@token_required
def school_class(actor: User, class_id: int):
    """The teacher's dashboard: the class, each child's work, and the names waiting for approval."""
    found = _teacher_class(actor, class_id)
    board = classes.dashboard(db.session, actor=actor, school_class=found)
    children = [{"id": row.child.user_id, "card_name": row.child.card_name, "name": row.child.user.display_name,
                 "claims": row.claims, "submitted": row.submitted, "approved": row.approved,
                 "badges": row.badges, "points": row.points} for row in board.rows]
    return {**class_json(found, len(children)), "children": children, "team_points": board.team_points,
            "claims_waiting": len(board.pending),
            "name_requests": [name_request_json(r) for r in board.name_requests]}, 200, NO_STORE


@bp.get(f"/classes/<{ID}:class_id>/export.csv")
@token_required
def class_export(actor: User, class_id: int):
    """The class's work as CSV, one row per claim (the dashboard's download, same columns)."""
    found = _teacher_class(actor, class_id)
    body = classes.export_csv(db.session, actor=actor, school_class=found)
    return Response(body, mimetype="text/csv", headers={
        **NO_STORE, "Content-Disposition": f'attachment; filename="{classes.export_filename(found)}"'})


@bp.post(f"/classes/<{ID}:class_id>/children")
@token_required
def add_children(actor: User, class_id: int):
    """Add {"count"} children to the class: answers with their login cards (shown this once)."""
    values = read_fields(json_body(), {"count": whole_number}, required=("count",))
    found = _teacher_class(actor, class_id)
    cards = classes.add_children(db.session, actor=actor, school_class=found, count=values["count"],
                                 hash_method=_hash_method())
    body = _cards(found, cards)
    db.session.commit()
    return body, 201, {**NO_STORE, "Location": url_for("api.school_class", class_id=class_id)}


@bp.post(f"/classes/<{ID}:class_id>/reset")
@token_required
def reset_cards(actor: User, class_id: int):
    """New secrets for every child (or {"child_ids": [...]} only): the old cards stop working."""
    values = read_fields(json_body(optional=True), {"child_ids": id_list})
    found = _teacher_class(actor, class_id)
    cards = classes.reset_secrets(db.session, actor=actor, school_class=found, child_ids=values["child_ids"],
                                  hash_method=_hash_method())
    body = _cards(found, cards)
    db.session.commit()
    return body, 200, NO_STORE


@bp.post(f"/classes/<{ID}:class_id>/children/<{ID}:child_id>/reset")
@token_required
def reset_card(actor: User, class_id: int, child_id: int):
    """A new secret for one child (a lost card): the old one stops working."""
    found = _teacher_class(actor, class_id)
    cards = classes.reset_secrets(db.session, actor=actor, school_class=found, child_ids=[child_id],
                                  hash_method=_hash_method())
    body = _cards(found, cards)
    db.session.commit()
    return body, 200, NO_STORE


@bp.post(f"/classes/<{ID}:class_id>/settings")
@token_required
def class_settings(actor: User, class_id: int):
    """{"streaks_enabled", "show_in_rankings"}: either may be left out to keep it as it is."""
    values = read_fields(json_body(), {"streaks_enabled": boolean, "show_in_rankings": boolean})
    found = _teacher_class(actor, class_id)
    classes.update_settings(
        db.session, actor=actor, school_class=found,
        streaks_enabled=found.streaks_enabled if values["streaks_enabled"] is None else values["streaks_enabled"],
        show_in_rankings=found.show_in_rankings if values["show_in_rankings"] is None
        else values["show_in_rankings"])
    body = class_json(found, _children_count(found))
    db.session.commit()
    return body, 200, NO_STORE


@bp.post(f"/classes/<{ID}:class_id>/names/<{ID}:request_id>/<any(approve, refuse):decision>")
@token_required
def decide_name(actor: User, class_id: int, request_id: int, decision: str):
    """Approve (the child is called it at once) or refuse a child's name of their own."""
    found = _teacher_class(actor, class_id)
    decided = classes.decide_name(db.session, actor=actor, school_class=found, request_id=request_id,
                                  approve=decision == "approve")
    body = name_request_json(decided)
    db.session.commit()
    return body, 200, NO_STORE


@bp.post(f"/classes/<{ID}:class_id>/archive")
@token_required
def archive_class(actor: User, class_id: int):
    """{"confirm": true}: read-only from now on; its children can no longer log in."""
    _confirmed()
    found = _teacher_class(actor, class_id)
    classes.archive_class(db.session, actor=actor, school_class=found)
    body = class_json(found, _children_count(found))
    db.session.commit()
    return body, 200, NO_STORE


@bp.post(f"/classes/<{ID}:class_id>/delete-children")
@token_required
def delete_children(actor: User, class_id: int):
    """{"confirm": true}: erase an archived class's children's accounts (the class's points stay)."""
    _confirmed()
    found = _teacher_class(actor, class_id)
    deletion = classes.delete_children(db.session, actor=actor, school_class=found)
    body = {"class_id": found.id, "children_deleted": deletion.children}
    db.session.commit()
    erasure.forget(deletion)
    return body, 200, NO_STORE


@bp.get(f"/classes/<{ID}:class_id>/leaderboard")
@token_required
def class_leaderboard(actor: User, class_id: int):
    """A school class's children ranked by their points (its teacher and children only)."""
    args = read_args(window=choice_arg(WINDOWS), limit=int_arg(default=10, minimum=1, maximum=MAX_PAGE_SIZE),
                     offset=int_arg(default=0, minimum=0, maximum=2**31 - 1))
    found = classes.get_class(db.session, class_id)
    window = backend().calendar.resolve(args["window"] or "all")
    rows = classes.class_board(db.session, viewer=actor, school_class=found, window=window)
    page = rows[args["offset"]:args["offset"] + args["limit"]]
    more = args["offset"] + args["limit"] < len(rows)
    return {"entries": [{"rank": r.rank, "name": r.name, "points": r.points} for r in page], "window": window.key,
            "next": url_for("api.class_leaderboard", class_id=class_id, window=args["window"] or "all",
                            limit=args["limit"], offset=args["offset"] + args["limit"]) if more else None}
