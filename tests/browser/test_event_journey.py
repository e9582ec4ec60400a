"""A jam's scoreboard, open in one browser, updates live while an organiser approves a
claim in another."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import check_accessibility, log_in, shoot, visit
from tests.events_helpers import add_quests, enter, make_event, team_of
from tests.factories import make_claim, make_organiser


def test_the_scoreboard_updates_live_when_a_claim_is_approved(person):
    host = make_organiser(name="Hana Host")
    event = make_event(host, title="Easton Jam")
    quest, = add_quests(host, event, 1)
    team, captain = team_of(2, "Litter Lions")
    enter(event, team, captain)
    claim = make_claim(captain, quest, team=team, submit=True)

    spectator = person()
    visit(spectator, "/events")
    spectator.get_by_role("link", name="Easton Jam").first.click()
    spectator.wait_for_url(f"**/events/{event.id}")
    check_accessibility(spectator)
    board = spectator.get_by_role("table", name="Scoreboard")
    lions = board.get_by_role("row", name="Litter Lions")
    expect(lions).to_contain_text("0")
    expect(lions).not_to_contain_text("100")
    shoot(spectator, "event-scoreboard-before")

    organiser = person()
    log_in(organiser, host)
    visit(organiser, f"/claims/{claim.id}")
    organiser.get_by_role("radio", name="Approve").check()
    organiser.get_by_role("button", name="Record decision").click()
    organiser.get_by_text("Claim approved.").wait_for()

    expect(lions).to_contain_text("100")  # no reload: the stream redrew the table
    expect(lions.get_by_role("cell", name="solved", exact=True)).to_have_count(1)
    assert spectator.url.endswith(f"/events/{event.id}")  # still the page as first loaded
    check_accessibility(spectator)
    shoot(spectator, "event-scoreboard")
