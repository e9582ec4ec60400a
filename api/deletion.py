"""Deleting your own account through the API, as the "Your data" page does: the same
service (accounts.mydata.delete_account) after the password, then the same clean-up after
the commit (accounts.erasure.forget). The account's tokens go with it, this one included.
A child's account is refused (403): their teacher erases it with the class.
"""
from __future__ import annotations

from accounts import erasure, mydata
from accounts.models import User
from api import bp
from api.auth import token_required
from api.parsing import json_body, read_fields, text
from extensions import db


@bp.delete("/me")
@token_required
def delete_me(actor: User):
    """{"password"}: 204 and the account is gone; a wrong password 422 (on `password`), a
    captain of a team with other members 409, a child's account 403."""
    values = read_fields(json_body(), {"password": text}, required=("password",))
    erased = mydata.delete_account(db.session, actor=actor, password=values["password"])
    db.session.commit()
    erasure.forget(erased)
    return "", 204, {"Cache-Control": "no-store"}
