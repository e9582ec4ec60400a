"""Pledges: tokens from points, pledged to proposed campaigns; the community chooses."""
from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select, update

from accounts.models import User
from campaigns import services
from campaigns.models import Campaign, CampaignStatus, Pledge
from errors import Forbidden
from extensions import db
from scoring import ledger
from tests.factories import make_organiser, make_user
from tests.test_campaigns import make_campaign
from timeutil import utcnow


def with_points(user: User, points: int) -> User:
    ledger.award(db.session, key=f"test:{user.id}:{points}", amount=points, reason="Test points", user_id=user.id)
    db.session.commit()
    return user


def voting_campaign(organiser, *, title="Light the underpass", closes_in=timedelta(days=2)) -> Campaign:
    return make_campaign(organiser, title=title, vote_until=utcnow() + closes_in)


def tokens(user) -> services.Tokens:
    return services.tokens_of(db.session, user.id, token_points=10)


def pledged(campaign_id: int) -> int:
    return db.session.scalar(select(func.coalesce(func.sum(Pledge.tokens), 0)).where(Pledge.campaign_id == campaign_id))


def test_tokens_are_points_over_ten_rounded_down_minus_what_is_pledged(ctx):
    player = with_points(make_user(), 35)
    campaign = voting_campaign(make_organiser())
    assert tokens(player) == services.Tokens(earned=3, pledged=0)
    services.pledge(db.session, actor=player, campaign=campaign, tokens=2, token_points=10)
    db.session.commit()
    assert tokens(player).available == 1


def test_pledging_through_the_page_shows_the_totals(client, login):
    player = with_points(make_user(), 50)
    campaign = voting_campaign(make_organiser())
    login(player)
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "You have <strong>5</strong> tokens to pledge." in page
    response = client.post(f"/campaigns/{campaign.id}/pledge", data={"tokens": "3"})
    assert response.status_code == 302
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "<strong>3</strong> tokens pledged by 1 person" in page and "You have <strong>2</strong> tokens" in page
    assert "3 tokens pledged by 1 person" in client.get("/campaigns").get_data(as_text=True)


def test_bad_pledges_are_explained_and_change_nothing(client, login):
    player = with_points(make_user(), 20)
    campaign = voting_campaign(make_organiser())
    login(player)
    for tokens_sent, message in (("3", "You have 2 tokens to pledge, not 3."), ("0", "Pledge at least 1 token."),
                                 ("-2", "Pledge at least 1 token."), ("many", "Enter a whole number")):
        response = client.post(f"/campaigns/{campaign.id}/pledge", data={"tokens": tokens_sent})
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    assert pledged(campaign.id) == 0


def test_no_pledges_after_voting_closes_or_on_a_running_campaign(client, login):
    player = with_points(make_user(), 100)
    organiser = make_organiser()
    closed = voting_campaign(organiser)
    db.session.execute(update(Campaign).where(Campaign.id == closed.id)
                       .values(voting_closes_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    running = make_campaign(organiser)
    login(player)
    for campaign_id in (closed.id, running.id):
        response = client.post(f"/campaigns/{campaign_id}/pledge", data={"tokens": "1"})
        assert response.status_code == 422
        assert "Voting on this campaign is closed" in response.get_data(as_text=True)
        assert pledged(campaign_id) == 0


def test_the_most_pledged_is_chosen_and_its_organiser_launches_it(client, login):
    organiser, other_organiser = make_organiser(), make_organiser()
    underpass = voting_campaign(organiser)
    benches = voting_campaign(other_organiser, title="Mend the benches")
    for player, choice, amount in ((with_points(make_user(), 30), underpass, 3),
                                   (with_points(make_user(), 40), benches, 4)):
        services.pledge(db.session, actor=player, campaign=choice, tokens=amount, token_points=10)
    db.session.execute(update(Campaign).values(voting_closes_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()

    login(make_user())
    assert client.post("/campaigns/close-voting", data={}).status_code == 403
    db.session.expire_all()
    assert db.session.get(Campaign, benches.id).status == CampaignStatus.voting.value

    login(organiser)
    assert client.post("/campaigns/close-voting", data={}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Campaign, benches.id).chosen_at is not None
    assert db.session.get(Campaign, underpass.id).chosen_at is None
    assert client.post(f"/campaigns/{benches.id}/launch", data={}).status_code == 403  # not its organiser
    assert client.post(f"/campaigns/{underpass.id}/launch", data={}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Campaign, underpass.id).status == CampaignStatus.proposed.value  # not chosen: no launch

    login(other_organiser)
    page = client.get(f"/campaigns/{benches.id}").get_data(as_text=True)
    assert "The community chose this campaign." in page
    assert client.post(f"/campaigns/{benches.id}/launch", data={}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Campaign, benches.id).status == CampaignStatus.active.value


def test_close_voting_refuses_participants_in_the_service_too(ctx):
    try:
        services.close_voting(db.session, actor=make_user())
    except Forbidden:
        pass
    else:
        raise AssertionError("a participant counted the votes")


def test_racing_pledges_cannot_overspend_on_postgresql(pg):
    player = with_points(make_user(), 50)  # 5 tokens
    campaign = voting_campaign(make_organiser())
    player_id, campaign_id = player.id, campaign.id
    db.session.remove()
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def pledge_in_thread() -> None:
        with pg.app_context():
            try:
                barrier.wait(timeout=10)
                services.pledge(db.session, actor=db.session.get(User, player_id),
                                campaign=db.session.get(Campaign, campaign_id), tokens=3, token_points=10)
                db.session.commit()
                outcomes.append("pledged")
            except services.NotEnoughTokens:
                db.session.rollback()
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=pledge_in_thread) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["pledged", "refused", "refused", "refused"]
    assert pledged(campaign_id) == 3


def test_the_command_counts_closed_votes_and_finishes_campaigns_past_their_end(app, ctx, runner):
    organiser = make_organiser()
    voting_campaign(organiser, title="Mend the benches")
    running = make_campaign(organiser, title="Old City")
    db.session.execute(update(Campaign).where(Campaign.status == "voting")
                       .values(voting_closes_at=utcnow() - timedelta(seconds=1)))
    db.session.execute(update(Campaign).where(Campaign.id == running.id).values(ends_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    result = runner.invoke(args=["campaigns", "close-voting"])
    assert result.exit_code == 0, result.output
    assert "Chosen: Mend the benches" in result.output and "Campaigns finished: 1" in result.output
    db.session.expire_all()
    assert db.session.get(Campaign, running.id).status == CampaignStatus.finished.value


def test_a_campaign_in_a_vote_counts_nothing_yet(ctx):
    from tests.test_campaigns import fix

    organiser = make_organiser()
    campaign = voting_campaign(organiser)
    fix(organiser)
    assert services.progress(db.session, campaign) == 0
    assert services.contributors(db.session, campaign).people == []


def test_every_kind_of_campaign_page_renders_for_visitors(client, ctx):
    organiser = make_organiser()
    voting = voting_campaign(organiser)
    running = make_campaign(organiser, title="Old City")
    waiting = voting_campaign(organiser, title="Benches")
    db.session.execute(update(Campaign).where(Campaign.id == waiting.id)
                       .values(status="proposed", chosen_at=utcnow()))
    db.session.commit()
    assert "Log in</a> to pledge your tokens" in client.get(f"/campaigns/{voting.id}").get_data(as_text=True)
    for campaign in (running, waiting):
        page = client.get(f"/campaigns/{campaign.id}")
        assert page.status_code == 200 and campaign.title in page.get_data(as_text=True)
    assert "Launch it" not in client.get(f"/campaigns/{waiting.id}").get_data(as_text=True)
    assert client.get("/campaigns/999999").status_code == 404
    assert client.get("/campaigns/999999/impact").status_code == 404
