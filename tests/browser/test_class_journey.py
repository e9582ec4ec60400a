"""A teacher creates a class with picture-PIN cards; a child logs in with the first card."""
from __future__ import annotations

from tests.browser.conftest import check_accessibility, log_in, shoot, visit
from tests.factories import make_organiser

ORDINALS = ("First picture", "Second picture", "Third picture", "Fourth picture")


def test_a_teacher_creates_a_class_and_a_child_logs_in_with_a_picture_card(person):
    teacher = make_organiser(name="Ms Rivers")

    page = person()
    log_in(page, teacher)
    visit(page, "/classes/new")
    page.get_by_label("Class name").fill("Year 5 Oak, Hillside Primary")
    page.get_by_label("Number of children").fill("3")
    page.get_by_role("radio", name="Picture-PINs").check()
    page.get_by_role("button", name="Create the class and its cards").click()
    cards = page.get_by_role("list", name="Login cards")
    cards.wait_for()
    check_accessibility(page)  # the cards page is shown once, as the POST's answer
    assert cards.get_by_role("listitem").and_(page.locator(".login-card")).count() == 3
    card = page.locator(".login-card").first
    card_name = card.get_by_role("heading").inner_text()
    class_code = card.locator("dt:text-is('Class code') + dd").inner_text()
    pictures = card.locator("ol.pin > li").evaluate_all(
        "items => items.map(li => li.lastChild.textContent.trim())")
    assert len(pictures) == 4
    page.get_by_role("link", name="Back to the class").click()
    visit(page, page.url)
    shoot(page, "class-dashboard")

    child = person(viewport={"width": 375, "height": 812})
    visit(child, "/classes/login")
    child.get_by_label("Class code").fill(class_code)
    child.get_by_label("Your name on the card").fill(card_name)
    for ordinal, picture in zip(ORDINALS, pictures):
        child.get_by_role("group", name=ordinal).get_by_role("radio", name=picture, exact=True).check()
    child.get_by_role("main").get_by_role("button", name="Log in").click()
    child.get_by_text(f"Hello, {card_name}!", exact=False).wait_for()
    assert child.get_by_role("banner").get_by_text(card_name).count() >= 1  # logged in as the child
    visit(child, child.url)
    shoot(child, "class-child-quests")
