"""A participant joins a team, takes on a team quest and submits evidence; an organiser, in
another browser, approves it; the participant sees the points."""
from __future__ import annotations

from tests.browser.conftest import log_in, shoot, visit
from tests.factories import make_organiser, make_quest, make_team, make_user


def test_a_participant_joins_a_team_and_is_paid_for_an_approved_quest(person):
    organiser = make_organiser(name="Olu Organiser")
    captain = make_user(name="Cat Captain")
    team = make_team(captain, name="Riverside Rovers")
    quest = make_quest(organiser, title="Clear the bus stop litter", points=50, mode="team")
    player = make_user(name="Pat Player")

    pat = person()
    log_in(pat, player)
    visit(pat, "/teams")
    visit(pat, "/teams/join")
    pat.get_by_label("Join code").fill(team.join_code)
    pat.get_by_role("button", name="Join team").click()
    pat.get_by_role("heading", name="Riverside Rovers", level=1).wait_for()
    visit(pat, f"/teams/{team.id}")
    shoot(pat, "team")

    visit(pat, "/quests")
    pat.get_by_role("link", name="Clear the bus stop litter").first.click()
    pat.wait_for_url(f"**/quests/{quest.id}")
    visit(pat, f"/quests/{quest.id}")
    shoot(pat, "quest")
    pat.get_by_role("button", name="Take it on for my team").click()
    pat.get_by_role("heading", name="Submit your evidence").wait_for()
    visit(pat, pat.url)
    pat.get_by_label("Your evidence").fill("Two bags of litter from the shelter, 9am Saturday.")
    mine = pat.get_by_role("checkbox", name="Pat Player")
    if not mine.is_checked():
        mine.check()
    pat.get_by_role("button", name="Submit for review").click()
    pat.get_by_text("submitted", exact=True).first.wait_for()
    claim_url = pat.url

    olu = person()
    log_in(olu, organiser)
    visit(olu, "/review")
    olu.get_by_role("link", name="Review Clear the bus stop litter by Pat Player").click()
    olu.wait_for_url(claim_url)
    visit(olu, claim_url)
    olu.get_by_role("radio", name="Approve").check()
    olu.get_by_role("button", name="Record decision").click()
    olu.get_by_text("Claim approved.").wait_for()
    visit(olu, "/review")

    visit(pat, claim_url)
    pat.get_by_text("Approved by Olu Organiser").wait_for()
    visit(pat, "/me")
    assert pat.locator(".hero .points").inner_text() == "50"
    shoot(pat, "me")
    visit(pat, "/leaderboards")
    assert pat.get_by_role("row", name="Pat Player").count() >= 1
    shoot(pat, "leaderboards")
    visit(pat, "/claims")
    visit(pat, "/")
    shoot(pat, "home-participant")
