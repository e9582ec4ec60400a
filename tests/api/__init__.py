"""Tests of the JSON API, with helpers the test modules share."""
from __future__ import annotations

from accounts.services import issue_token
from extensions import db


def auth(user) -> dict[str, str]:
    """Headers carrying a fresh API token for `user` (issued through the service)."""
    token = issue_token(db.session, user=user, name="tests")
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def error_of(response) -> dict:
    """The error object of an API error response, after checking its shape."""
    assert response.is_json, response.get_data(as_text=True)[:200]
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert isinstance(error["code"], str) and isinstance(error["message"], str)
    assert isinstance(error["fields"], dict)
    return error
