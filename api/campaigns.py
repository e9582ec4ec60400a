"""Campaigns in the API: the list and one campaign with its progress, milestones, pledges
and contributors, as public as the campaign page shows them (teams, and people who may be
named: never a child nor someone hidden from the boards, who are only counted); and the
campaign pages' actions: creating one (organisers), pledging tokens in a vote, counting the
votes (organisers) and launching the chosen campaign (its organiser), each through the
campaigns.services function the page calls.

A campaign's area is written as it is read: {"kind": "circle", "lat", "lon", "radius_m"}
or {"kind": "bbox", "bbox": [minlon, minlat, maxlon, maxlat]}; services.area_from checks
it for the page and the API alike.

A problem's fix story (campaigns/stories.py) is here too: read by anyone once published,
written by a fixer of the problem or an organiser (text; its author adds the before and
after photos with POST /problems/{id}/fix-story/photos, api/media.py).
"""
from __future__ import annotations

from typing import Any

from flask import current_app, url_for

from accounts.models import User
from api import bp
from api.auth import token_required
from api.parsing import (MAX_ID, WrongType, choice_arg, json_body, one_of, page_args, paginated, read_args,
                         read_fields, text, timestamp, whole_number)
from api.routes import created
from api.serializers import photo_json, public_name
from campaigns import services as campaigns
from campaigns import stories
from campaigns.models import Campaign, CampaignStatus, FixStory
from challenges.geo import BadArea
from childsafe.views import CLASS_STAND_IN, HIDDEN_STAND_IN
from challenges.services import get_problem
from errors import NotFound, ValidationFailed
from extensions import db
from maps.area import Area, Circle
from media.views import upload_settings
from moderation.visibility import problem_visible
from timeutil import isoformat, utcnow

ID = f"int(max={MAX_ID})"


def area_json(campaign: Campaign) -> dict:
    area = campaigns.area_of(campaign)
    if isinstance(area, Circle):
        return {"kind": "circle", "lat": area.lat, "lon": area.lon, "radius_m": area.radius_m,
                "description": area.describe()}
    return {"kind": "bbox", "bbox": [area.min_lon, area.min_lat, area.max_lon, area.max_lat],
            "description": area.describe()}


def campaign_json(campaign: Campaign, *, count: int, pledged: tuple[int, int], now) -> dict:
    return {
        "id": campaign.id, "title": campaign.title, "why": campaign.why, "status": campaigns.phase(campaign, now),
        "area": area_json(campaign), "categories": campaign.category_list, "goal": campaign.goal,
        "progress": {"count": count, "goal": campaign.goal, "percent": campaigns.percent(count, campaign.goal)},
        "pledges": {"tokens": pledged[0], "people": pledged[1]},
        "starts_at": isoformat(campaign.starts_at), "ends_at": isoformat(campaign.ends_at),
        "voting_closes_at": isoformat(campaign.voting_closes_at),
        "organiser": public_name(campaign.organiser) or HIDDEN_STAND_IN,  # as the page's person_name
        "url": url_for("api.campaign", campaign_id=campaign.id),
    }


@bp.get("/campaigns")
def campaigns_list():
    """Campaigns, optionally in one `status` (proposed, voting, active, finished), with progress and pledges."""
    args = read_args(status=choice_arg(s.value for s in CampaignStatus), **page_args())
    listing = paginated(campaigns.campaigns_select(phase=args["status"]), lambda campaign: campaign, args)
    shown, now = listing["items"], utcnow()
    counts = campaigns.progress_of_many(db.session, shown)
    pledged = campaigns.pledge_totals(db.session, [c.id for c in shown])
    return {**listing, "items": [campaign_json(c, count=counts[c.id], pledged=pledged.get(c.id, (0, 0)), now=now)
                                 for c in shown]}


@bp.get(f"/campaigns/<{ID}:campaign_id>")
def campaign(campaign_id: int):
    """A campaign with its progress, milestones reached and contributors (named only where the page names them)."""
    return campaign_detail(campaigns.get_campaign(db.session, campaign_id))


def campaign_detail(found: Campaign) -> dict:
    state = campaigns.progress_state(db.session, found.id)
    credit = campaigns.contributors(db.session, found)
    return {**campaign_json(found, count=state["count"], now=utcnow(),
                            pledged=campaigns.pledge_totals(db.session, [found.id]).get(found.id, (0, 0))),
            "milestones": state["milestones"],
            "contributors": {
                "teams": [{"id": None, "name": CLASS_STAND_IN, "fixes": n} if team.id in credit.private_teams
                          else {"id": team.id, "name": team.name, "fixes": n} for team, n in credit.teams],
                "people": [{"id": person.id, "name": person.display_name, "fixes": n} for person, n in credit.people],
                "unnamed": credit.unnamed}}


# --- the campaign pages' actions ----------------------------------------------------------------

MAX_CATEGORIES = 100


def categories_list(value: Any) -> list[str]:
    if not isinstance(value, list) or len(value) > MAX_CATEGORIES:
        raise WrongType(f"Expected a list of category names (at most {MAX_CATEGORIES}).")
    return [text(item) for item in value]


def area_object(value: Any) -> dict:
    if not isinstance(value, dict):
        raise WrongType('Expected an object, like {"kind": "circle", "lat": 51.4545, "lon": -2.5879, '
                        '"radius_m": 500}.')
    return value


def area_of_body(area: dict) -> Area:
    """The area an API body describes, checked by the same service as the page's form."""
    edges = area.get("bbox")
    if edges is not None and (not isinstance(edges, list) or len(edges) != 4):
        raise ValidationFailed({"area": ["bbox: give four numbers, [minlon, minlat, maxlon, maxlat]."]})
    try:
        return campaigns.area_from(area.get("kind"), centre=(area.get("lat"), area.get("lon"), area.get("radius_m")),
                                   edges=tuple(edges) if edges is not None else (None,) * 4)
    except BadArea as error:
        raise ValidationFailed({"area": [f"{error.field}: {error.message}"]}) from None


CAMPAIGN_FIELDS = {"title": text, "why": text, "area": area_object, "categories": categories_list,
                   "goal": whole_number, "starts_at": timestamp, "ends_at": timestamp,
                   "start": one_of("now", "vote"), "voting_closes_at": timestamp}


@bp.post("/campaigns")
@token_required
def create_campaign(actor: User):
    """Organisers: start a campaign now, or put it to the community's vote ({"start": "vote",
    "voting_closes_at"}), as the new-campaign page does."""
    body = json_body()  # a body that cannot be read is refused first, as on every route
    campaigns.check_may_create(actor)  # before the fields' checks, as the page refuses before its form
    values = read_fields(body, CAMPAIGN_FIELDS, required=("area",))
    found = campaigns.create_campaign(
        db.session, actor=actor, title=values["title"], why=values["why"], area=area_of_body(values["area"]),
        categories=values["categories"] or [], all_categories=current_app.config["CATEGORIES"], goal=values["goal"],
        starts_at=values["starts_at"], ends_at=values["ends_at"], vote=values["start"] == "vote",
        vote_until=values["voting_closes_at"])
    db.session.commit()
    return created(campaign_detail(found), url_for("api.campaign", campaign_id=found.id))


@bp.post(f"/campaigns/<{ID}:campaign_id>/pledges")
@token_required
def pledge_to_campaign(actor: User, campaign_id: int):
    """Pledge {"tokens"} of your own to a campaign in a vote (each pledge adds to your earlier ones)."""
    values = read_fields(json_body(), {"tokens": whole_number}, required=("tokens",))
    found = campaigns.get_campaign(db.session, campaign_id)
    token_points = current_app.config.get("TOKEN_POINTS", 10)
    row = campaigns.pledge(db.session, actor=actor, campaign=found, tokens=values["tokens"], token_points=token_points)
    db.session.commit()
    tokens = campaigns.tokens_of(db.session, actor.id, token_points=token_points)
    pledged = campaigns.pledge_totals(db.session, [found.id]).get(found.id, (0, 0))
    return created({"campaign_id": found.id, "tokens": row.tokens,
                    "pledges": {"tokens": pledged[0], "people": pledged[1]},
                    "my_tokens": {"earned": tokens.earned, "pledged": tokens.pledged, "available": tokens.available}},
                   url_for("api.campaign", campaign_id=found.id))


@bp.post("/campaigns/close-voting")
@token_required
def close_campaign_voting(actor: User):
    """Organisers: count the votes that have closed; the campaign with the most tokens is chosen."""
    chosen = campaigns.close_voting(db.session, actor=actor)
    db.session.commit()
    return {"chosen": campaign_detail(chosen) if chosen is not None else None}


@bp.post(f"/campaigns/<{ID}:campaign_id>/launch")
@token_required
def launch_campaign(actor: User, campaign_id: int):
    """The chosen campaign's organiser starts it; optional {"ends_at"} when the planned end has passed or moves."""
    values = read_fields(json_body(optional=True), {"ends_at": timestamp})
    found = campaigns.launch(db.session, actor=actor, campaign=campaigns.get_campaign(db.session, campaign_id),
                             ends_at=values["ends_at"])
    db.session.commit()
    return campaign_detail(found)


# --- fix stories ---------------------------------------------------------------------------------

def story_json(story: FixStory) -> dict:
    return {"problem_id": story.problem_id, "update_id": story.update_id, "story": story.story,
            "author": public_name(story.author), "created_at": isoformat(story.created_at),
            "before_photo": photo_json(story.before_photo) if story.before_photo is not None else None,
            "after_photo": photo_json(story.after_photo) if story.after_photo is not None else None}


@bp.get(f"/problems/<{ID}:problem_id>/fix-story")
def fix_story(problem_id: int):
    """A problem's published fix story, as its page shows it; 404 while it has none."""
    found = stories.public_stories(db.session, [problem_id], limit=1)
    if not found:
        raise NotFound("fix story for problem", problem_id)
    return story_json(found[0])


@bp.post(f"/problems/<{ID}:problem_id>/fix-story")
@token_required
def write_fix_story(actor: User, problem_id: int):
    """A fixer of the problem (or an organiser) tells how it was fixed {"story"}, once per problem."""
    body = json_body()
    problem = get_problem(db.session, problem_id)
    if not problem_visible(actor, problem):
        raise NotFound("problem", problem_id)  # hidden or held by a moderator, as on the page
    stories.check_may_write(db.session, actor, problem)  # before the fields, as the page refuses before its form
    values = read_fields(body, {"story": text})
    story = stories.write_story(db.session, actor=actor, problem=problem, story=values["story"], before=None,
                                after=None, **upload_settings())
    written = story_json(story)
    db.session.commit()
    return created(written, url_for("api.fix_story", problem_id=problem.id))
