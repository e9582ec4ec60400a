"""Webhook pages for organisers and admins: register, list, delivery log, test ping,
re-enable, rotate or show the secret, delete; admins allow private addresses."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from errors import DomainError
from extensions import db
from web import apply_errors, flash_form_errors
from webhooks import commands, services
from webhooks.forms import ActionForm, AllowPrivateForm, WebhookForm

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks", cli_group="webhooks")
commands.register(bp.cli)


@bp.record_once
def _install(state) -> None:
    services.install()


@bp.before_request
@login_required
def _organisers_only():
    if not services.may_register(current_user):
        abort(403)


def _no_store(response):
    """Pages that show a signing secret are never cached."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _detail(webhook, *, secret: str | None = None, status: int = 200):
    deliveries = services.deliveries_of(db.session, webhook)
    page = render_template("webhooks/detail.html", webhook=webhook, deliveries=deliveries, secret=secret,
                           events=services.EVENTS,
                           private_form=AllowPrivateForm(formdata=None, allow_private=webhook.allow_private))
    return _no_store(current_app.make_response((page, status)))


def _secret(webhook) -> str:
    return services.secret_for(webhook, services.signing_key(current_app.config))


@bp.get("")
def index():
    return render_template("webhooks/index.html", webhooks=services.webhooks_of(db.session, actor=current_user),
                           events=services.EVENTS)


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = WebhookForm()
    if form.validate_on_submit():
        try:
            webhook = services.register(db.session, actor=current_user, url=form.url.data or "",
                                        events=form.events.data or [], description=form.description.data,
                                        allow_private=bool(form.allow_private.data))
        except DomainError as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            flash("Webhook registered. Copy its signing secret now and keep it safe.", "success")
            return _detail(webhook, secret=_secret(webhook), status=201)
    return render_template("webhooks/new.html", form=form), 422 if form.errors else 200


@bp.get("/<int:webhook_id>")
def detail(webhook_id: int):
    return _detail(services.get_webhook(db.session, actor=current_user, webhook_id=webhook_id))


@bp.post("/<int:webhook_id>/secret")
def show_secret(webhook_id: int):
    webhook = services.get_webhook(db.session, actor=current_user, webhook_id=webhook_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    return _detail(webhook, secret=_secret(webhook))


@bp.post("/<int:webhook_id>/secret/rotate")
def rotate_secret(webhook_id: int):
    webhook = services.get_webhook(db.session, actor=current_user, webhook_id=webhook_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    services.rotate_secret(db.session, actor=current_user, webhook=webhook)
    db.session.commit()
    flash("New signing secret made: the old one no longer signs deliveries.", "success")
    return _detail(webhook, secret=_secret(webhook))


def _act(webhook_id: int, action, message: str):
    """A one-button action on one webhook, then back to its page."""
    webhook = services.get_webhook(db.session, actor=current_user, webhook_id=webhook_id)
    form = ActionForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(url_for(".detail", webhook_id=webhook_id))
    action(webhook)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for(".detail", webhook_id=webhook_id))


@bp.post("/<int:webhook_id>/ping")
def ping(webhook_id: int):
    return _act(webhook_id, lambda w: services.ping(db.session, actor=current_user, webhook=w),
                "Test ping queued: it appears in the log below once sent.")


@bp.post("/<int:webhook_id>/enable")
def enable(webhook_id: int):
    return _act(webhook_id, lambda w: services.enable(db.session, actor=current_user, webhook=w),
                "Webhook enabled again; waiting deliveries go out now.")


@bp.post("/<int:webhook_id>/allow-private")
def allow_private(webhook_id: int):
    webhook = services.get_webhook(db.session, actor=current_user, webhook_id=webhook_id)
    form = AllowPrivateForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
    else:
        services.set_allow_private(db.session, actor=current_user, webhook=webhook, allow=form.allow_private.data)
        db.session.commit()
        flash("Private addresses are " + ("allowed" if webhook.allow_private else "refused") + " for this webhook.",
              "success")
    return redirect(url_for(".detail", webhook_id=webhook_id))


@bp.post("/<int:webhook_id>/delete")
def delete(webhook_id: int):
    webhook = services.get_webhook(db.session, actor=current_user, webhook_id=webhook_id)
    form = ActionForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(url_for(".detail", webhook_id=webhook_id))
    services.remove(db.session, actor=current_user, webhook=webhook)
    db.session.commit()
    flash("Webhook deleted, with its delivery log.", "success")
    return redirect(url_for(".index"))
