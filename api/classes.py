"""A school class's leaderboard in the API, for the same people as its page (the class's
teacher and its children): its children by name, which no public board ever shows. To
anyone else the class is 404, whether or not it exists."""
from __future__ import annotations

from flask import url_for

from accounts.models import User
from api import bp
from api.auth import token_required
from api.parsing import MAX_ID, MAX_PAGE_SIZE, choice_arg, int_arg, read_args
from classes import services as classes
from extensions import db
from scoring.views import backend

ID = f"int(max={MAX_ID})"
WINDOWS = ("all", "week", "month")  # as the class board page offers


@bp.get(f"/classes/<{ID}:class_id>/leaderboard")
@token_required
def class_leaderboard(actor: User, class_id: int):
    """A school class's children ranked by their points (its teacher and children only)."""
    args = read_args(window=choice_arg(WINDOWS), limit=int_arg(default=10, minimum=1, maximum=MAX_PAGE_SIZE),
                     offset=int_arg(default=0, minimum=0, maximum=2**31 - 1))
    school_class = classes.get_class(db.session, class_id)
    window = backend().calendar.resolve(args["window"] or "all")
    rows = classes.class_board(db.session, viewer=actor, school_class=school_class, window=window)
    page = rows[args["offset"]:args["offset"] + args["limit"]]
    more = args["offset"] + args["limit"] < len(rows)
    return {"entries": [{"rank": r.rank, "name": r.name, "points": r.points} for r in page], "window": window.key,
            "next": url_for("api.class_leaderboard", class_id=class_id, window=args["window"] or "all",
                            limit=args["limit"], offset=args["offset"] + args["limit"]) if more else None}
