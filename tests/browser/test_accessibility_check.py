"""The accessibility check itself: it must catch a violation, or a green run proves nothing."""
from __future__ import annotations

import pytest

from tests.browser.conftest import check_accessibility, visit


def test_the_check_fails_on_an_unlabelled_field(person):
    page = visit(person(), "/")
    page.evaluate("() => document.querySelector('main').append(document.createElement('input'))")
    with pytest.raises(AssertionError, match="label"):
        check_accessibility(page)
