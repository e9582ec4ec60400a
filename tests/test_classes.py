"""School classes: a teacher's class of children with printed login cards, through the pages."""
from __future__ import annotations

import csv
import html
import io
import re

import pytest
from sqlalchemy import func, select

from accounts import services as accounts
from accounts.models import Team, TeamInvite, TeamMembership, User
from challenges import reviews
from challenges.models import Claim
from classes import services as classes
from classes import words
from classes.models import ClassChild, NameRequest, SchoolClass
from errors import NotFound
from extensions import db
from scoring.models import LedgerEntry
from tests.factories import TEST_HASH, approve, make_claim, make_organiser, make_quest, make_team, make_user


# --- helpers -------------------------------------------------------------------------------

def as_user(app, user):
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = user.get_id()
        sess["_fresh"] = True
    return client


def read_cards(page: str) -> list[dict]:
    """The cards on a printed page: name, class code and the password or pictures."""
    cards = []
    for block in re.findall(r'<li class="login-card">(.*?)</li>\s*(?=<li class="login-card">|</ul>)', page, re.S):
        name = html.unescape(re.search(r"<h2>(.*?)</h2>", block).group(1))
        code = re.search(r"<dt>Class code</dt><dd>(.*?)</dd>", block).group(1)
        password = re.search(r"<dt>Password</dt><dd>(.*?)</dd>", block)
        pictures = re.findall(r'<span class="symbol" aria-hidden="true">.*?</span>(\w+)</li>', block)
        codes = [next(c for c, label, _ in words.PICTURES if label == p) for p in pictures]
        cards.append({"name": name, "code": code, "password": password.group(1) if password else None,
                      "pictures": codes})
    return cards


def create_class(app, teacher, *, name="Year 5 Oak", size=25, kind="password"):
    client = as_user(app, teacher)
    response = client.post("/classes/new", data={"name": name, "size": str(size), "secret_kind": kind})
    assert response.status_code == 200, response.get_data(as_text=True)
    school_class = db.session.scalar(select(SchoolClass).join(Team).where(Team.name == name))
    return client, school_class, read_cards(response.get_data(as_text=True)), response


def child_login(app, card, **override):
    client = app.test_client()
    data = {"code": card["code"], "card_name": card["name"], "password": card["password"] or ""}
    for i, code in enumerate(card["pictures"], start=1):
        data[f"pic{i}"] = code
    data.update(override)
    return client, client.post("/classes/login", data=data)


def team_total(team_id: int) -> int:
    return int(db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0))
                                 .where(LedgerEntry.team_id == team_id)))


# --- the done-when story -------------------------------------------------------------------

def test_teacher_prints_25_cards_a_child_logs_in_completes_a_quest_and_the_teacher_approves(app, ctx):
    teacher = make_organiser(name="Ms Rivers")
    quest = make_quest(make_organiser(), title="Pick up litter by the school gate", points=30)
    teacher_client, school_class, cards, response = create_class(app, teacher)

    assert len(cards) == 25 and len({c["name"] for c in cards}) == 25
    assert all(c["code"] == school_class.code and re.fullmatch(r"[a-z]+-[a-z]+-\d\d", c["password"]) for c in cards)
    assert all(words.is_safe_pseudonym(c["name"]) for c in cards)
    assert response.headers["Cache-Control"] == "no-store"
    assert "classes.css" in response.get_data(as_text=True)  # the print stylesheet
    children = db.session.scalars(select(User).where(User.is_child.is_(True))).all()
    assert len(children) == 25 and all(c.email is None and c.hidden_from_boards for c in children)
    assert all(c["password"] not in child.password_hash for c, child in zip(cards, children))

    card = cards[7]
    child_client, response = child_login(app, card, code=card["code"].lower(), card_name=card["name"].upper())
    assert response.status_code == 302 and response.headers["Location"] == "/quests"
    response = child_client.post(f"/quests/{quest.id}/claim", data={})
    claim = db.session.scalar(select(Claim))
    child_client.post(f"/claims/{claim.id}/submit", data={"evidence": "Filled a bag by the gate."})

    dashboard = teacher_client.get(f"/classes/{school_class.id}").get_data(as_text=True)
    assert "Waiting for your review (1)" in dashboard and f"/claims/{claim.id}" in dashboard
    response = teacher_client.post(f"/claims/{claim.id}/review", data={"decision": "approve", "reason": ""})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Claim, claim.id).status == "approved"
    assert team_total(school_class.team_id) == 30  # the class team's total grew

    dashboard = teacher_client.get(f"/classes/{school_class.id}").get_data(as_text=True)
    assert "Class points <strong class=\"points\">30</strong>" in dashboard
    row = re.sub(r"\s+", "", re.search(rf"<th scope=\"row\">{card['name']}</th>(.*?)</tr>", dashboard, re.S).group(1))
    assert "<td>1</td><td>0</td><td>1</td><td>FirstFix</td><td>30</td>" in row
    board = child_client.get(f"/classes/{school_class.id}/board").get_data(as_text=True)
    assert re.search(rf'<tr class="me"><td>1</td><td>{card["name"]}</td><td>30</td></tr>', board)


def test_the_class_is_a_team_on_public_boards_once_its_teacher_says_so_and_its_children_never(app, ctx):
    check_class_team_visibility(app)


def test_the_redis_boards_follow_the_class_team_setting_too(app, redis_board):
    check_class_team_visibility(app)


def check_class_team_visibility(app):
    teacher = make_organiser()
    teacher_client, school_class, cards, _ = create_class(app, teacher, size=2)
    child = db.session.scalar(select(User).where(User.display_name == cards[0]["name"]))
    approve(teacher, make_claim(child, make_quest(teacher, points=40), submit=True))
    make_team(make_user(), name="Harbour Heroes")

    public = app.test_client()
    teams_board = "/leaderboards?board=teams&window=all"
    assert "Year 5 Oak" not in public.get(teams_board).get_data(as_text=True)  # off by default
    assert public.get("/api/v1/leaderboards/teams?window=all").get_json()["entries"] == []
    teacher_client.post(f"/classes/{school_class.id}/settings", data={"show_in_rankings": "y"})
    assert re.search(r"<td>1</td><td>Year 5 Oak</td><td>40</td>", public.get(teams_board).get_data(as_text=True))
    entries = public.get("/api/v1/leaderboards/teams?window=week").get_json()["entries"]
    assert [(e["name"], e["points"]) for e in entries] == [("Year 5 Oak", 40)]
    teacher_client.post(f"/classes/{school_class.id}/settings", data={})
    assert "Year 5 Oak" not in public.get(teams_board).get_data(as_text=True)
    for path in ("/leaderboards?board=participants&window=all",
                 f"/leaderboards?board=participants&window=all&team_id={school_class.team_id}"):
        assert cards[0]["name"] not in public.get(path).get_data(as_text=True)
    api = app.test_client().get("/api/v1/leaderboards/participants?window=all").get_json()
    assert child.id not in [e.get("id") for e in api["entries"]]


def test_picture_pins_log_in_and_wrong_pictures_are_refused_then_lock_the_card(app, ctx):
    teacher = make_organiser()
    _, school_class, cards, response = create_class(app, teacher, size=3, kind="pictures")
    page = response.get_data(as_text=True)
    assert all(len(c["pictures"]) == 4 and c["password"] is None for c in cards)
    assert 'aria-label="Picture PIN, in order"' in page

    form = app.test_client().get("/classes/login").get_data(as_text=True)
    assert "<legend>First picture</legend>" in form and 'type="radio"' in form

    card = cards[0]
    _, ok = child_login(app, card)
    assert ok.status_code == 302
    wrong = [p for p in words.PICTURE_CODES if p != card["pictures"][0]][0]
    for _ in range(classes.MAX_FAILED_LOGINS):
        _, refused = child_login(app, card, pic1=wrong)
        assert refused.status_code == 422 and "do not match a card" in refused.get_data(as_text=True)
    _, locked = child_login(app, card)
    assert locked.status_code == 422 and "Too many wrong tries" in locked.get_data(as_text=True)
    _, other = child_login(app, cards[1])
    assert other.status_code == 302  # only that card is locked


def test_login_refuses_bad_input_without_an_error_page(app, ctx):
    _, school_class, cards, _ = create_class(app, make_organiser(), size=2)
    card = cards[0]
    for override in ({"password": "wrong-words-11"}, {"password": ""}, {"code": "NOPE99"},
                     {"card_name": "Nobody Here"}, {"password": cards[1]["password"]}):
        client, response = child_login(app, card, **override)
        assert response.status_code == 422, override
        assert "do not match a card" in response.get_data(as_text=True)
        assert client.get("/classes/mine").status_code == 302  # still logged out
    response = app.test_client().post("/classes/login", data={"code": "", "card_name": ""})
    assert response.status_code == 422 and "Type the class code from your card." in response.get_data(as_text=True)
    # a child cannot use the grown-ups' email login
    grown_ups_login = app.test_client().post("/login", data={"email": card["name"], "password": card["password"]})
    assert grown_ups_login.status_code == 422


def test_a_reset_card_replaces_the_old_secret_and_unlocks_it(app, ctx):
    teacher_client, school_class, cards, _ = create_class(app, make_organiser(), size=2)
    child = db.session.scalar(select(ClassChild).where(ClassChild.card_name == cards[0]["name"]))
    finder, _ = child_login(app, cards[0])  # whoever holds the lost card is logged in with it
    assert finder.get("/classes/my-name").status_code == 200
    response = teacher_client.post(f"/classes/{school_class.id}/children/{child.user_id}/reset", data={})
    assert finder.get("/classes/my-name").status_code == 302  # the reset ended that session too
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    (new_card,) = read_cards(response.get_data(as_text=True))
    assert new_card["name"] == cards[0]["name"]
    assert child_login(app, cards[0])[1].status_code == 422
    assert child_login(app, new_card)[1].status_code == 302
    assert child_login(app, cards[1])[1].status_code == 302  # the others' cards still work

    response = teacher_client.post(f"/classes/{school_class.id}/reset", data={})
    assert len(read_cards(response.get_data(as_text=True))) == 2
    assert child_login(app, cards[1])[1].status_code == 422


def test_adding_children_prints_only_their_cards_and_keeps_names_unique(app, ctx):
    teacher_client, school_class, cards, _ = create_class(app, make_organiser(), size=3)
    response = teacher_client.post(f"/classes/{school_class.id}/children", data={"count": "4"})
    added = read_cards(response.get_data(as_text=True))
    assert len(added) == 4 and not {c["name"] for c in added} & {c["name"] for c in cards}
    assert db.session.scalar(select(func.count()).select_from(ClassChild)) == 7
    response = teacher_client.post(f"/classes/{school_class.id}/children", data={"count": "60"})
    assert response.status_code == 302
    assert "at most 60 children" in teacher_client.get(f"/classes/{school_class.id}").get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ClassChild)) == 7


@pytest.mark.parametrize("data, field_message", [
    ({"name": "Year 5 Oak", "size": "0", "secret_kind": "password"}, "Number must be between 1 and 60."),
    ({"name": "Year 5 Oak", "size": "many", "secret_kind": "password"}, "Enter a whole number"),
    ({"name": "Year 5 Oak", "size": "100", "secret_kind": "password"}, "Number must be between 1 and 60."),
    ({"name": "Y", "size": "5", "secret_kind": "password"}, "between 2 and 60 characters"),
    ({"name": "Year 5 Oak", "size": "5", "secret_kind": "smoke-signals"}, "Not a valid choice"),
    ({"name": "Taken Team", "size": "5", "secret_kind": "password"}, "A team with that name already exists."),
])
def test_class_form_errors_are_shown_beside_the_fields(app, ctx, data, field_message):
    teacher = make_organiser()
    accounts.create_team(db.session, actor=make_user(), name="Taken Team")
    db.session.commit()
    response = as_user(app, teacher).post("/classes/new", data=data)
    assert response.status_code == 422 and field_message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(SchoolClass)) == 0
    assert db.session.scalar(select(func.count()).select_from(User).where(User.is_child.is_(True))) == 0


# --- authorisation -------------------------------------------------------------------------

def test_only_the_teacher_sees_or_changes_the_class(app, ctx):
    teacher_client, school_class, cards, _ = create_class(app, make_organiser(), size=2)
    child_id = db.session.scalar(select(ClassChild.user_id).limit(1))
    admin = make_user(role="admin")
    child = db.session.get(User, child_id)
    outsiders = {"other organiser": as_user(app, make_organiser()), "admin": as_user(app, admin),
                 "participant": as_user(app, make_user()), "child": as_user(app, child)}
    before = {u.id: u.password_hash for u in db.session.scalars(select(User).where(User.is_child.is_(True)))}
    for who, client in outsiders.items():
        for path in ("", "/export.csv"):
            assert client.get(f"/classes/{school_class.id}{path}").status_code == 404, (who, path)
        for path, data in ((f"/children/{child_id}/reset", {}), ("/reset", {}), ("/children", {"count": "2"}),
                           ("/settings", {"streaks_enabled": "y", "show_in_rankings": "y"}),
                           ("/archive", {"confirm": "y"})):
            assert client.post(f"/classes/{school_class.id}{path}", data=data).status_code == 404, (who, path)
    db.session.expire_all()
    assert {u.id: u.password_hash for u in db.session.scalars(select(User).where(User.is_child.is_(True)))} == before
    fresh = db.session.get(SchoolClass, school_class.id)
    assert not (fresh.streaks_enabled or fresh.show_in_rankings or fresh.archived)
    assert db.session.scalar(select(func.count()).select_from(ClassChild)) == 2

    assert outsiders["participant"].get("/classes/new").status_code == 403
    assert outsiders["participant"].post("/classes/new", data={"name": "Mine", "size": "2",
                                                               "secret_kind": "password"}).status_code == 403
    assert app.test_client().get(f"/classes/{school_class.id}").status_code == 302  # to the login page
    assert outsiders["other organiser"].get(f"/classes/{school_class.id}/board").status_code == 404
    assert outsiders["child"].get(f"/classes/{school_class.id}/board").status_code == 200
    assert teacher_client.get(f"/classes/{school_class.id}/board").status_code == 200
    assert teacher_client.post(f"/classes/{school_class.id}/settings", data={}, csrf=False).status_code == 400


def test_a_child_of_another_class_does_not_see_this_class_board(app, ctx):
    _, first, _, _ = create_class(app, make_organiser(), name="Class One", size=1)
    _, second, cards, _ = create_class(app, make_organiser(), name="Class Two", size=1)
    other_child = db.session.scalar(select(User).where(User.display_name == cards[0]["name"]))
    assert as_user(app, other_child).get(f"/classes/{first.id}/board").status_code == 404
    assert as_user(app, other_child).get("/classes/mine").headers["Location"] == f"/classes/{second.id}/board"


def test_nobody_joins_a_class_with_its_team_code(app, ctx):
    _, school_class, _, _ = create_class(app, make_organiser(), size=1)
    stranger = make_user()
    for code in (school_class.team.join_code, school_class.code):
        with pytest.raises(accounts.UnknownJoinCode):
            accounts.join_team(db.session, actor=stranger, code=code)


# --- names ---------------------------------------------------------------------------------

def test_a_child_picks_a_safe_name_at_once_but_a_free_name_waits_for_the_teacher(app, ctx):
    teacher_client, school_class, cards, _ = create_class(app, make_organiser(), size=1)
    child = db.session.scalar(select(User).where(User.is_child.is_(True)))
    child_client = as_user(app, child)

    assert child_client.post("/classes/my-name", data={"adjective": "Kind", "noun": "Otter"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, child.id).display_name == "Kind Otter"
    response = child_client.post("/classes/my-name", data={"adjective": "Nasty", "noun": "Otter"})
    assert response.status_code == 422 and "Not a valid choice" in response.get_data(as_text=True)

    child_client.post("/classes/my-name", data={"name": "Sam Smith"})
    db.session.expire_all()
    assert db.session.get(User, child.id).display_name == "Kind Otter"
    assert "Waiting for your teacher" in child_client.get("/classes/my-name").get_data(as_text=True)
    request = db.session.scalar(select(NameRequest))

    other = as_user(app, make_organiser())
    assert other.post(f"/classes/{school_class.id}/names/{request.id}", data={"decision": "approve"}).status_code == 404
    assert "would like to be called <strong>Sam Smith</strong>" in teacher_client.get(
        f"/classes/{school_class.id}").get_data(as_text=True)
    teacher_client.post(f"/classes/{school_class.id}/names/{request.id}", data={"decision": "approve"})
    db.session.expire_all()
    assert db.session.get(User, child.id).display_name == "Sam Smith"
    assert teacher_client.post(f"/classes/{school_class.id}/names/{request.id}",
                               data={"decision": "approve"}).status_code == 302  # already decided: a message


def test_grown_ups_have_no_child_name_page(app, ctx):
    assert as_user(app, make_user()).get("/classes/my-name").status_code == 403


# --- settings, export ----------------------------------------------------------------------

def test_settings_default_off_and_are_read_by_the_rest_of_the_app(app, ctx):
    teacher_client, school_class, _, _ = create_class(app, make_organiser(), size=1)
    child_id = db.session.scalar(select(ClassChild.user_id))
    settings = classes.class_settings_for(db.session, child_id)
    assert settings is not None and not settings.streaks_enabled and not settings.show_in_rankings
    assert settings.team_id == school_class.team_id
    assert classes.class_settings_for(db.session, make_user().id) is None

    from childsafe.policy import streaks_enabled
    assert not streaks_enabled(db.session, child_id)
    teacher_client.post(f"/classes/{school_class.id}/settings", data={"streaks_enabled": "y"})
    db.session.expire_all()
    settings = classes.class_settings_for(db.session, child_id)
    assert settings.streaks_enabled and not settings.show_in_rankings
    assert streaks_enabled(db.session, child_id)  # the child's profile and badges follow the teacher's choice


def test_csv_export_lists_the_class_work_with_pseudonyms_and_no_secrets(app, ctx):
    teacher = make_organiser()
    teacher_client, school_class, cards, _ = create_class(app, teacher, size=2)
    child = db.session.scalar(select(User).where(User.display_name == cards[0]["name"]))
    approve(teacher, make_claim(child, make_quest(make_organiser(), title="Bench repaint", points=20), submit=True,
                                evidence="=HYPERLINK(\"http://evil\")"))

    response = teacher_client.get(f"/classes/{school_class.id}/export.csv")
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(classes.EXPORT_COLUMNS)
    assert rows[1][:5] == [cards[0]["name"], cards[0]["name"], "Bench repaint", "no", "approved"]
    assert rows[1][8] == "20" and rows[1][9].startswith("'=")
    assert cards[0]["password"] not in text and cards[1]["password"] not in text and "pbkdf2" not in text
    assert "@" not in text.replace(rows[1][9], "")


# --- the end of the year -------------------------------------------------------------------

def test_archiving_makes_the_class_read_only_and_stops_logins(app, ctx):
    teacher_client, school_class, cards, _ = create_class(app, make_organiser(), size=2)
    assert teacher_client.post(f"/classes/{school_class.id}/archive", data={}).status_code == 302
    db.session.expire_all()
    assert not db.session.get(SchoolClass, school_class.id).archived  # not ticked: nothing happens

    logged_in, _ = child_login(app, cards[1])
    assert logged_in.get("/quests").status_code == 200
    teacher_client.post(f"/classes/{school_class.id}/archive", data={"confirm": "y"})
    db.session.expire_all()
    assert db.session.get(SchoolClass, school_class.id).archived
    assert logged_in.get("/quests").headers["Location"] == "/classes/login"  # logged out at once
    assert logged_in.get("/classes/mine").status_code == 302
    _, refused = child_login(app, cards[0])
    assert refused.status_code == 422 and "archived" in refused.get_data(as_text=True)
    teacher_client.post(f"/classes/{school_class.id}/children", data={"count": "1"})
    teacher_client.post(f"/classes/{school_class.id}/settings", data={"streaks_enabled": "y"})
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(ClassChild)) == 2
    assert not db.session.get(SchoolClass, school_class.id).streaks_enabled


def test_deleting_the_children_keeps_the_class_totals_and_leaves_nothing_about_them(app, ctx):
    teacher = make_organiser()
    teacher_client, school_class, cards, _ = create_class(app, teacher, size=3)
    kids = {c["name"]: db.session.scalar(select(User).where(User.display_name == c["name"])) for c in cards}
    first, second, third = kids.values()
    solo = make_quest(make_organiser(), title="Litter pick", points=25)
    team_quest = make_quest(make_organiser(), title="Plant bulbs", points=40, mode="team")
    approve(teacher, make_claim(first, solo, submit=True))
    approve(teacher, make_claim(second, solo, submit=True))  # two children, the same solo quest
    approve(teacher, make_claim(third, team_quest, team=school_class.team, submit=True))
    make_claim(first, make_quest(make_organiser(), title="Still open"))
    grown_up = make_user()
    approve(teacher, make_claim(grown_up, solo, submit=True))
    child_ids = [k.id for k in kids.values()]
    before = team_total(school_class.team_id)
    assert before == 25 + 25 + 40
    assert teacher_client.post(f"/classes/{school_class.id}/delete-children",
                               data={"confirm": "y"}).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(User).where(User.id.in_(child_ids))) == 3  # not archived

    teacher_client.post(f"/classes/{school_class.id}/archive", data={"confirm": "y"})
    response = teacher_client.post(f"/classes/{school_class.id}/delete-children", data={"confirm": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    assert team_total(school_class.team_id) == before
    assert db.session.scalar(select(func.count()).select_from(User).where(User.id.in_(child_ids))) == 0
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)
                             .where(LedgerEntry.user_id.in_(child_ids))) == 0
    assert db.session.scalar(select(func.count()).select_from(TeamMembership)
                             .where(TeamMembership.team_id == school_class.team_id)) == 0
    assert db.session.scalar(select(func.count()).select_from(ClassChild)) == 0
    claims = db.session.scalars(select(Claim).join(User).where(User.display_name == classes.FORMER_PUPIL)).all()
    assert len(claims) == 4 and all("removed" in c.evidence for c in claims)
    assert all(c.user.email is None and c.user.hidden_from_boards for c in claims)
    assert len({c.user_id for c in claims}) == 3  # one stand-in per child
    # grown-ups keep their points:
    assert int(db.session.scalar(select(func.sum(LedgerEntry.amount)).where(LedgerEntry.user_id == grown_up.id))) == 25
    page = teacher_client.get(f"/classes/{school_class.id}").get_data(as_text=True)
    assert "Children (0)" in page and "Class points <strong class=\"points\">90</strong>" in page
    for card in cards:
        assert card["name"] not in page
        assert child_login(app, card)[1].status_code == 422


@pytest.mark.no_drift_check(reason="erases without the view's erasure.forget; stand-ins are projected only at their next refresh")
def test_a_deleted_childs_claim_reversed_later_still_balances_the_class(app, ctx):
    teacher = make_organiser()
    _, school_class, cards, _ = create_class(app, teacher, size=1)
    child = db.session.scalar(select(User).where(User.is_child.is_(True)))
    claim = approve(teacher, make_claim(child, make_quest(make_organiser(), points=30), submit=True))
    school_class = db.session.get(SchoolClass, school_class.id)
    classes.archive_class(db.session, actor=teacher, school_class=school_class)
    classes.delete_children(db.session, actor=teacher, school_class=school_class)
    db.session.commit()
    reviews.reverse_claim(db.session, actor=teacher, claim=db.session.get(Claim, claim.id), reason="Not done")
    db.session.commit()
    assert team_total(school_class.team_id) == 0


def test_team_quests_are_claimed_for_the_class_and_approved_by_its_teacher(app, ctx):
    teacher = make_organiser()
    _, school_class, cards, _ = create_class(app, teacher, size=2)
    child = db.session.scalar(select(User).where(User.display_name == cards[0]["name"]))
    quest = make_quest(make_organiser(), mode="team", points=50)
    claim = make_claim(child, quest, team=school_class.team, submit=True)
    assert claim in reviews.review_queue(db.session, teacher)  # the teacher is not a member of the class team
    approve(teacher, claim)
    assert team_total(school_class.team_id) == 50


def test_the_dashboard_reads_a_big_class_in_as_many_queries_as_a_small_one(app, ctx):
    from tests.querycount import counting

    counts = []
    for size, name in ((2, "Small class"), (12, "Big class")):
        teacher = make_organiser()
        client, school_class, cards, _ = create_class(app, teacher, size=size, name=name)
        quest = make_quest(make_organiser(), points=10)
        for child in db.session.scalars(select(User).join(ClassChild).where(ClassChild.class_id == school_class.id)):
            approve(teacher, make_claim(child, quest, submit=True))
        client.get(f"/classes/{school_class.id}")  # warm up
        with counting(db.engine) as statements:
            assert client.get(f"/classes/{school_class.id}").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_class_for_teacher_refuses_everyone_else(app, ctx):
    teacher = make_organiser()
    school_class, cards = classes.create_class(db.session, actor=teacher, name="Direct", size=1,
                                               secret_kind="password", hash_method=TEST_HASH)
    db.session.commit()
    assert classes.class_for_teacher(db.session, actor=teacher, class_id=school_class.id) is school_class
    with pytest.raises(NotFound):
        classes.class_for_teacher(db.session, actor=make_organiser(), class_id=school_class.id)
    assert len(cards) == 1 and cards[0].class_code == school_class.code


def test_children_get_no_email_notifications(app, ctx):
    from notifications.models import Notification
    from notifications.services import fan_out
    from tests.notifications.helpers import add_problem, add_update, follow

    teacher = make_organiser()
    classes.create_class(db.session, actor=teacher, name="Followers", size=1, secret_kind="password",
                         hash_method=TEST_HASH)
    db.session.commit()
    child = db.session.scalar(select(User).where(User.is_child.is_(True)))
    problem = add_problem(teacher)
    follow(child, problem)
    entry = add_update(problem, teacher, publish_it=False)
    fan_out(db.session, update_id=entry.id)
    db.session.commit()
    channels = set(db.session.scalars(select(Notification.channel).where(Notification.user_id == child.id)))
    assert channels == {"in_app"}


def test_deleting_the_children_deletes_their_evidence_photos(app, ctx):
    from challenges.models import Photo
    from media.services import save_photo, thumb_key
    from tests.media.samples import encode, two_tone

    teacher = make_organiser()
    teacher_client, school_class, cards, _ = create_class(app, teacher, size=1)
    child = db.session.scalar(select(User).where(User.is_child.is_(True)))
    claim = make_claim(child, make_quest(make_organiser()))
    storage = app.extensions["fixquest.storage"]
    photo = save_photo(db.session, storage=storage, actor=child, data=encode(two_tone(), "PNG"), claim_id=claim.id,
                       max_bytes=10_000_000, max_pixels=10_000_000)
    db.session.commit()
    key = photo.storage_key
    assert storage.exists(key) and storage.exists(thumb_key(key))

    teacher_client.post(f"/classes/{school_class.id}/archive", data={"confirm": "y"})
    teacher_client.post(f"/classes/{school_class.id}/delete-children", data={"confirm": "y"})
    assert db.session.scalar(select(func.count()).select_from(Photo)) == 0
    assert not storage.exists(key) and not storage.exists(thumb_key(key))


def test_a_child_cannot_show_themselves_on_public_boards(app, ctx):
    create_class(app, make_organiser(), size=1)
    child = db.session.scalar(select(User).where(User.is_child.is_(True)))
    response = as_user(app, child).post("/me/leaderboard-visibility", data={"hidden": "0"})
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(User, child.id).hidden_from_boards


def test_the_command_line_creates_a_class_and_prints_its_cards(app, ctx, runner):
    make_organiser(email="teacher@example.org")
    result = runner.invoke(args=["classes", "create", "--teacher", "teacher@example.org", "--name", "Year 6 Ash",
                                 "--size", "3", "--pictures"])
    assert result.exit_code == 0, result.output
    school_class = db.session.scalar(select(SchoolClass))
    assert f"class code {school_class.code}" in result.output
    names = db.session.scalars(select(ClassChild.card_name)).all()
    assert len(names) == 3 and all(name in result.output for name in names)
    assert result.output.count(" → ") == 9
    refused = runner.invoke(args=["classes", "create", "--teacher", "teacher@example.org", "--name", "Year 6 Ash",
                                  "--size", "3"])
    assert refused.exit_code != 0 and "already exists" in refused.output
    make_user(email="pupil@example.org")
    refused = runner.invoke(args=["classes", "create", "--teacher", "pupil@example.org", "--name", "Mine",
                                  "--size", "3"])
    assert refused.exit_code != 0 and "organiser" in refused.output


def test_the_class_team_page_does_not_list_its_children(app, ctx):
    teacher_client, school_class, cards, _ = create_class(app, make_organiser(), size=2)
    child = db.session.scalar(select(User).where(User.display_name == cards[0]["name"]))
    # Shown in public by its teacher, the class is a team page like any, its children unlisted.
    teacher_client.post(f"/classes/{school_class.id}/settings", data={"show_in_rankings": "y"})
    for client in (app.test_client(), as_user(app, make_user())):
        page = client.get(f"/teams/{school_class.team_id}").get_data(as_text=True)
        assert "Year 5 Oak" in page and cards[0]["name"] not in page and cards[1]["name"] not in page
        assert school_class.team.join_code not in page and "Leave team" not in page
    # Inside the class, classmates see each other's pseudonyms, but no join code and no way out.
    page = as_user(app, child).get(f"/teams/{school_class.team_id}").get_data(as_text=True)
    assert cards[1]["name"] in page
    assert school_class.team.join_code not in page and "Leave team" not in page


def test_a_teacher_cannot_reset_a_card_of_another_class_through_their_own(app, ctx):
    teacher_client, mine, _, _ = create_class(app, make_organiser(), name="Mine", size=1)
    _, theirs, cards, _ = create_class(app, make_organiser(), name="Theirs", size=1)
    other_child = db.session.scalar(select(ClassChild).where(ClassChild.class_id == theirs.id))
    before = other_child.user.password_hash
    response = teacher_client.post(f"/classes/{mine.id}/children/{other_child.user_id}/reset", data={})
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(User, other_child.user_id).password_hash == before
    assert child_login(app, cards[0])[1].status_code == 302


def test_erased_children_leave_the_redis_leaderboards_and_the_class_keeps_its_total(app, redis_board):
    teacher = make_organiser()
    teacher_client, school_class, cards, _ = create_class(app, teacher, size=2)
    child = db.session.scalar(select(User).where(User.display_name == cards[0]["name"]))
    approve(teacher, make_claim(child, make_quest(make_organiser(), points=35), submit=True))
    redis_board.rebuild()
    names = redis_board.names_key("participants")
    assert redis_board.client.hget(names, str(child.id)) == cards[0]["name"]
    assert redis_board.standing_of("participants", child.id).hidden
    assert redis_board.standing_of("teams", school_class.team_id).points == 35

    teacher_client.post(f"/classes/{school_class.id}/archive", data={"confirm": "y"})
    teacher_client.post(f"/classes/{school_class.id}/delete-children", data={"confirm": "y"})
    assert redis_board.client.hget(names, str(child.id)) is None
    assert redis_board.standing_of("participants", child.id) is None
    assert redis_board.standing_of("teams", school_class.team_id).points == 35
    for key in redis_board.client.keys("test:*"):
        if redis_board.client.type(key) == "zset":
            assert redis_board.client.zscore(key, str(child.id)) is None, key


def test_the_picture_pin_form_names_each_picture_once_for_screen_readers(app, ctx):
    page = app.test_client().get("/classes/login").get_data(as_text=True)
    assert page.count('type="radio"') == 4 * len(words.PICTURES)
    assert page.count("<legend>") == 4
    assert '<span class="symbol" aria-hidden="true">' in page and "<span>Sun</span>" in page
    assert re.search(r'<label class="choice"><input id="pic1-0" name="pic1" type="radio" value="sun">', page)


def test_a_whole_class_logs_in_from_one_address_within_the_rate_limit(app, ctx, database_url):
    from app import create_app
    from tests.conftest import CsrfClient, app_config

    _, school_class, cards, _ = create_class(app, make_organiser(), size=30)
    limited = create_app({**app_config(database_url, None), "AUTO_MIGRATE": False, "RATELIMIT_ENABLED": True})
    limited.test_client_class = CsrfClient
    for card in cards:
        response = limited.test_client().post("/classes/login", data={
            "code": card["code"], "card_name": card["name"], "password": card["password"]})
        assert response.status_code == 302
    limited_client = limited.test_client()
    statuses = [limited_client.post("/classes/login", data={"code": "NOPE99", "card_name": "x", "password": "y"})
                .status_code for _ in range(31)]
    assert statuses[:30] == [422] * 30 and statuses[30] == 429


# --- a class's team is closed to adults --------------------------------------------------------


def test_no_adult_gets_into_a_class_team_by_link_request_or_code(app, ctx):
    from accounts.services import ClassTeam, _add_member

    def add_directly(person):
        _add_member(db.session, team, person)

    teacher = make_organiser()
    teacher_client, school_class, cards, _ = create_class(app, teacher, size=2)
    team = db.session.get(Team, school_class.team_id)
    stranger = make_user(name="Unvetted Adult")
    with pytest.raises(ClassTeam):
        accounts.create_invite(db.session, actor=teacher, team=team)
    with pytest.raises(ClassTeam):
        accounts.regenerate_join_code(db.session, actor=teacher, team=team)
    with pytest.raises(ClassTeam):
        accounts.request_to_join(db.session, actor=stranger, team=team)
    with pytest.raises((ClassTeam, accounts.UnknownJoinCode)):  # its code was never usable
        accounts.join_team(db.session, actor=stranger, code=team.join_code)
    with pytest.raises(ClassTeam):  # whatever way an adult was let in, the last door refuses
        add_directly(stranger)
    db.session.rollback()
    members = set(db.session.scalars(select(TeamMembership.user_id).where(TeamMembership.team_id == team.id)))
    assert stranger.id not in members and len(members) == 2  # the two children (the teacher captains it)
    # The pages say so instead of offering what would be refused.
    page = teacher_client.get(f"/teams/{team.id}").get_data(as_text=True)
    assert "join with their login cards" in page and "Make an invite link" not in page
    assert teacher_client.post(f"/teams/{team.id}/invites", data={"expires": "7"}).status_code in (302, 403)
    assert db.session.scalar(select(func.count()).select_from(TeamInvite)) == 0
    stranger_page = as_user(app, stranger).get(f"/teams/{team.id}").get_data(as_text=True)
    assert "Ask to join" not in stranger_page and cards[0]["name"] not in stranger_page


def test_the_api_refuses_an_invite_link_for_a_class_team(app, client):
    from tests.api import auth

    teacher = make_organiser()
    _, school_class, _, _ = create_class(app, teacher, size=1)
    response = client.post(f"/api/v1/teams/{school_class.team_id}/invites", json={}, headers=auth(teacher))
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "class_team"


def test_a_teacher_cannot_drop_a_pupil_from_the_class_team_where_nothing_could_bring_them_back(app, ctx):
    from accounts.services import ClassTeam

    teacher = make_organiser()
    teacher_client, school_class, cards, _ = create_class(app, teacher, size=1)
    team = db.session.get(Team, school_class.team_id)
    child_id = db.session.scalar(select(ClassChild.user_id).where(ClassChild.class_id == school_class.id))
    with pytest.raises(ClassTeam):
        accounts.remove_member(db.session, actor=teacher, team=team, user_id=child_id)
    db.session.rollback()
    assert f'/teams/{team.id}/members/{child_id}/remove' not in teacher_client.get(f"/teams/{team.id}").get_data(
        as_text=True)


# --- a class is private to its class until its teacher shows it in public ------------------

def _class_team_reads(team_id: int) -> list[str]:
    return [f"/teams/{team_id}", f"/leaderboards?board=participants&window=all&team_id={team_id}",
            f"/api/v1/teams/{team_id}", f"/api/v1/teams/{team_id}/members"]


def _read_as(app, viewer, path: str):
    from tests.api import auth

    if path.startswith("/api/"):
        return app.test_client().get(path, headers=auth(viewer) if viewer else {})
    return (as_user(app, viewer) if viewer else app.test_client()).get(path)


def test_a_private_class_team_is_not_there_for_anyone_outside_its_class(app, ctx):
    teacher = make_organiser()
    teacher_client, school_class, cards, _ = create_class(app, teacher, size=2)
    child = db.session.scalar(select(User).where(User.display_name == cards[0]["name"]))
    team_id = school_class.team_id
    approve(teacher, make_claim(child, make_quest(teacher, title="Sweep the Mill Lane steps", points=30),
                                submit=True))
    missing = max(db.session.scalars(select(Team.id))) + 1
    for viewer in (None, make_user(), make_organiser()):  # a visitor, a participant, another organiser
        for path in _class_team_reads(team_id):
            response = _read_as(app, viewer, path)
            assert response.status_code == 404, (viewer, path)
            if path.startswith("/api/"):  # the same answer as for a team that does not exist
                absent = _read_as(app, viewer, path.replace(str(team_id), str(missing))).get_json()
                assert response.get_json()["error"]["code"] == absent["error"]["code"]
            assert "Year 5 Oak" not in response.get_data(as_text=True)
        listing = _read_as(app, viewer, "/teams").get_data(as_text=True)
        assert "Year 5 Oak" not in listing and f"/teams/{team_id}\"" not in listing
        for query in ("", "?name=oak", "?include_closed=true"):
            body = _read_as(app, viewer, "/api/v1/teams" + query).get_json()
            assert team_id not in [team["id"] for team in body["items"]]
    # Its teacher, a child of the class and an admin still see it.
    admin = make_user(role="admin")
    for viewer in (teacher, child, admin):
        page = _read_as(app, viewer, f"/teams/{team_id}")
        assert page.status_code == 200 and "Year 5 Oak" in page.get_data(as_text=True)
    for viewer in (teacher, admin):
        assert _read_as(app, viewer, f"/api/v1/teams/{team_id}").get_json()["name"] == "Year 5 Oak"
        assert _read_as(app, viewer, f"/api/v1/teams/{team_id}/members").status_code == 200
    # Lists leave it out for everyone, its own people too: they reach it from their dashboards.
    assert "Year 5 Oak" not in as_user(app, teacher).get("/teams").get_data(as_text=True)
    assert f"/teams/{team_id}" in teacher_client.get(f"/classes/{school_class.id}").get_data(as_text=True)


def test_a_class_shown_in_public_is_listed_and_readable_again_without_its_children(app, ctx):
    teacher_client, school_class, cards, _ = create_class(app, make_organiser(), size=2)
    team_id = school_class.team_id
    teacher_client.post(f"/classes/{school_class.id}/settings", data={"show_in_rankings": "y"})
    for viewer in (None, make_user(), make_organiser()):
        for path in _class_team_reads(team_id):
            response = _read_as(app, viewer, path)
            assert response.status_code == 200, (viewer, path)
            assert cards[0]["name"] not in response.get_data(as_text=True)
        assert "Year 5 Oak" in _read_as(app, viewer, "/teams").get_data(as_text=True)
        assert team_id in [t["id"] for t in _read_as(app, viewer, "/api/v1/teams?name=oak").get_json()["items"]]
    # Turned off again, it is private again.
    teacher_client.post(f"/classes/{school_class.id}/settings", data={})
    assert app.test_client().get(f"/teams/{team_id}").status_code == 404


def test_the_setting_says_what_it_controls(app, ctx):
    teacher_client, school_class, _, _ = create_class(app, make_organiser(), size=1)
    page = teacher_client.get(f"/classes/{school_class.id}").get_data(as_text=True)
    assert "Show the class in public (the team list, its team page and the rankings)" in page


def test_an_event_offers_a_private_class_only_to_its_teacher_and_admins(app, ctx):
    from tests.events_helpers import make_event

    teacher = make_organiser()
    create_class(app, teacher, size=1)
    make_team(make_user(), name="Harbour Heroes")
    other_organiser = make_organiser()
    event = make_event(other_organiser)
    page = as_user(app, other_organiser).get(f"/events/{event.id}").get_data(as_text=True)
    assert "Harbour Heroes" in page and "Year 5 Oak" not in page
    for insider in (teacher, make_user(role="admin")):  # the teacher as its captain
        assert "Year 5 Oak" in as_user(app, insider).get(f"/events/{event.id}").get_data(as_text=True)
