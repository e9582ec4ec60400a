"""Kudos: thanking the people behind an approved fix, once each, never your own, no points."""
from __future__ import annotations

from sqlalchemy import func, select

from accounts import kudos
from accounts.models import Kudos
from childsafe import services as childsafe
from extensions import db
from scoring.models import LedgerEntry
from tests.api import auth, error_of
from tests.factories import approve, make_claim, make_organiser, make_quest, make_team, make_user
from tests.querycount import counting


def count_kudos() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Kudos))


def ledger_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(LedgerEntry))


def approved_fix(player, *, title="Clear the bus stop litter", team=None, teacher=None):
    """An approved fix; a child's evidence is first released by their `teacher`."""
    organiser = make_organiser()
    quest = make_quest(organiser, title=title, mode="team" if team else "solo")
    claim = make_claim(player, quest, team=team, submit=True)
    if teacher is not None:
        childsafe.decide(db.session, actor=teacher, hold=childsafe.hold_of(db.session, claim.id), decision="approve")
        db.session.commit()
    return approve(organiser, claim)


def child(name: str):
    user = make_user(name=name)
    user.is_child = True
    db.session.commit()
    return user


def test_thanks_from_a_profile_show_there_and_on_the_fix_and_pay_nothing(client, login):
    fixer, fan = make_user(name="Robin Fixer"), make_user(name="Grateful Neighbour")
    claim = approved_fix(fixer, title="Sweep the underpass")
    points_before = ledger_rows()
    login(fan)
    profile = client.get(f"/people/{fixer.id}").get_data(as_text=True)
    assert "Thank Robin Fixer" in profile and "No thanks yet." in profile
    response = client.post(f"/claims/{claim.id}/kudos", data={"next": f"/people/{fixer.id}"})
    assert response.status_code == 302 and response.headers["Location"] == f"/people/{fixer.id}"
    assert count_kudos() == 1 and ledger_rows() == points_before

    profile = client.get(f"/people/{fixer.id}").get_data(as_text=True)
    assert "<strong>1</strong> thank-you for their fixes" in profile
    assert "Grateful Neighbour said thank you for" in profile and "Sweep the underpass" in profile
    assert '<span class="tag">thanked</span>' in profile
    login(fixer)
    page = client.get(f"/claims/{claim.id}").get_data(as_text=True)
    assert "1 person has said thank you for this fix: Grateful Neighbour." in page
    assert "Say thank you" not in page  # not for your own fix


def test_thanking_twice_says_so_and_keeps_one(client, login):
    claim = approved_fix(make_user())
    login(make_user())
    client.post(f"/claims/{claim.id}/kudos", data={})
    response = client.post(f"/claims/{claim.id}/kudos", data={}, headers={"Referer": "/quests"},
                           follow_redirects=True)
    assert "You have already thanked them for this fix." in response.get_data(as_text=True)
    assert count_kudos() == 1


def test_nobody_thanks_their_own_fix(client, login):
    fixer = make_user()
    claim = approved_fix(fixer)
    login(fixer)
    assert client.post(f"/claims/{claim.id}/kudos", data={}).status_code == 403
    assert count_kudos() == 0


def test_team_members_who_took_part_cannot_thank_it_but_teammates_who_did_not_can(client, login, ctx):
    captain, helper, bystander = make_user(), make_user(), make_user()
    team = make_team(captain, members=(helper, bystander))
    organiser = make_organiser()
    claim = make_claim(captain, make_quest(organiser, mode="team"), team=team)
    from challenges.services import submit_evidence
    submit_evidence(db.session, actor=captain, claim=claim, evidence="Done together.",
                    members=[captain.id, helper.id])
    db.session.commit()
    approve(organiser, claim)
    login(helper)
    assert client.post(f"/claims/{claim.id}/kudos", data={}).status_code == 403
    login(bystander)
    assert "Say thank you" in client.get(f"/claims/{claim.id}").get_data(as_text=True)
    client.post(f"/claims/{claim.id}/kudos", data={})
    assert count_kudos() == 1


def test_only_approved_fixes_can_be_thanked(client, login):
    organiser, player = make_organiser(), make_user()
    claim = make_claim(player, make_quest(organiser), submit=True)
    login(make_user())
    response = client.post(f"/claims/{claim.id}/kudos", data={}, headers={"Referer": "/quests"},
                           follow_redirects=True)
    assert "Only approved fixes can be thanked." in response.get_data(as_text=True)
    assert count_kudos() == 0


def test_kudos_need_a_login_and_the_csrf_token(client, login):
    claim = approved_fix(make_user())
    assert client.post(f"/claims/{claim.id}/kudos", data={}).status_code == 302  # to the login page
    login(make_user())
    assert client.post(f"/claims/{claim.id}/kudos", data={}, csrf=False).status_code == 400
    assert client.post("/claims/999999/kudos", data={}).status_code == 404
    assert count_kudos() == 0


def test_a_childs_fix_is_never_thanked_or_shown_in_public(client, login, ctx):
    teacher = make_organiser(name="Ms Teacher")
    kid = child("Kid Named Jo")
    team = make_team(teacher, members=(kid,))
    claim = approved_fix(kid, title="Kid's quest", team=team, teacher=teacher)
    stranger = make_user()
    login(stranger)
    assert client.post(f"/claims/{claim.id}/kudos", data={}).status_code == 404
    assert client.post(f"/api/v1/claims/{claim.id}/kudos", headers=auth(stranger)).status_code == 404
    login(teacher)  # the teacher sees the claim, and may thank it there
    client.post(f"/claims/{claim.id}/kudos", data={})
    assert count_kudos() == 1
    html = client.get(f"/people/{kid.id}").get_data(as_text=True)
    assert "Thanks received" not in html
    assert kudos.for_profile(db.session, kid, stranger) is None


def test_a_child_giver_is_counted_not_named_in_public(client, login, ctx):
    fixer = make_user(name="Adult Fixer")
    claim = approved_fix(fixer)
    kid = child("Kid Named Lee")
    kudos.give_kudos(db.session, actor=kid, claim=claim)
    kudos.give_kudos(db.session, actor=make_user(name="Named Fan"), claim=claim)
    db.session.commit()
    html = client.get(f"/people/{fixer.id}").get_data(as_text=True)
    assert "<strong>2</strong> thank-yous" in html
    assert "Someone said thank you" in html and "Named Fan said thank you" in html
    assert "Kid Named Lee" not in html
    login(fixer)
    page = client.get(f"/claims/{claim.id}").get_data(as_text=True)
    assert "2 people have said thank you for this fix: Named Fan and 1 more." in page


def test_profile_shows_no_thank_buttons_to_the_person_or_logged_out_visitors(client, login):
    fixer = make_user(name="Robin Fixer")
    approved_fix(fixer)
    assert "Thank Robin Fixer" not in client.get(f"/people/{fixer.id}").get_data(as_text=True)
    login(fixer)
    assert "Thank Robin Fixer" not in client.get(f"/people/{fixer.id}").get_data(as_text=True)


def test_api_kudos(client, ctx):
    fixer, fan = make_user(), make_user()
    claim = approved_fix(fixer)
    response = client.post(f"/api/v1/claims/{claim.id}/kudos", headers=auth(fan))
    assert response.status_code == 201 and response.get_json() == {"claim_id": claim.id, "kudos_count": 1}
    again = client.post(f"/api/v1/claims/{claim.id}/kudos", headers=auth(fan))
    assert again.status_code == 409 and error_of(again)["code"] == "already_thanked"
    own = client.post(f"/api/v1/claims/{claim.id}/kudos", headers=auth(fixer))
    assert own.status_code == 403 and error_of(own)["code"] == "forbidden"
    assert client.post(f"/api/v1/claims/{claim.id}/kudos").status_code == 401
    assert count_kudos() == 1


def test_profile_and_fix_queries_do_not_grow_with_kudos(client, login, ctx):
    counts = []
    viewer = make_user()
    login(viewer)
    for givers in (1, 6):
        fixer = make_user()
        claims = [approved_fix(fixer, title=f"Fix {n}") for n in range(3)]
        for _ in range(givers):
            giver = make_user()
            for claim in claims:
                kudos.give_kudos(db.session, actor=giver, claim=claim)
        db.session.commit()
        with counting(db.engine) as profile:
            assert client.get(f"/people/{fixer.id}").status_code == 200
        counts.append(len(profile))
    assert counts[0] == counts[1], counts
