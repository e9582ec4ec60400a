"""Campaigns: progress from approved fixes in an area, milestones, badges, live updates, pages."""
from __future__ import annotations

import json
import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

import live
from accounts.models import User
from campaigns import services
from campaigns.models import Campaign, CampaignMilestone, ClaimHours, FixStory
from challenges import reviews
from challenges.geo import haversine_m
from challenges.models import Claim, ClaimStatus, ProblemUpdate
from childsafe import services as childsafe
from extensions import db
from maps.area import BBox, Circle
from scoring.models import BadgeAward
from tests.factories import (approve, make_claim, make_organiser, make_problem, make_quest, make_team,
                             make_user)
from tests.media.samples import photo_with_gps
from tests.querycount import counting
from timeutil import utcnow

CATEGORIES = ("pothole", "litter", "graffiti", "other")
WARD = BBox(min_lon=-2.60, min_lat=51.44, max_lon=-2.57, max_lat=51.47)
INSIDE = {"lat": 51.4545, "lon": -2.5879}
OUTSIDE = {"lat": 51.50, "lon": -2.50}
FORM = {"title": "Fix 4 problems in the Old City", "why": "Everyone walks through here.", "area_kind": "bbox",
        "min_lat": "51.44", "min_lon": "-2.60", "max_lat": "51.47", "max_lon": "-2.57", "goal": "4",
        "starts_at": "", "ends_at": "2099-07-01T12:00", "start": "now", "voting_closes_at": ""}


def make_campaign(organiser, *, area=WARD, goal=4, categories=(), **kw) -> Campaign:
    fields = dict(title="Fix the Old City", why="Everyone walks through here.", area=area, goal=goal,
                  categories=categories, all_categories=CATEGORIES, ends_at=utcnow() + timedelta(days=30))
    fields.update(kw)
    campaign = services.create_campaign(db.session, actor=organiser, **fields)
    db.session.commit()
    return campaign


def fix(organiser, player=None, *, team=None, teacher=None, **where):
    """A problem at `where`, a quest from it, a claim by `player` (or a new person),
    submitted and approved through the review flow (a child's evidence first released by
    their `teacher`)."""
    player = player or make_user()
    problem = make_problem(organiser, **{**INSIDE, **where})
    quest = make_quest(organiser, problem_id=problem.id, mode="team" if team else "solo")
    claim = make_claim(player, quest, team=team, submit=True)
    if teacher is not None:
        release(teacher, claim)
    approve(organiser, claim)
    return claim


def progress_of(campaign_id: int) -> int:
    db.session.expire_all()
    return services.progress(db.session, db.session.get(Campaign, campaign_id))


def codes_of(user_id: int) -> set[str]:
    return set(db.session.scalars(select(BadgeAward.code).where(BadgeAward.user_id == user_id)))


# --- the done-when story, through the pages --------------------------------------------------

def release(teacher, claim) -> None:
    """A child's held evidence, released to the reviewers by their teacher."""
    childsafe.decide(db.session, actor=teacher, hold=childsafe.hold_of(db.session, claim.id), decision="approve")
    db.session.commit()


def _approve_through_page(app, organiser, claim_id):
    reviewer = app.test_client()
    with reviewer.session_transaction() as sess:
        sess["_user_id"] = organiser.get_id()
    response = reviewer.post(f"/claims/{claim_id}/review", data={"decision": "approve", "reason": ""})
    assert response.status_code == 302


def test_progress_bar_moves_when_a_fix_inside_the_area_is_approved(app, client, login):
    organiser = make_organiser()
    login(organiser)
    form = client.get("/campaigns/new").get_data(as_text=True)
    assert '<label for="radius_m">' in form and 'name="categories"' in form
    response = client.post("/campaigns/new", data=FORM)
    assert response.status_code == 302
    campaign = db.session.scalar(select(Campaign))
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert 'max="4" value="0"' in page and "0 of 4 problems fixed" in page

    player = make_user()
    inside = make_claim(player, make_quest(organiser, problem_id=make_problem(organiser, **INSIDE).id), submit=True)
    outside = make_claim(player, make_quest(organiser, problem_id=make_problem(organiser, **OUTSIDE).id), submit=True)
    hub, topic = live.hub(), services.progress_topic(campaign.id)
    before = hub.last_id(topic)

    _approve_through_page(app, organiser, inside.id)
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert 'max="4" value="1"' in page and "1 of 4 problems fixed" in page and "(25%)" in page
    assert "25% reached!" in page  # the celebration
    sent = [json.loads(event.data) for event in hub.since(topic, before)]
    assert sent[-1]["count"] == 1 and sent[-1]["percent"] == 25
    assert [m["percent"] for m in sent[-1]["milestones"]] == [25]

    after_inside = hub.last_id(topic)
    _approve_through_page(app, organiser, outside.id)
    db.session.expire_all()
    assert db.session.get(Claim, outside.id).status == "approved"
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "1 of 4 problems fixed" in page
    assert hub.last_id(topic) == after_inside  # nothing published for a fix elsewhere


def test_the_progress_stream_starts_with_the_state_now(app, ctx):
    campaign = make_campaign(make_organiser())
    response = app.test_client().get(f"/campaigns/{campaign.id}/progress")
    assert response.mimetype == "text/event-stream"
    text = ""
    for chunk in response.response:
        text += chunk if isinstance(chunk, str) else chunk.decode()
        if "data:" in text:
            break
    response.close()
    data = json.loads(re.search(r"data: (.*)", text).group(1))
    assert data["count"] == 0 and data["goal"] == 4 and data["text"] == "0 of 4 problems fixed"


# --- what counts ---------------------------------------------------------------------------

def test_only_fixes_in_the_campaigns_categories_count(ctx):
    organiser = make_organiser()
    campaign = make_campaign(organiser, categories=["litter"])
    fix(organiser, category="pothole")
    fix(organiser, category="litter")
    assert progress_of(campaign.id) == 1


def test_a_circle_counts_what_is_within_its_radius(ctx):
    organiser = make_organiser()
    campaign = make_campaign(organiser, area=Circle(51.4545, -2.5879, 300))
    fix(organiser, lat=51.4560, lon=-2.5879)   # about 170 m north
    fix(organiser, lat=51.4590, lon=-2.5879)   # about 500 m north
    assert progress_of(campaign.id) == 1


def test_the_circle_test_agrees_with_the_haversine_distance_to_a_millimetre():
    circle = Circle(51.4545, -2.5879, 5000)
    for lat, lon in ((51.4995, -2.5879), (51.4545, -2.5160), (51.4860, -2.5370), (51.4230, -2.6390)):
        distance = haversine_m(51.4545, -2.5879, lat, lon)
        if abs(distance - 5000) > 1:
            assert services.contains(circle, lat, lon) == (distance <= 5000)


def test_a_problem_fixed_twice_counts_once_and_fixes_before_the_start_do_not_count(ctx):
    organiser = make_organiser()
    problem = make_problem(organiser, **INSIDE)
    early = make_claim(make_user(), make_quest(organiser, problem_id=problem.id), submit=True)
    approve(organiser, early)
    campaign = make_campaign(organiser, starts_at=utcnow() + timedelta(seconds=1))
    db.session.execute(update(Campaign).where(Campaign.id == campaign.id).values(starts_at=utcnow()))
    db.session.commit()
    assert progress_of(campaign.id) == 0
    for _ in range(2):
        approve(organiser, make_claim(make_user(), make_quest(organiser, problem_id=problem.id), submit=True))
    assert progress_of(campaign.id) == 1


def test_a_reversed_fix_stops_counting_but_its_milestone_stays(ctx):
    organiser = make_organiser()
    campaign = make_campaign(organiser, goal=1)
    claim = fix(organiser)
    reviews.reverse_claim(db.session, actor=organiser, claim=claim, reason="Photo was from elsewhere")
    db.session.commit()
    assert progress_of(campaign.id) == 0
    assert db.session.scalar(select(func.count(CampaignMilestone.id))) == 4  # 25 to 100 at once


def test_the_hook_costs_one_query_when_no_campaign_is_running(ctx):
    organiser = make_organiser()
    make_campaign(organiser, area=BBox(0, 0, 1, 1), goal=3)  # elsewhere: one query, then nothing
    claim = make_claim(make_user(), make_quest(organiser, problem_id=make_problem(organiser).id), submit=True)
    db.session.execute(update(Claim).where(Claim.id == claim.id).values(status="approved", decided_at=utcnow()))
    db.session.commit()
    claim = db.session.get(Claim, claim.id)
    claim.quest  # loaded before counting, as it is in the review flow
    db.session.execute(update(Campaign).values(status="finished"))
    with counting(db.engine) as statements:
        services.after_approval(db.session, claim=claim)
    assert len(statements) == 1


# --- milestones and badges -------------------------------------------------------------------

def test_milestones_are_recorded_once_with_the_claim_that_crossed_them(ctx):
    organiser = make_organiser()
    campaign = make_campaign(organiser, goal=4)
    first = fix(organiser)
    second = fix(organiser)
    rows = db.session.execute(select(CampaignMilestone.percent, CampaignMilestone.claim_id)
                              .order_by(CampaignMilestone.percent)).all()
    assert rows == [(25, first.id), (50, second.id)]
    services.after_approval(db.session, claim=db.session.get(Claim, second.id))  # again: nothing new
    db.session.commit()
    assert db.session.scalar(select(func.count(CampaignMilestone.id))) == 2
    assert campaign.id == db.session.scalar(select(CampaignMilestone.campaign_id).limit(1))


def test_reaching_the_goal_awards_closer_and_finished_together(ctx):
    organiser = make_organiser()
    early, last, later = make_user(), make_user(), make_user()
    a, b = make_user(), make_user()
    team = make_team(a, members=(b,))
    make_campaign(organiser, goal=3)
    fix(organiser, early)
    fix(organiser, a, team=team)
    assert codes_of(early.id) & {"closer", "finished-together"} == set()
    fix(organiser, last)
    assert "closer" in codes_of(last.id) and "finished-together" in codes_of(last.id)
    assert "finished-together" in codes_of(early.id) and "closer" not in codes_of(early.id)
    assert "finished-together" in codes_of(a.id)  # the team's members who took part
    fix(organiser, later)  # after the goal: still finished together, not the closer
    assert codes_of(later.id) & {"closer", "finished-together"} == {"finished-together"}


def test_racing_approvals_crossing_a_milestone_record_it_once_on_postgresql(pg):
    organiser = make_organiser()
    campaign = make_campaign(organiser, goal=4)
    fix(organiser)
    claims = [make_claim(make_user(), make_quest(organiser, problem_id=make_problem(organiser, **INSIDE).id),
                         submit=True) for _ in range(3)]
    ids, organiser_id, campaign_id = [c.id for c in claims], organiser.id, campaign.id
    db.session.remove()
    barrier = threading.Barrier(len(ids))
    errors: list[BaseException] = []

    def approve_in_thread(claim_id: int) -> None:
        with pg.app_context():
            try:
                barrier.wait(timeout=10)
                reviews.review_claim(db.session, actor=db.session.get(User, organiser_id),
                                     claim=db.session.get(Claim, claim_id), decision="approve")
                db.session.commit()
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=approve_in_thread, args=(claim_id,)) for claim_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    rows = db.session.execute(select(CampaignMilestone.percent, func.count()).where(
        CampaignMilestone.campaign_id == campaign_id).group_by(CampaignMilestone.percent)).all()
    assert sorted(rows) == [(25, 1), (50, 1), (75, 1), (100, 1)]
    assert db.session.scalar(select(func.count(BadgeAward.id)).where(BadgeAward.code == "closer")) == 1


# --- the campaign page -----------------------------------------------------------------------

def test_contributors_name_teams_and_consenting_people_never_children(client, ctx):
    organiser = make_organiser()
    named, hidden, child = make_user(name="Open Owl"), make_user(name="Quiet Vole"), make_user(name="Real Child Name")
    db.session.execute(update(User).where(User.id == hidden.id).values(hidden_from_boards=True))
    db.session.execute(update(User).where(User.id == child.id).values(is_child=True))
    db.session.commit()
    captain = make_organiser(name="Captain Crane")  # a teacher: children join teachers' teams only
    team = make_team(captain, name="Harbour Heroes", members=(child,))
    campaign = make_campaign(organiser)
    fix(organiser, named)
    fix(organiser, hidden)
    claim = make_claim(child, make_quest(organiser, mode="team", problem_id=make_problem(organiser).id), team=team)
    from challenges import services as challenge_services
    challenge_services.submit_evidence(db.session, actor=child, claim=claim, evidence="Done", members=[child.id])
    db.session.commit()
    release(captain, claim)
    approve(organiser, claim)
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "Open Owl" in page and "Harbour Heroes" in page
    assert "Quiet Vole" not in page and "Real Child Name" not in page
    assert "2 more who prefer not to be named" in page


def test_a_campaign_that_falls_short_thanks_people_and_punishes_nobody(client, ctx):
    organiser = make_organiser()
    campaign = make_campaign(organiser, goal=10)
    fix(organiser)
    now = utcnow()
    db.session.execute(update(Claim).values(decided_at=now - timedelta(minutes=2)))
    db.session.execute(update(Campaign).values(starts_at=now - timedelta(minutes=10), ends_at=now - timedelta(minutes=1)))
    db.session.commit()
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "ended with 1 problem fixed" in page and "nobody loses anything" in page
    assert not re.search(r"fail|penalt|lost points", page, re.IGNORECASE)
    lists = client.get("/campaigns").get_data(as_text=True)
    assert lists.index("Finished") < lists.index("Fix the Old City")


def test_the_campaigns_page_shows_town_wide_totals_and_the_lists(client, ctx):
    organiser = make_organiser()
    make_campaign(organiser, title="Riverside spring clean")
    claim = fix(organiser)
    db.session.add(ClaimHours(claim_id=claim.id, hours=2.5))
    db.session.commit()
    page = client.get("/campaigns").get_data(as_text=True)
    assert "<strong>1</strong> problems fixed" in page and "<strong>2.5</strong> volunteer hours" in page
    assert "Riverside spring clean" in page


# --- creating: who and what ----------------------------------------------------------------

def test_participants_cannot_create_campaigns(client, login):
    login(make_user())
    assert client.get("/campaigns/new").status_code == 403
    assert client.post("/campaigns/new", data=FORM).status_code == 403
    assert db.session.scalar(select(func.count(Campaign.id))) == 0


@pytest.mark.parametrize("change, message", [
    ({"ends_at": "2001-01-01T12:00"}, "The end must be in the future."),
    ({"min_lat": "51.50"}, "The minimum latitude (second number) must not be above the maximum"),
    ({"goal": "0"}, "Set a goal of 1 to"),
    ({"area_kind": "circle"}, "Give the centre and the radius."),
    ({"area_kind": "circle", "centre_lat": "51.45", "centre_lon": "-2.58", "radius_m": "90000"},
     "Must be between 1 and 5000 metres."),
    ({"start": "vote", "voting_closes_at": "2001-01-01T12:00"}, "Voting must close in the future."),
])
def test_bad_campaign_input_is_explained_and_nothing_is_created(client, login, change, message):
    login(make_organiser())
    response = client.post("/campaigns/new", data={**FORM, **change})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Campaign.id))) == 0


def test_a_campaign_for_every_category_stores_no_list(ctx):
    campaign = make_campaign(make_organiser(), categories=list(CATEGORIES))
    assert campaign.categories == "" and campaign.category_list == []


# --- fix stories and hours -------------------------------------------------------------------

def _upload(data: bytes):
    import io
    return (io.BytesIO(data), "photo.jpg")


def test_the_fixer_tells_the_fix_story_with_photos_on_the_problem_page(client, login):
    organiser, fixer = make_organiser(), make_user(name="Handy Heron")
    claim = fix(organiser, fixer)
    problem_id = claim.quest.problem_id
    login(fixer)
    assert "Tell how it was fixed" in client.get(f"/problems/{problem_id}").get_data(as_text=True)
    response = client.post(f"/problems/{problem_id}/fix-story", content_type="multipart/form-data",
                           data={"story": "Filled it with cold lay tarmac.", "before_photo": _upload(photo_with_gps()),
                                 "after_photo": _upload(photo_with_gps())})
    assert response.status_code == 302
    story = db.session.scalar(select(FixStory))
    assert story.before_photo_id and story.after_photo_id
    page = client.get(f"/problems/{problem_id}").get_data(as_text=True)
    assert "Filled it with cold lay tarmac." in page and 'alt="Before the fix"' in page and 'alt="After the fix"' in page
    assert db.session.scalar(select(ProblemUpdate.kind).where(ProblemUpdate.id == story.update_id)) == "fix"


def test_strangers_children_and_unfixed_problems_get_no_story(client, login):
    organiser = make_organiser()
    child = make_user()
    db.session.execute(update(User).where(User.id == child.id).values(is_child=True))
    db.session.commit()
    teacher = make_organiser()
    make_team(teacher, name="Class 3", members=(child,))
    claim = fix(organiser, child, teacher=teacher)
    problem_id = claim.quest.problem_id
    unfixed = make_problem(organiser)
    for person, target in ((make_user(), problem_id), (child, problem_id), (organiser, unfixed.id)):
        login(person)
        response = client.post(f"/problems/{target}/fix-story", data={"story": "It is fixed."})
        assert response.status_code == 403
    assert db.session.scalar(select(func.count(FixStory.id))) == 0


def test_a_non_photo_is_refused_beside_its_field_and_no_story_is_saved(client, login):
    organiser = make_organiser()
    claim = fix(organiser)
    login(organiser)
    response = client.post(f"/problems/{claim.quest.problem_id}/fix-story", content_type="multipart/form-data",
                           data={"story": "Fixed.", "after_photo": _upload(b"not a picture at all")})
    assert response.status_code == 422
    assert db.session.scalar(select(func.count(FixStory.id))) == 0
    assert db.session.scalar(select(func.count(ProblemUpdate.id)).where(ProblemUpdate.kind == "fix")) == 0


def test_hours_given_with_evidence_are_kept_and_nonsense_is_refused(client, login):
    organiser, player = make_organiser(), make_user()
    quest = make_quest(organiser, problem_id=make_problem(organiser).id)
    claim = make_claim(player, quest)
    login(player)
    response = client.post(f"/claims/{claim.id}/submit", data={"evidence": "Cleared it.", "hours": "-3"})
    assert response.status_code == 422 and "Give the hours as a number above 0" in response.get_data(as_text=True)
    assert db.session.get(Claim, claim.id).status == ClaimStatus.taken.value
    response = client.post(f"/claims/{claim.id}/submit", data={"evidence": "Cleared it.", "hours": "1.5"})
    assert response.status_code == 302
    assert db.session.get(ClaimHours, claim.id).hours == 1.5


def test_the_campaign_page_reads_the_same_number_of_queries_however_many_contributors(client, ctx):
    organiser = make_organiser()
    campaign = make_campaign(organiser, goal=20)
    counts = []
    for _ in range(2):
        fix(organiser)
        captain = make_user()
        fix(organiser, captain, team=make_team(captain))
        with counting(db.engine) as statements:
            assert client.get(f"/campaigns/{campaign.id}").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1] <= 16  # 12, and the campaign's two leaderboards (its definition and a page each)


def test_the_campaigns_list_reads_one_count_per_campaign_shown(client, ctx):
    organiser = make_organiser()
    for n in range(3):
        make_campaign(organiser, title=f"Campaign {n}")
    with counting(db.engine) as statements:
        assert client.get("/campaigns").status_code == 200
    assert len(statements) <= 3 + 5
