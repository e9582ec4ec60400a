"""Campaigns in the API: the list and one campaign with its progress, milestones, pledges
and contributors, as public as the campaign page shows them (teams, and people who may be
named: never a child nor someone hidden from the boards, who are only counted)."""
from __future__ import annotations

from flask import url_for

from api import bp
from api.parsing import MAX_ID, choice_arg, page_args, paginated, read_args
from campaigns import services as campaigns
from campaigns.models import Campaign, CampaignStatus
from extensions import db
from maps.area import Circle
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
        "organiser": campaign.organiser.display_name, "url": url_for("api.campaign", campaign_id=campaign.id),
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
    found = campaigns.get_campaign(db.session, campaign_id)
    state = campaigns.progress_state(db.session, found.id)
    credit = campaigns.contributors(db.session, found)
    return {**campaign_json(found, count=state["count"], now=utcnow(),
                            pledged=campaigns.pledge_totals(db.session, [found.id]).get(found.id, (0, 0))),
            "milestones": state["milestones"],
            "contributors": {
                "teams": [{"id": team.id, "name": team.name, "fixes": n} for team, n in credit.teams],
                "people": [{"id": person.id, "name": person.display_name, "fixes": n} for person, n in credit.people],
                "unnamed": credit.unnamed}}
