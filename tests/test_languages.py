"""English and Welsh (README, "Languages"): the switcher, the locale choice, the catalogues."""
from __future__ import annotations

import os
import re
import time
from datetime import datetime, timezone

import pytest
from babel.dates import format_datetime
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from zoneinfo import ZoneInfo

import i18n
from accounts.models import User
from extensions import db
from tests.factories import make_claim, make_organiser, make_problem, make_quest, make_team, make_user
from timeutil import local_text

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
POT = os.path.join(ROOT, "messages.pot")
WELSH_PO = os.path.join(ROOT, "translations", "cy", "LC_MESSAGES", "messages.po")


def switch(client, locale: str, next_url: str = "/"):
    return client.post("/language", data={"locale": locale, "next": next_url})


def text_of(response) -> str:
    return response.get_data(as_text=True)


# --- every core flow in Welsh, without JavaScript -------------------------------------------

def test_switching_to_welsh_shows_welsh_on_every_core_flow_page(client, login):
    organiser, player = make_organiser(), make_user()
    problem = make_problem(make_user())
    quest = make_quest(organiser)
    claim = make_claim(player, make_quest(organiser, title="Paint the bench"))
    team = make_team(make_user())
    login(player)
    response = switch(client, "cy", "/quests")
    assert response.status_code == 302 and response.headers["Location"] == "/quests"

    pages = {
        "/quests": ["Cwestau agored", "diwrnod ar ôl", "pwynt"],
        f"/quests/{quest.id}": ["Pam mae’n bwysig", "Derbyn y cwest"],
        f"/problems/{problem.id}": ["Rwy’n gweld hyn hefyd", "Dilyn y diweddariadau", "Hanes"],
        "/problems/new": ["Rhoi gwybod am broblem", "Ble mae’r broblem?", "Lledred"],
        f"/claims/{claim.id}": ["Cyflwyno’ch tystiolaeth", "Eich tystiolaeth", "Cyflwyno i’w adolygu"],
        "/claims": ["Fy hawliadau", "derbyniwyd"],
        "/teams": ["Ymuno gyda chod", "Cod ymuno"],
        "/teams/join": ["Ymuno â thîm"],
        f"/teams/{team.id}": ["Gofyn am gael ymuno", "Ymgyrchoedd"],
    }
    for url, welsh in pages.items():
        page = text_of(client.get(url))
        assert '<html lang="cy">' in page, url
        for phrase in welsh:
            assert phrase in page, (url, phrase)
    quests = text_of(client.get("/quests"))
    assert "Open quests" not in quests and ">Problems<" not in quests

    login(organiser)
    queue = text_of(client.get("/review"))
    assert "Ciw adolygu" in queue and "Submitted claims" not in queue


def test_the_core_flows_work_and_answer_in_welsh(client, login):
    organiser, player, captain = make_organiser(), make_user(), make_user()
    problem = make_problem(make_user())
    quest = make_quest(organiser)
    team = make_team(captain)
    login(player)
    switch(client, "cy")

    confirmed = client.post(f"/problems/{problem.id}/confirm", data={}, follow_redirects=True)
    assert "Diolch: rydych chi’n cael eich cyfrif" in text_of(confirmed)
    followed = client.post(f"/problems/{problem.id}/subscribe", data={}, follow_redirects=True)
    assert "Rydych chi’n dilyn y broblem hon." in text_of(followed)

    taken = client.post(f"/quests/{quest.id}/claim", data={}, follow_redirects=True)
    assert "Cwest wedi’i dderbyn!" in text_of(taken)
    claim_id = int(re.search(r"/claims/(\d+)/submit", text_of(taken)).group(1))
    empty = client.post(f"/claims/{claim_id}/submit", data={"evidence": ""})
    assert empty.status_code == 422 and "Rhaid cwblhau" in text_of(empty)  # WTForms' own Welsh
    submitted = client.post(f"/claims/{claim_id}/submit", data={"evidence": "Dwy fag o sbwriel."},
                            follow_redirects=True)
    assert "Tystiolaeth wedi’i chyflwyno." in text_of(submitted)

    wrong = client.post("/teams/join", data={"code": "NOPE1234"})
    assert "Nid oes gan unrhyw dîm y cod ymuno hwnnw." in text_of(wrong)
    asked = client.post(f"/teams/{team.id}/requests", data={}, follow_redirects=True)
    assert "Anfonwyd eich cais" in text_of(asked) and "Gofynnoch i ymuno ar" in text_of(asked)
    joined = client.post("/teams/join", data={"code": team.join_code}, follow_redirects=True)
    assert f"Rydych chi wedi ymuno â {team.name}." in text_of(joined)

    login(organiser)
    switch(client, "cy")
    reviewed = client.post(f"/claims/{claim_id}/review", data={"decision": "approve"}, follow_redirects=True)
    assert "Hawliad wedi’i gymeradwyo." in text_of(reviewed)


def test_a_visitor_registers_and_reports_a_duplicate_in_welsh(client, login):
    existing = make_problem(make_user(), title="Golau stryd wedi diffodd", category="other",
                            lat=51.45152, lon=-2.59421)
    switch(client, "cy", "/register")
    form = text_of(client.get("/register"))
    assert "Ymuno â FixQuest" in form and "Enw arddangos" in form and "Creu fy nghyfrif" in form
    login_page = text_of(client.get("/login"))
    assert "Wedi anghofio’ch cyfrinair?" in login_page
    weak = client.post("/register", data={"display_name": "Nia", "email": "nia@example.org",
                                          "password": "short", "confirm": "short"})
    assert weak.status_code == 422 and "Defnyddiwch o leiaf" in text_of(weak)
    made = client.post("/register", data={"display_name": "Nia", "email": "nia@example.org",
                                          "password": "a long test passphrase", "confirm": "a long test passphrase"},
                       follow_redirects=True)
    assert "Croeso i FixQuest, Nia!" in text_of(made)
    step = client.post("/problems/new", data={"title": "Golau allan", "description": "Tywyll yn y nos.",
                                              "category": "other", "lat": "51.45150", "lon": "-2.59420"})
    page = text_of(step)
    assert step.status_code == 200 and "Ai un o’r rhain yw hi?" in page and "m i ffwrdd" in page
    assert "Dyma’r un broblem" in page and existing.title in page


# --- choosing the language ------------------------------------------------------------------

def test_the_choice_persists_across_requests_and_follows_the_account(app, client, login):
    player = make_user()
    switch(client, "cy")
    for url in ("/", "/quests", "/login"):
        assert '<html lang="cy">' in text_of(client.get(url))  # the visitor's cookie

    login(player)
    switch(client, "cy")
    db.session.expire_all()
    assert db.session.get(User, player.id).locale == "cy"
    other_device = app.test_client()
    with other_device.session_transaction() as sess:
        sess["_user_id"] = player.get_id()
    assert "Cwestau agored" in text_of(other_device.get("/quests"))  # no cookie there: the account's choice

    switch(client, "en")
    db.session.expire_all()
    assert db.session.get(User, player.id).locale == "en"
    assert "Open quests" in text_of(client.get("/quests"))


def test_accept_language_picks_welsh_and_an_explicit_choice_beats_it(app, client):
    page = text_of(client.get("/quests", headers={"Accept-Language": "cy-GB,cy;q=0.9,en;q=0.5"}))
    assert '<html lang="cy">' in page and "Cwestau agored" in page
    response = client.get("/quests", headers={"Accept-Language": "cy"})
    assert "Accept-Language" in response.headers["Vary"]  # a cache keeps the languages apart
    switch(client, "en")
    assert "Open quests" in text_of(client.get("/quests", headers={"Accept-Language": "cy"}))


@pytest.mark.parametrize("header", ["fr-FR,de;q=0.8", "xx", "", "*"])
def test_unknown_languages_fall_back_to_english(app, header):
    page = text_of(app.test_client().get("/quests", headers={"Accept-Language": header}))
    assert '<html lang="en-GB">' in page and "Open quests" in page


def test_an_unknown_locale_is_not_remembered(app, client):
    response = switch(client, "fr", "/quests")
    assert response.status_code == 302 and "fixquest_lang" not in response.headers.get("Set-Cookie", "")
    client.set_cookie(i18n.COOKIE, "de")  # a stale or forged cookie
    assert "Open quests" in text_of(client.get("/quests"))


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example",
                                    "javascript:alert(1)", "evil.example", ""])
def test_the_redirect_after_switching_stays_on_the_site(client, target):
    response = switch(client, "cy", target)
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_the_switch_returns_to_the_same_page_with_its_query(client, login):
    page = text_of(client.get("/quests?page=1"))  # a visitor's footer links back here
    assert 'href="/language/cy?next=/quests?page%3D1"' in page
    response = client.get("/language/cy?next=/quests?page%3D1")
    assert response.headers["Location"] == "/quests?page=1" and "fixquest_lang=cy" in response.headers["Set-Cookie"]
    login(make_user(name="Signed In"))
    page = text_of(client.get("/quests?page=1"))
    assert 'name="next" value="/quests?page=1"' in page  # a signed-in person's footer form knows where it is
    assert switch(client, "cy", "/quests?page=1").headers["Location"] == "/quests?page=1"


def test_switching_needs_the_csrf_token(client):
    response = client.post("/language", data={"locale": "cy", "next": "/"}, csrf=False)
    assert response.status_code == 400 and "fixquest_lang" not in response.headers.get("Set-Cookie", "")


def test_the_switcher_works_without_javascript(client, login):
    page = text_of(client.get("/"))  # a visitor: plain links, so the page needs no session
    switcher = re.search(r'<nav class="language-switcher" aria-labelledby="language-label">.*?</nav>', page,
                         re.S).group(0)
    assert '<a href="/language/cy?next=/" lang="cy" hreflang="cy">Cymraeg</a>' in switcher
    assert 'aria-current="true">English<' in switcher and "csrf_token" not in page
    login(make_user(name="Signed In"))
    page = text_of(client.get("/"))
    form = re.search(r'<form method="post" action="/language".*?</form>', page, re.S).group(0)
    assert 'name="csrf_token"' in form and '<button type="submit" name="locale" value="cy" lang="cy"' in form
    assert 'aria-labelledby="language-label"' in form
    assert 'aria-current="true">English<' in form


def test_a_visitor_switches_with_a_link_that_only_sets_the_cookie(app, client):
    response = client.get("/language/cy?next=/problems")
    assert response.status_code == 302 and response.headers["Location"] == "/problems"
    assert "Problemau" in text_of(client.get("/problems"))
    assert "session" not in response.headers.get("Set-Cookie", "")  # no session for a visitor
    client.get("/language/en?next=/problems")
    assert "Problems" in text_of(client.get("/problems"))


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example",
                                    "javascript:alert(1)", "evil.example", ""])
def test_the_visitors_link_stays_on_the_site(client, target):
    response = client.get("/language/cy", query_string={"next": target})
    assert response.status_code == 302 and response.headers["Location"] == "/"


@pytest.mark.parametrize("locale", ["fr", "xx", "english", "de-CY"])
def test_the_visitors_link_remembers_only_a_language_we_have(client, locale):
    response = client.get(f"/language/{locale}?next=/")
    assert response.status_code == 302 and "fixquest_lang" not in response.headers.get("Set-Cookie", "")


def test_the_visitors_link_never_changes_a_signed_in_account(client, login):
    person = make_user(name="Signed In")
    person.locale = "en"
    db.session.commit()
    login(person)
    client.get("/language/cy?next=/")
    db.session.refresh(person)
    assert person.locale == "en"  # a link from another site cannot change what the account keeps
    assert "Open quests" in text_of(client.get("/quests"))


# --- dates ----------------------------------------------------------------------------------

def test_dates_follow_the_language(app, client, login):
    problem = make_problem(make_user())
    zone = app.config["TIMEZONE"]
    english = text_of(client.get(f"/problems/{problem.id}"))
    assert local_text(problem.created_at, zone) in english  # as before translations
    switch(client, "cy")
    welsh = text_of(client.get(f"/problems/{problem.id}"))
    assert format_datetime(problem.created_at, "d MMM y, HH:mm", tzinfo=ZoneInfo(zone), locale="cy") in welsh


def test_a_welsh_date_names_the_month_in_welsh(app):
    with app.test_request_context(headers={"Accept-Language": "cy"}):
        assert i18n.localised_time(datetime(2026, 11, 27, 9, 30, tzinfo=timezone.utc)).startswith("27 Tach 2026")


# --- the catalogues -------------------------------------------------------------------------

PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
TAG = re.compile(r"</?[a-z]+")


def _welsh_catalogue():
    with open(WELSH_PO, "rb") as po:
        return read_po(po, locale="cy")


def test_every_msgid_has_a_welsh_translation_with_the_same_placeholders():
    with open(POT, "rb") as pot:
        template = read_po(pot)
    welsh = _welsh_catalogue()
    assert not welsh.fuzzy, "the header must not be fuzzy, or the catalogue is ignored"
    checked = 0
    for entry in template:
        if not entry.id:
            continue
        translated = welsh.get(entry.id)
        assert translated is not None, f"missing from cy: {entry.id!r}"
        assert not translated.fuzzy, f"fuzzy in cy (not used): {entry.id!r}"
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        strings = translated.string if isinstance(translated.string, tuple) else (translated.string,)
        assert strings and all(s.strip() for s in strings), f"empty Welsh for {entry.id!r}"
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) == wanted, f"placeholders differ: {entry.id!r} -> {string!r}"
            assert sorted(TAG.findall(string)) == sorted(TAG.findall(ids[-1])), f"HTML differs: {string!r}"
        checked += 1
    assert checked > 150


def test_the_template_holds_every_string_marked_in_the_code():
    """Run the extraction babel.cfg describes: a string marked but not in messages.pot means
    someone forgot `pybabel extract` / `update` (README, "Languages")."""
    with open(os.path.join(ROOT, "babel.cfg")) as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    skipped = {"venv", ".venv", "tests", "bench", "migrations", "instance", "node_modules"}

    def directory_filter(path: str) -> bool:
        name = os.path.basename(path)
        return not (name.startswith((".", "_")) or name in skipped)

    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT, method_map, options_map, keywords={"_": None, "gettext": None, "ngettext": (1, 2),
                                                     "_l": None, "lazy_gettext": None},
            directory_filter=directory_filter):
        found.add(message if isinstance(message, str) else message[0])
    with open(POT, "rb") as pot:
        template = {entry.id if isinstance(entry.id, str) else entry.id[0] for entry in read_po(pot) if entry.id}
    assert "Skip to content" in found and "Join code" in found and len(found) > 150  # templates and forms read
    assert sorted(found - template) == [], "run pybabel extract and update (README, Languages)"


def test_catalogues_are_compiled_when_missing_or_stale(tmp_path):
    source = tmp_path / "src" / "cy" / "LC_MESSAGES"
    source.mkdir(parents=True)
    po = source / "messages.po"
    po.write_text('msgid ""\nmsgstr "Content-Type: text/plain; charset=utf-8\\n"\n\nmsgid "Map"\nmsgstr "Map"\n',
                  encoding="utf-8")
    target = tmp_path / "compiled"
    first = i18n.compile_catalogues(str(tmp_path / "src"), str(target))
    assert first == [str(target / "cy" / "LC_MESSAGES" / "messages.mo")]
    assert i18n.compile_catalogues(str(tmp_path / "src"), str(target)) == []  # fresh: left alone
    later = time.time() + 10
    os.utime(po, (later, later))
    assert i18n.compile_catalogues(str(tmp_path / "src"), str(target)) == first  # edited: compiled again
