"""Models as JSON. Only public columns: no email address, no other private field, and no
relationship that would cost a query per item in a list."""
from __future__ import annotations

from flask import url_for

from accounts.models import User
from challenges.models import Claim, Problem, ProblemUpdate, Quest
from challenges.nearby import Nearby
from scoring.views import BoardRow
from timeutil import isoformat


def problem_json(problem: Problem) -> dict:
    return {
        "id": problem.id,
        "title": problem.title,
        "description": problem.description,
        "category": problem.category,
        "status": problem.status,
        "lat": problem.lat,
        "lon": problem.lon,
        "address": problem.address,
        "confirmations_count": problem.confirmations_count,
        "subscribers_count": problem.subscribers_count,
        "created_at": isoformat(problem.created_at),
        "updated_at": isoformat(problem.updated_at),
    }


def nearby_json(found: Nearby) -> dict:
    """A problem near a point, with its distance from the point in metres (to 0.1 m)."""
    return {**problem_json(found.problem), "distance_m": round(found.distance_m, 1)}


def reported_problem_json(problem: Problem, nearby: list[Nearby]) -> dict:
    """A problem just reported, with the open problems of its category near it, nearest
    first, so that a client can offer to confirm one of those instead."""
    return {**problem_json(problem), "nearby": [nearby_json(found) for found in nearby]}


def quest_json(quest: Quest) -> dict:
    return {
        "id": quest.id,
        "title": quest.title,
        "brief": quest.brief,
        "points": quest.points,
        "difficulty": quest.difficulty,
        "mode": quest.mode,
        "evidence_wanted": quest.evidence_wanted,
        "starts_at": isoformat(quest.starts_at),
        "ends_at": isoformat(quest.ends_at),
        "problem_id": quest.problem_id,
        "status": quest.status,
        "review_mode": quest.review_mode,
        "peer_reviews_needed": quest.peer_reviews_needed,
        "dynamic_min_points": quest.dynamic_min_points,
        "dynamic_decay": quest.dynamic_decay,
    }


def claim_json(claim: Claim) -> dict:
    """For the claimant, their team and organisers only (evidence is not public)."""
    return {
        "id": claim.id,
        "quest_id": claim.quest_id,
        "team_id": claim.team_id,
        "status": claim.status,
        "evidence": claim.evidence,
        "created_at": isoformat(claim.created_at),
        "submitted_at": isoformat(claim.submitted_at),
        "decided_at": isoformat(claim.decided_at),
        "unpaid_reason": claim.unpaid_reason,
    }


def board_entry_json(row: BoardRow) -> dict:
    return {"rank": row.rank, "name": row.name, "points": row.points}


def public_name(user: User | None) -> str | None:
    """A person's display name beside what they posted, where a page would show it; null
    for a child or a profile a moderator hid (`User.unnamed_as_author`)."""
    if user is None or user.unnamed_as_author:
        return None
    return user.display_name


def photo_json(photo) -> dict:
    return {"url": url_for("media.full", key=photo.storage_key), "thumbnail": url_for("media.thumb", key=photo.storage_key)}


def update_json(entry: ProblemUpdate, photos: list | None = None) -> dict:
    """One entry of a problem's public history (as its page shows it), with its photos."""
    return {
        "id": entry.id,
        "problem_id": entry.problem_id,
        "kind": entry.kind,
        "old_status": entry.old_status,
        "new_status": entry.new_status,
        "body": entry.body,
        "author": public_name(entry.author),
        "created_at": isoformat(entry.created_at),
        "photos": [photo_json(photo) for photo in photos or ()],
    }
