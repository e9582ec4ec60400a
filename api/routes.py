"""The API's views: read the request, call one service, commit, serialise.

Domain errors raised by the services become JSON errors in api.errors (which also rolls
the session back), so the views hold no error handling of their own.
"""
from __future__ import annotations

from flask import current_app, redirect, request, url_for

from accounts import mydata
from accounts import services as accounts
from accounts.models import User
from api import bp
from api.auth import optional_bearer_user, token_required
from api.parsing import (MAX_ID, MAX_PAGE_SIZE, InvalidParameter, bbox_arg, choice_arg, id_list, identifier, int_arg, json_body,
                         number, number_arg, page_args, paginated, read_args, read_fields, read_search_args,
                         text, time_arg, timestamp, whole_number, WrongType)
from api.serializers import (board_entry_json, claim_json, nearby_json, problem_json, quest_json,
                             reported_problem_json, update_json)
from challenges import services as challenges
from challenges import reviews, tracker
from challenges.geo import BadArea
from challenges.models import Claim, Problem, ProblemStatus
from challenges.nearby import Nearby, find_nearby
from errors import NotFound, ValidationFailed
from moderation.visibility import public_updates
from events import guards as event_guards
from extensions import db
from media.services import photos_for
from scoring.rules import ScoringSettings
from scoring.leaderboards import UnknownScope
from scoring.views import board_page, is_window_name, public_around, window_key

ID = f"int(max={MAX_ID})"  # a larger number is no row's id (and overflows SQLite): a plain 404

TOKEN_FIELDS = {"email": text, "password": text, "name": text, "scope": text}
PROBLEM_FIELDS = {"title": text, "description": text, "category": text, "lat": number,
                  "lon": number, "address": text}
QUEST_FIELDS = {"title": text, "brief": text, "points": whole_number, "difficulty": text,
                "mode": text, "evidence_wanted": text, "starts_at": timestamp,
                "ends_at": timestamp, "problem_id": identifier, "review_mode": text,
                "peer_reviews_needed": whole_number, "dynamic_min_points": whole_number,
                "dynamic_decay": whole_number}
QUEST_DEFAULTS = {"review_mode": "organiser", "peer_reviews_needed": 2}


def created(body: dict, location: str):
    return body, 201, {"Location": location}


def nearby_radius_m() -> float:
    return current_app.config.get("NEARBY_RADIUS_M", 50)


def nearby_or_400(**search) -> list[Nearby]:
    """find_nearby, with a circle it cannot search (lat 91, radius 0) as a 400 naming the field."""
    try:
        return find_nearby(db.session, **search)
    except BadArea as bad:
        raise InvalidParameter({bad.field: [bad.message]}) from None


# --- tokens --------------------------------------------------------------------------------

@bp.post("/tokens")
def create_token():
    values = read_fields(json_body(), TOKEN_FIELDS, required=("email", "password"))
    user = accounts.authenticate(db.session, email=values["email"], password=values["password"],
                                 hash_method=current_app.config["PASSWORD_HASH_METHOD"])
    scope = values["scope"] or "write"
    token = accounts.issue_token(db.session, user=user, name=values["name"] or "api", scope=scope)
    db.session.commit()
    return {"token": token, "scope": scope}, 201, {"Cache-Control": "no-store"}


@bp.get("/me/data")
@token_required
def my_data(actor: User):
    """Everything FixQuest holds about the token's owner (as /account/data.json)."""
    return mydata.export(db.session, user=actor), 200, {"Cache-Control": "no-store"}


# --- problems ------------------------------------------------------------------------------

@bp.post("/problems")
@token_required
def report_problem(actor: User):
    """The new problem, with "nearby": open problems of its category close to it (see
    GET /problems/nearby), so that the client can offer to confirm one of those instead."""
    values = read_fields(json_body(), PROBLEM_FIELDS)
    problem = challenges.report_problem(db.session, actor=actor, categories=current_app.config["CATEGORIES"],
                                        unverified_limit=current_app.config["UNVERIFIED_REPORT_LIMIT"], **values)
    nearby = find_nearby(db.session, lat=problem.lat, lon=problem.lon, radius_m=nearby_radius_m(),
                         category=problem.category, exclude_id=problem.id)
    body = reported_problem_json(problem, nearby)  # before the commit expires (and would reload) them
    # The word list may hold it: public once a moderator releases it.
    body["awaiting_review"] = problem.visibility == "held"
    db.session.commit()
    return created(body, url_for(".problem", problem_id=problem.id))


@bp.get("/problems")
def problems():
    bbox = bbox_arg()
    args = read_args(category=choice_arg(current_app.config["CATEGORIES"]),
                     status=choice_arg(s.value for s in ProblemStatus), updated_since=time_arg(),
                     **page_args())
    stmt = challenges.problems_select(category=args["category"], status=args["status"], bbox=bbox,
                                      updated_since=args["updated_since"])
    return paginated(stmt, problem_json, args)


@bp.get("/problems/nearby")
def nearby_problems():
    """Open problems around a point, nearest first: what to confirm instead of reporting
    a duplicate. Missing or unusable lat, lon, radius_m (or category, limit): 400."""
    args = read_search_args(lat=number_arg(), lon=number_arg(example="-2.5879"),
                            radius_m=number_arg(default=nearby_radius_m(), example="50"),
                            category=choice_arg(current_app.config["CATEGORIES"]),
                            limit=int_arg(default=20, minimum=1, maximum=MAX_PAGE_SIZE))
    return {"items": [nearby_json(found) for found in nearby_or_400(**args)]}


@bp.get(f"/problems/<{ID}:problem_id>")
def problem(problem_id: int):
    """A problem; one merged into another answers 301 with the survivor's URL."""
    found = challenges.get_problem(db.session, problem_id)
    if found.visibility != "public":  # hidden or held by a moderator: the API knows nothing of it
        raise NotFound("problem", problem_id)
    if found.merged_into_id is not None:
        survivor = tracker.survivor_of(db.session, found)
        return redirect(url_for(".problem", problem_id=survivor.id), code=301)
    return problem_json(found)


@bp.post(f"/problems/<{ID}:problem_id>/confirm")
@token_required
def confirm_problem(actor: User, problem_id: int):
    """'I see this too': counts towards the problem's priority and follows it. Answers with
    the problem confirmed (the survivor, if this one was merged); 409 if already confirmed
    or if it is the caller's own report."""
    confirmed = tracker.confirm(db.session, actor=actor, problem=challenges.get_problem(db.session, problem_id))
    db.session.commit()
    return problem_json(confirmed)


@bp.put(f"/problems/<{ID}:problem_id>/subscription")
@token_required
def follow_problem(actor: User, problem_id: int):
    """Follow a problem (idempotent). Optional {"delivery": "immediate"|"digest"|"in_app"}."""
    values = read_fields(json_body(optional=True), {"delivery": text})
    subscription = tracker.subscribe(db.session, actor=actor, problem=challenges.get_problem(db.session, problem_id),
                                     delivery=values["delivery"] or "immediate")
    db.session.commit()
    return {"problem_id": subscription.problem_id, "delivery": subscription.delivery, "following": True}


@bp.delete(f"/problems/<{ID}:problem_id>/subscription")
@token_required
def unfollow_problem(actor: User, problem_id: int):
    tracker.unsubscribe(db.session, actor=actor, problem=challenges.get_problem(db.session, problem_id))
    db.session.commit()
    return {"problem_id": problem_id, "following": False}


@bp.get(f"/problems/<{ID}:problem_id>/updates")
def problem_updates(problem_id: int):
    """A problem's public history (reported, status changes, comments, merges, fix stories), oldest first."""
    found = challenges.get_problem(db.session, problem_id)
    if found.visibility != "public":  # hidden or held by a moderator, as for the problem itself
        raise NotFound("problem", problem_id)
    if found.merged_into_id is not None:
        survivor = tracker.survivor_of(db.session, found)
        return redirect(url_for(".problem_updates", problem_id=survivor.id, **request.args), code=301)
    listing = paginated(tracker.history_select(found.id).where(public_updates()), lambda entry: entry,
                        read_args(**page_args()))
    photos = photos_for(db.session, update_ids=[entry.id for entry in listing["items"]]).updates
    return {**listing, "items": [update_json(entry, photos.get(entry.id)) for entry in listing["items"]]}


@bp.post(f"/problems/<{ID}:problem_id>/updates")
@token_required
def post_problem_update(actor: User, problem_id: int):
    """Post to a problem's history: a comment {"body"}, or (organisers) a status change {"status", "body"?: note}."""
    values = read_fields(json_body(), {"body": text, "status": text})
    problem = challenges.get_problem(db.session, problem_id)
    if values["status"] is not None:
        entry = challenges.change_status(db.session, actor=actor, problem=problem, status=values["status"],
                                         note=values["body"])
    else:
        entry = tracker.comment(db.session, actor=actor, problem=problem, body=values["body"] or "")
    body = update_json(entry)
    db.session.commit()
    return created(body, url_for(".problem_updates", problem_id=entry.problem_id))


@bp.post(f"/problems/<{ID}:problem_id>/merge")
@token_required
def merge_problem(actor: User, problem_id: int):
    """Organisers: merge this duplicate into another problem {"into_id"}; answers with the survivor."""
    values = read_fields(json_body(), {"into_id": identifier}, required=("into_id",))
    duplicate = challenges.get_problem(db.session, problem_id)
    into = db.session.get(Problem, values["into_id"])
    if into is None:
        raise ValidationFailed({"into_id": ["There is no problem with that number."]})
    survivor = tracker.merge(db.session, actor=actor, duplicate=duplicate, into=into)
    db.session.commit()
    return problem_json(survivor)


# --- quests --------------------------------------------------------------------------------

@bp.post("/quests")
@token_required
def create_quest(actor: User):
    values = read_fields(json_body(), QUEST_FIELDS)
    values.update({k: default for k, default in QUEST_DEFAULTS.items() if values[k] is None})
    quest = challenges.create_quest(db.session, actor=actor, **values,
                                    propose_level=ScoringSettings.from_config(current_app.config).propose_quest_level)
    db.session.commit()
    return created(quest_json(quest), url_for(".quest", quest_id=quest.id))


@bp.get("/quests")
def quests():
    """Open quests, soonest-closing first."""
    return paginated(challenges.open_quests_select(), quest_json, read_args(**page_args()))


@bp.get(f"/quests/<{ID}:quest_id>")
def quest(quest_id: int):
    """A published quest; a proposal only for organisers and its proposer (with a token)."""
    found = challenges.get_quest(db.session, quest_id)
    viewer = optional_bearer_user()
    if ((found.status != "published" and not challenges.can_see_quest(viewer, found))
            or event_guards.quest_hidden(db.session, found.id, viewer)):
        raise NotFound("quest", quest_id)
    return quest_json(found)


@bp.post(f"/quests/<{ID}:quest_id>/publish")
@token_required
def publish_quest(actor: User, quest_id: int):
    quest = challenges.publish_quest(db.session, actor=actor, quest=challenges.get_quest(db.session, quest_id))
    db.session.commit()
    return quest_json(quest)


# --- claims --------------------------------------------------------------------------------

def visible_claim(actor: User, claim_id: int) -> Claim:
    """Claims are private to the claimant, their team and organisers: to anyone else a
    claim does not exist (404, not 403, so ids reveal nothing)."""
    claim = challenges.get_claim(db.session, claim_id)
    if not reviews.can_view_claim(db.session, actor, claim, ScoringSettings.from_config(current_app.config)):
        raise NotFound("claim", claim_id)
    return claim


@bp.post(f"/quests/<{ID}:quest_id>/claims")
@token_required
def claim_quest(actor: User, quest_id: int):
    values = read_fields(json_body(optional=True), {"team_id": identifier})
    quest = challenges.get_quest(db.session, quest_id)
    claim = challenges.claim_quest(db.session, actor=actor, quest=quest, team_id=values["team_id"])
    db.session.commit()
    return created(claim_json(claim), url_for(".claim", claim_id=claim.id))


@bp.get(f"/claims/<{ID}:claim_id>")
@token_required
def claim(actor: User, claim_id: int):
    return claim_json(visible_claim(actor, claim_id))


@bp.post(f"/claims/<{ID}:claim_id>/submit")
@token_required
def submit_evidence(actor: User, claim_id: int):
    values = read_fields(json_body(), {"evidence": text, "members": id_list})
    claim = challenges.submit_evidence(db.session, actor=actor, claim=visible_claim(actor, claim_id),
                                       evidence=values["evidence"], members=values["members"])
    db.session.commit()
    return claim_json(claim)


@bp.post(f"/claims/<{ID}:claim_id>/review")
@token_required
def review_claim(actor: User, claim_id: int):
    values = read_fields(json_body(), {"decision": text, "reason": text})
    claim = reviews.review_claim(db.session, actor=actor, claim=visible_claim(actor, claim_id),
                                 decision=values["decision"], reason=values["reason"],
                                 settings=ScoringSettings.from_config(current_app.config))
    db.session.commit()
    return claim_json(claim)


@bp.post(f"/claims/<{ID}:claim_id>/reverse")
@token_required
def reverse_claim(actor: User, claim_id: int):
    """Organisers: an approved claim found to be fraudulent; every point it paid is reversed."""
    values = read_fields(json_body(), {"reason": text})
    claim = reviews.reverse_claim(db.session, actor=actor, claim=visible_claim(actor, claim_id),
                                  reason=values["reason"])
    db.session.commit()
    return claim_json(claim)


# --- leaderboards --------------------------------------------------------------------------

def window_arg(raw: str | None) -> str:
    """week, month, all (the default) or season:<id>; an unknown season id is a 422 on
    `window` when the board is read."""
    if raw is None or raw == "":
        return "all"
    if not is_window_name(raw):
        raise WrongType("Choose one of: week, month, all, season:<id>.")
    return raw


def board_args(**more) -> dict:
    args = read_args(window=window_arg, team_id=int_arg(default=0, minimum=1, maximum=MAX_ID),
                     campaign_id=int_arg(default=0, minimum=1, maximum=MAX_ID), **more)
    if args["team_id"]:  # a private class team is no team to outsiders, here as on its page
        try:
            accounts.visible_team(db.session, optional_bearer_user(), args["team_id"])
        except NotFound:
            raise UnknownScope("team_id", f"No team with id {args['team_id']}.") from None
    return args


@bp.get("/leaderboards/<any(participants, teams):board>")
def leaderboard(board: str):
    """A page of a board; `team_id`: that team's members, ranked by their own points;
    `campaign_id`: the people or teams behind the fixes the campaign counts, by their points."""
    args = board_args(limit=int_arg(default=10, minimum=1, maximum=MAX_PAGE_SIZE),
                      offset=int_arg(default=0, minimum=0, maximum=2**31 - 1))
    rows, more = board_page(board, window=args["window"], team_id=args["team_id"], campaign_id=args["campaign_id"],
                            limit=args["limit"], offset=args["offset"])
    kept = {"window": args["window"], **{name: args[name] for name in ("team_id", "campaign_id") if args[name]}}
    return {"entries": [board_entry_json(row) for row in rows], "window": window_key(args["window"]),
            "next": url_for("api.leaderboard", board=board, **kept, limit=args["limit"],
                            offset=args["offset"] + args["limit"]) if more else None}


@bp.get(f"/leaderboards/<any(participants, teams):board>/around/<{ID}:member_id>")
def leaderboard_around(board: str, member_id: int):
    """A member's standing with `span` (default 2) places above and below; 404 for a member
    without points in the window or hidden from public boards."""
    args = board_args(span=int_arg(default=2, minimum=0, maximum=10))
    found = public_around(board, member_id, window=args["window"], team_id=args["team_id"],
                          campaign_id=args["campaign_id"], span=args["span"])
    return {"member": board_entry_json(found.me), "entries": [board_entry_json(row) for row in found.rows],
            "window": window_key(args["window"])}


# --- teams and kudos -----------------------------------------------------------------------

def team_json(team_id: int) -> dict:
    """A team's public face: members who may be listed publicly (never a child's account
    or someone hidden from the boards; they are only counted), points this week and season."""
    from accounts.teampage import load_team_page

    team = accounts.visible_team(db.session, optional_bearer_user(), team_id)
    calendar = current_app.extensions["fixquest.leaderboard"].calendar
    page = load_team_page(db.session, team, viewer_is_member=False, now=calendar.now(), zone=calendar.zone,
                          seasons=calendar.seasons(), categories=current_app.config["CATEGORIES"])
    captain = next((m for m in page.members if m.captain), None)
    return {"id": team.id, "name": team.name, "captain": captain.name if captain else None,
            "members_count": page.member_count, "max_members": accounts.size_limit(team),
            "members": [{"id": m.user_id, "name": m.name} for m in page.members],
            "points": {"week": page.week.points, "season": page.season.points},
            "closed": team.closed_at is not None}


@bp.get(f"/teams/<{ID}:team_id>")
def team(team_id: int):
    return team_json(team_id)


@bp.post("/teams/join")
@token_required
def join_team(actor: User):
    values = read_fields(json_body(), {"code": text}, required=("code",))
    team = accounts.join_team(db.session, actor=actor, code=values["code"])
    db.session.commit()
    return team_json(team.id)


@bp.post(f"/claims/<{ID}:claim_id>/kudos")
@token_required
def give_kudos(actor: User, claim_id: int):
    """Thank the people behind an approved fix (once each; never your own). No points."""
    from accounts import kudos

    claim = challenges.get_claim(db.session, claim_id)
    kudos.give_kudos(db.session, actor=actor, claim=claim)
    db.session.commit()
    return created({"claim_id": claim.id, "kudos_count": kudos.for_claim(db.session, claim, actor).count},
                   url_for("challenges.claim_detail", claim_id=claim.id))
