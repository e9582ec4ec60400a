"""Notification pages: the in-app list, delivery settings and one-click unsubscribe."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

import live
from challenges.models import Subscription
from errors import DomainError
from extensions import csrf, db
from notifications import live_inbox, services, tokens
from notifications.forms import ActionForm, DeliveryForm
from web import is_safe_next

bp = Blueprint("notifications", __name__)




def _back(default: str):
    target = request.form.get("next")
    return redirect(target if is_safe_next(target) else default)


@bp.get("/notifications")
@login_required
def index():
    page = db.paginate(services.inbox_select(current_user.id), per_page=current_app.config["PAGE_SIZE"],
                       max_per_page=100)
    return render_template("notifications/index.html", page=page, describe=services.describe_update)


@bp.get("/notifications/stream")
@login_required
def stream():
    """Your unread count and newest notifications as Server-Sent Events: only ever your
    own (the id comes from the login, not the URL)."""
    return live.stream(live_inbox.topic(current_user.id), "state", live_inbox.snapshot(current_user.id))


@bp.post("/notifications/read-all")
@login_required
def read_all():
    if ActionForm().validate_on_submit():
        services.mark_all_read(db.session, actor=current_user)
        db.session.commit()
        flash("All notifications are marked as read.", "success")
    return _back(url_for(".index"))


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def read(notification_id: int):
    if ActionForm().validate_on_submit():
        services.mark_read(db.session, actor=current_user, notification_id=notification_id)
        db.session.commit()
    return _back(url_for(".index"))


@bp.get("/notifications/settings")
@login_required
def settings():
    subscriptions = services.subscriptions_of(db.session, current_user.id)
    forms = {sub.id: DeliveryForm(formdata=None, delivery=sub.delivery, prefix=f"s{sub.id}") for sub in subscriptions}
    return render_template("notifications/settings.html", subscriptions=subscriptions, forms=forms,
                           describe=services.describe_subscription)


@bp.post("/notifications/settings/<int:subscription_id>")
@login_required
def change_delivery(subscription_id: int):
    form = DeliveryForm(prefix=f"s{subscription_id}")
    if form.validate_on_submit():
        services.set_delivery(db.session, actor=current_user, subscription_id=subscription_id,
                              delivery=form.delivery.data)
        db.session.commit()
        flash("Saved: we will tell you that way from now on.", "success")
    else:
        flash("Choose one of the ways offered.", "error")
    return redirect(url_for(".settings"))


@bp.post("/notifications/settings/<int:subscription_id>/unsubscribe")
@login_required
def unsubscribe(subscription_id: int):
    if ActionForm().validate_on_submit():
        services.unsubscribe(db.session, actor=current_user, subscription_id=subscription_id)
        db.session.commit()
        flash("Unsubscribed.", "success")
    return redirect(url_for(".settings"))


# --- one-click unsubscribe from an email (no login) -----------------------------------------

def _read_token(token: str) -> tokens.UnsubscribeRequest:
    return tokens.read_token(current_app.config["SECRET_KEY"], token,
                             max_age_days=int(current_app.config["UNSUBSCRIBE_MAX_AGE_DAYS"]))


def _invalid(error: DomainError):
    return render_template("notifications/unsubscribe_invalid.html", error=error), 400


@bp.get("/unsubscribe/<token>")
def unsubscribe_confirm(token: str):
    """Only shows what the link would stop: a GET never changes anything, because mail
    scanners and link previews fetch links nobody clicked."""
    try:
        wish = _read_token(token)
    except DomainError as error:
        return _invalid(error)
    subscription = None
    if not wish.is_digest:
        subscription = db.session.get(Subscription, wish.subscription_id)
        if subscription is None or subscription.user_id != wish.user_id:
            return render_template("notifications/unsubscribed.html", already=True, wish=wish)
    return render_template("notifications/unsubscribe.html", token=token, wish=wish,
                           what=services.describe_subscription(subscription) if subscription else None)


@bp.post("/unsubscribe/<token>")
@csrf.exempt
def unsubscribe_one_click(token: str):
    """RFC 8058 one-click unsubscribe. Exempt from CSRF, the only such cookie route: mail
    clients POST "List-Unsubscribe=One-Click" here with no session and no CSRF token. The
    signed token in the URL is itself the proof: only someone holding the email can make
    this request, and it can do one thing only, stop that email."""
    try:
        wish = _read_token(token)
    except DomainError as error:
        return _invalid(error)
    if wish.is_digest:
        services.stop_digest(db.session, user_id=wish.user_id)
        removed = True
    else:
        removed = services.remove_subscription(db.session, subscription_id=wish.subscription_id,
                                               user_id=wish.user_id)
    db.session.commit()
    return render_template("notifications/unsubscribed.html", already=not removed, wish=wish)
