"""The organiser's one action on an integrity alert (the list is on the Organise page)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, url_for
from flask_login import current_user, login_required

from extensions import db
from accounts.forms import EmptyForm
from integrity import services

bp = Blueprint("integrity", __name__)


@bp.post("/organise/integrity/<int:alert_id>/reviewed")
@login_required
def mark_reviewed(alert_id: int):
    if not current_user.is_organiser:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.mark_reviewed(db.session, actor=current_user, alert=services.get_alert(db.session, alert_id))
    db.session.commit()
    flash("Alert marked reviewed.", "success")
    return redirect(url_for("web.organise"))
