"""Racing reveals on PostgreSQL: however many requests look at the results at once after
the end, the event is finalised once and its badges awarded once."""
from __future__ import annotations

import threading

from sqlalchemy import func, select

from events import services
from events.models import Event
from extensions import db
from scoring.models import BadgeAward
from tests.events_helpers import add_quests, enter, make_event, set_times, team_of
from tests.factories import approve, make_claim, make_organiser
from timeutil import utcnow


def test_racing_finalisations_on_postgresql_reveal_the_results_once(pg):
    organiser = make_organiser()
    event = make_event(organiser)
    quest, = add_quests(organiser, event, 1)
    team, captain = team_of(2, "Ants")
    enter(event, team, captain)
    approve(organiser, make_claim(captain, quest, team=team, submit=True))
    set_times(event, ends_at=utcnow())
    event_id = event.id
    db.session.remove()
    barrier = threading.Barrier(6)
    won: list[bool] = []
    errors: list[BaseException] = []

    def finalise_in_thread() -> None:
        with pg.app_context():
            try:
                barrier.wait(timeout=10)
                result = services.finalise(db.session, event=db.session.get(Event, event_id))
                db.session.commit()
                won.append(result)
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=finalise_in_thread) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted(won) == [False] * 5 + [True]
    jam_badges = select(func.count()).select_from(BadgeAward).where(BadgeAward.code.like("jam-%"))
    assert db.session.scalar(jam_badges) == 4
