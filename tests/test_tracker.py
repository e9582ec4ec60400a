"""One report, many people: confirmations, following, comments, merges and the duplicate check."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from challenges import services, tracker
from challenges.models import Confirmation, Photo, Problem, ProblemUpdate, Quest, Subscription
from errors import Conflict, Forbidden, ValidationFailed
from extensions import db
from tests.factories import make_organiser, make_problem, make_quest, make_user


def followers(problem_id: int) -> set[int]:
    return set(db.session.scalars(select(Subscription.user_id).where(
        Subscription.kind == "problem", Subscription.problem_id == problem_id)))


def confirmers(problem_id: int) -> set[int]:
    return set(db.session.scalars(select(Confirmation.user_id).where(Confirmation.problem_id == problem_id)))


def fresh(problem: Problem) -> Problem:
    db.session.expire_all()
    return db.session.get(Problem, problem.id)


def test_reporter_follows_their_own_report(ctx):
    reporter = make_user()
    problem = make_problem(reporter)
    assert followers(problem.id) == {reporter.id}
    assert fresh(problem).subscribers_count == 1


def test_confirming_counts_once_and_follows(ctx):
    problem, neighbour = make_problem(make_user()), make_user()
    tracker.confirm(db.session, actor=neighbour, problem=problem)
    db.session.commit()
    with pytest.raises(tracker.AlreadyConfirmed):
        tracker.confirm(db.session, actor=neighbour, problem=problem)
    db.session.rollback()
    problem = fresh(problem)
    assert (problem.confirmations_count, problem.subscribers_count) == (1, 2)
    assert neighbour.id in followers(problem.id)


def test_reporter_cannot_confirm_their_own_problem(ctx):
    reporter = make_user()
    with pytest.raises(tracker.OwnProblem):
        tracker.confirm(db.session, actor=reporter, problem=make_problem(reporter))


def test_follow_and_unfollow_are_idempotent(ctx):
    problem, fan = make_problem(make_user()), make_user()
    for _ in range(2):
        tracker.subscribe(db.session, actor=fan, problem=problem)
    db.session.commit()
    assert fresh(problem).subscribers_count == 2
    assert tracker.unsubscribe(db.session, actor=fan, problem=problem) is True
    assert tracker.unsubscribe(db.session, actor=fan, problem=problem) is False
    db.session.commit()
    assert fresh(problem).subscribers_count == 1 and fan.id not in followers(problem.id)


def test_only_organisers_comment_and_the_comment_joins_the_history(ctx):
    problem, organiser = make_problem(make_user()), make_organiser()
    with pytest.raises(Forbidden):
        tracker.comment(db.session, actor=make_user(), problem=problem, body="hello")
    with pytest.raises(ValidationFailed):
        tracker.comment(db.session, actor=organiser, problem=problem, body="  ")
    tracker.comment(db.session, actor=organiser, problem=problem, body="Crew booked for Tuesday.")
    db.session.commit()
    kinds = db.session.scalars(select(ProblemUpdate.kind).where(ProblemUpdate.problem_id == problem.id)
                               .order_by(ProblemUpdate.id)).all()
    assert kinds == ["reported", "comment"]


def test_area_and_category_follows_are_validated(ctx):
    user = make_user()
    with pytest.raises(ValidationFailed) as bad_radius:
        tracker.subscribe_area(db.session, actor=user, lat=51.45, lon=-2.59, radius_m=0)
    assert "radius_m" in bad_radius.value.fields
    with pytest.raises(ValidationFailed):
        tracker.subscribe_area(db.session, actor=user, bbox=(-2.5, 51.5, -2.6, 51.4))  # corners swapped
    with pytest.raises(ValidationFailed):
        tracker.subscribe_category(db.session, actor=user, category="volcano", categories=("litter",))
    area = tracker.subscribe_area(db.session, actor=user, bbox=(-2.6, 51.4, -2.5, 51.5))
    again = tracker.subscribe_category(db.session, actor=user, category="litter", categories=("litter",))
    assert again.id == tracker.subscribe_category(db.session, actor=user, category="litter",
                                                  categories=("litter",)).id
    assert (area.min_lon, area.max_lat) == (-2.6, 51.5)


def test_merge_moves_everything_without_doubles(ctx):
    organiser = make_organiser()
    first_reporter, second_reporter, both, only_dup = make_user(), make_user(), make_user(), make_user()
    survivor = make_problem(first_reporter, title="Pothole on Corn Street")
    duplicate = make_problem(second_reporter, title="Hole in the road, Corn St")
    for person in (both,):
        tracker.confirm(db.session, actor=person, problem=survivor)
        tracker.confirm(db.session, actor=person, problem=duplicate)
    tracker.confirm(db.session, actor=only_dup, problem=duplicate)
    tracker.confirm(db.session, actor=first_reporter, problem=duplicate)  # survivor's reporter saw the dup too
    quest = make_quest(organiser, problem_id=duplicate.id)
    db.session.add(Photo(storage_key="k1", problem_id=duplicate.id, uploader_id=second_reporter.id, width=1, height=1))
    db.session.commit()

    result = tracker.merge(db.session, actor=organiser, duplicate=duplicate, into=survivor)
    db.session.commit()

    survivor, duplicate = fresh(survivor), db.session.get(Problem, duplicate.id)
    assert result.id == survivor.id and duplicate.merged_into_id == survivor.id and duplicate.status == "closed"
    assert confirmers(survivor.id) == {both.id, only_dup.id, second_reporter.id}
    assert followers(survivor.id) == {first_reporter.id, second_reporter.id, both.id, only_dup.id}
    assert confirmers(duplicate.id) == set() and followers(duplicate.id) == set()
    assert (survivor.confirmations_count, survivor.subscribers_count) == (3, 4)
    assert db.session.get(Quest, quest.id).problem_id == survivor.id
    assert db.session.scalar(select(Photo.problem_id).where(Photo.storage_key == "k1")) == survivor.id
    history = db.session.scalars(select(ProblemUpdate.kind).where(ProblemUpdate.problem_id == survivor.id)).all()
    assert sorted(history) == ["merged", "reported", "reported"]


def test_merges_cannot_form_a_cycle_and_chains_are_flattened(ctx):
    organiser, user = make_organiser(), make_user()
    a, b, c = (make_problem(user, title=f"Problem {x}") for x in "abc")
    tracker.merge(db.session, actor=organiser, duplicate=a, into=b)
    db.session.commit()
    with pytest.raises(tracker.MergeCycle):
        tracker.merge(db.session, actor=organiser, duplicate=b, into=a)  # a lives on as b itself
    db.session.rollback()
    with pytest.raises(Conflict):
        tracker.merge(db.session, actor=organiser, duplicate=a, into=c)  # a is already merged
    db.session.rollback()
    tracker.merge(db.session, actor=organiser, duplicate=b, into=c)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Problem, a.id).merged_into_id == c.id  # straight to the survivor
    assert tracker.survivor_of(db.session, db.session.get(Problem, a.id)).id == c.id


def test_only_organisers_merge(ctx):
    user = make_user()
    with pytest.raises(Forbidden):
        tracker.merge(db.session, actor=user, duplicate=make_problem(user), into=make_problem(user))


def test_confirming_a_merged_problem_confirms_its_survivor(ctx):
    organiser, user, late = make_organiser(), make_user(), make_user()
    dup, keep = make_problem(user), make_problem(make_user())
    tracker.merge(db.session, actor=organiser, duplicate=dup, into=keep)
    db.session.commit()
    assert tracker.confirm(db.session, actor=late, problem=dup).id == keep.id


def test_status_of_a_merged_problem_cannot_change(ctx):
    organiser, user = make_organiser(), make_user()
    dup = make_problem(user)
    tracker.merge(db.session, actor=organiser, duplicate=dup, into=make_problem(user))
    db.session.commit()
    with pytest.raises(Conflict):
        services.change_status(db.session, actor=organiser, problem=dup, status="fixed")


# --- through the pages ---------------------------------------------------------------------

REPORT = {"title": "Streetlight out on King Street", "description": "Dark at night.", "category": "other",
          "lat": "51.45150", "lon": "-2.59420", "address": "King Street"}


def test_second_reporter_is_shown_the_first_report_and_confirms_it(app, client, login):
    first = make_user()
    existing = make_problem(first, **{**REPORT, "lat": 51.45152, "lon": -2.59421})
    second = make_user()
    login(second)
    step = client.post("/problems/new", data=REPORT)
    page = step.get_data(as_text=True)
    assert step.status_code == 200 and "Is it one of these?" in page
    assert "Streetlight out on King Street" in page and " m away" in page
    client.post(f"/problems/{existing.id}/confirm", data={})
    assert db.session.scalar(select(func.count()).select_from(Problem)) == 1
    problem_page = client.get(f"/problems/{existing.id}").get_data(as_text=True)
    assert "<strong>1</strong> person sees this too" in problem_page and "<strong>2</strong> following" in problem_page


def test_reporter_may_insist_theirs_is_different(client, login):
    make_problem(make_user(), **{**REPORT, "lat": 51.45152, "lon": -2.59421})
    login(make_user())
    response = client.post("/problems/new", data={**REPORT, "checked_nearby": "1"})
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Problem)) == 2


def test_no_check_step_when_nothing_is_nearby(client, login):
    make_problem(make_user(), **{**REPORT, "lat": 51.46, "lon": -2.59421})  # about a kilometre away
    make_problem(make_user(), **{**REPORT, "lat": 51.4515, "lon": -2.5942, "category": "litter"})  # other category
    login(make_user())
    assert client.post("/problems/new", data=REPORT).status_code == 302


def test_merged_problem_url_redirects_to_the_survivor(client, login, ctx):
    organiser, user = make_organiser(), make_user()
    dup, keep = make_problem(user), make_problem(user)
    login(organiser)
    response = client.post(f"/problems/{dup.id}/merge", data={"into_id": str(keep.id)})
    assert response.headers["Location"] == f"/problems/{keep.id}"
    moved = client.get(f"/problems/{dup.id}")
    assert moved.status_code == 301 and moved.headers["Location"] == f"/problems/{keep.id}"
    assert f"/problems/{dup.id}\"" not in client.get("/problems").get_data(as_text=True)


def test_follow_buttons_and_counts_on_the_page(client, login):
    problem = make_problem(make_user())
    fan = make_user()
    login(fan)
    assert "Follow updates" in client.get(f"/problems/{problem.id}").get_data(as_text=True)
    client.post(f"/problems/{problem.id}/subscribe", data={})
    page = client.get(f"/problems/{problem.id}").get_data(as_text=True)
    assert "Stop following" in page and "<strong>2</strong> following" in page
    client.post(f"/problems/{problem.id}/unsubscribe", data={})
    assert "<strong>1</strong> following" in client.get(f"/problems/{problem.id}").get_data(as_text=True)


def test_list_sorts_by_most_affected(client):
    quiet, busy = make_problem(make_user(), title="Quiet problem"), make_problem(make_user(), title="Busy problem")
    for _ in range(3):
        tracker.confirm(db.session, actor=make_user(), problem=busy)
    db.session.commit()
    page = client.get("/problems?sort=affected").get_data(as_text=True)
    assert page.index("Busy problem") < page.index("Quiet problem")
    newest = client.get("/problems").get_data(as_text=True)
    assert newest.index("Busy problem") < newest.index("Quiet problem")  # also newer
    assert quiet.id != busy.id


def test_follow_an_area_through_the_form(client, login):
    user = make_user()
    login(user)
    bad = client.post("/follow", data={"area-lat": "95", "area-lon": "0", "area-radius_m": "500",
                                       "area-delivery": "digest", "area-submit": "1"})
    assert bad.status_code == 422 and 'id="area-lat-error"' in bad.get_data(as_text=True)
    client.post("/follow", data={"area-lat": "51.45", "area-lon": "-2.59", "area-radius_m": "500",
                                 "area-delivery": "digest", "area-submit": "1"})
    client.post("/follow", data={"cat-category": "litter", "cat-delivery": "in_app", "cat-submit": "1"})
    swapped = client.post("/follow", data={"ward-min_lat": "51.46", "ward-min_lon": "-2.60", "ward-max_lat": "51.44",
                                           "ward-max_lon": "-2.58", "ward-delivery": "immediate", "ward-submit": "1"})
    assert swapped.status_code == 422 and "south-west corner" in swapped.get_data(as_text=True)
    client.post("/follow", data={"ward-min_lat": "51.44", "ward-min_lon": "-2.60", "ward-max_lat": "51.46",
                                 "ward-max_lon": "-2.58", "ward-delivery": "immediate", "ward-submit": "1"})
    kinds = sorted(db.session.scalars(select(Subscription.kind).where(Subscription.user_id == user.id)))
    assert kinds == ["area", "area", "category"]
