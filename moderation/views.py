"""Pages: flagging, the moderators' queue, suspensions, the word list and the audit log."""
from __future__ import annotations

import csv
import io

from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template, request,
                   url_for)
from flask_login import current_user, login_required

from accounts.models import User
from errors import DomainError, Forbidden
from extensions import db
from forms import to_utc
from moderation import audit, services, suspension, wordlist
from moderation.audit import Action
from moderation.forms import DecisionForm, FlagForm, LiftForm, SuspendForm, WordForm
from moderation.labels import Names, labeller, noter
from moderation.models import REASON_LABELS, Kind
from spreadsheet import safe_cell
from timeutil import isoformat
from web import apply_errors

bp = Blueprint("moderation", __name__)

DECISIONS = {"hide": services.hide, "restore": services.restore, "dismiss": services.dismiss,
             "release": services.release}


@bp.record_once
def _setup(state) -> None:
    from moderation.visibility import evidence_visible, may_see, problem_visible, profile_visible, update_visible

    app = state.app
    for helper in (may_see, problem_visible, update_visible, evidence_visible, profile_visible):
        app.add_template_global(helper)

    @app.template_global()
    def moderation_state(kind: str, object_id: int):
        """Why an item is hidden or held, for its owner's and moderators' note."""
        return services.state_of(db.session, kind, object_id)

    @app.template_global()
    def may_flag(owner_id: int | None) -> bool:
        return (current_user.is_authenticated and not current_user.is_child
                and current_user.id != owner_id)


def _require_moderator() -> None:
    if not current_user.is_organiser:
        raise Forbidden("moderate content", "only organisers and admins moderate.")


def _require_admin() -> None:
    if not current_user.is_admin:
        raise Forbidden("do that", "it is for admins.")


def _item_from_args():
    kind = request.args.get("kind", "")
    object_id = request.args.get("id", "")
    if kind not in {k.value for k in Kind} or not object_id.isdigit() or len(object_id) > 18:
        abort(404)
    return services.flaggable(db.session, actor=current_user, kind=kind, object_id=int(object_id))


# --- flagging --------------------------------------------------------------------------------

@bp.route("/flag", methods=["GET", "POST"])
@login_required
def flag():
    """?kind=problem|update|evidence|profile&id=N: tell the moderators something is abusive."""
    item = _item_from_args()
    form = FlagForm()
    if form.validate_on_submit():
        try:
            services.flag(db.session, actor=current_user, kind=item.kind, object_id=item.object_id,
                          reason=form.reason.data, text=form.text.data)
        except DomainError as error:
            if error.status == 403 and not error.fields:
                raise
            if error.fields:
                apply_errors(form, error)
            else:
                form.reason.errors = [*form.reason.errors, error.message]
        else:
            db.session.commit()
            flash("Thank you: a moderator will look at it.", "success")
            endpoint, values = item.url_args
            return redirect(url_for(endpoint, **values))
    return render_template("moderation/flag.html", item=item, form=form), 422 if form.errors else 200


# --- the queue -------------------------------------------------------------------------------

@bp.get("/moderate")
@login_required
def queue():
    _require_moderator()
    return render_template("moderation/queue.html", flagged=services.flag_queue(db.session, actor=current_user),
                           held=services.held_queue(db.session, actor=current_user), form=DecisionForm(),
                           reason_labels=REASON_LABELS, quote=labeller(current_user),
                           notes_of=noter(current_user))


@bp.post("/moderate/<any(problem,update,evidence,profile):kind>/<int:object_id>/"
         "<any(hide,restore,dismiss,release):verdict>")
@login_required
def decide(kind: str, object_id: int, verdict: str):
    _require_moderator()
    form = DecisionForm()
    if not form.validate_on_submit():
        flash("Keep the reason to 500 characters or fewer.", "error")
        return redirect(url_for("moderation.queue"))
    try:
        DECISIONS[verdict](db.session, actor=current_user, kind=kind, object_id=object_id, reason=form.reason.data)
    except DomainError as error:
        if error.status in (403, 404):
            raise
        flash(" ".join(m for ms in error.fields.values() for m in ms) or error.message, "error")
    else:
        db.session.commit()
        flash({"hide": "Hidden.", "restore": "Restored.", "dismiss": "Flags dismissed.",
               "release": "Released: it is public now."}[verdict], "success")
    target = request.form.get("next", "")
    from web import is_safe_next
    return redirect(target if is_safe_next(target) else url_for("moderation.queue"))


# --- suspensions -----------------------------------------------------------------------------

@bp.route("/admin/users/<int:user_id>/suspend", methods=["GET", "POST"])
@login_required
def suspend(user_id: int):
    _require_admin()
    user = db.get_or_404(User, user_id)
    form = SuspendForm()
    if form.validate_on_submit():
        try:
            suspension.suspend(db.session, actor=current_user, user=user, reason=form.reason.data,
                               until=to_utc(form.until.data, current_app.config["TIMEZONE"]))
        except DomainError as error:
            if error.status == 403:
                raise
            apply_errors(form, error)
        else:
            db.session.commit()
            flash(f"{Names(current_user)(user)} is suspended; their sessions have ended.", "success")
            return redirect(url_for("accounts.admin_users"))
    return render_template("moderation/suspend.html", user=user, name=Names(current_user)(user), form=form,
                           lift_form=LiftForm()), \
        422 if form.errors else 200


@bp.post("/admin/users/<int:user_id>/lift")
@login_required
def lift(user_id: int):
    _require_admin()
    user = db.get_or_404(User, user_id)
    form = LiftForm()
    if not form.validate_on_submit():
        abort(400)
    suspension.lift(db.session, actor=current_user, user=user, reason=form.reason.data)
    db.session.commit()
    flash(f"{Names(current_user)(user)}'s suspension is lifted.", "success")
    return redirect(url_for("accounts.admin_users"))


# --- the word list ---------------------------------------------------------------------------

@bp.route("/admin/words", methods=["GET", "POST"])
@login_required
def words():
    _require_admin()
    form = WordForm()
    if form.validate_on_submit():
        try:
            wordlist.add_word(db.session, actor=current_user, word=form.word.data)
        except DomainError as error:
            if error.status == 403:
                raise
            if error.fields:
                apply_errors(form, error)
            else:
                form.word.errors = [*form.word.errors, error.message]
        else:
            db.session.commit()
            flash("Added: new posts containing it are held for review.", "success")
            return redirect(url_for("moderation.words"))
    listed = wordlist.admin_list(db.session, actor=current_user)
    return render_template("moderation/words.html", form=form, listed=listed, remove_form=LiftForm(),
                           configured=wordlist.configured_words()), 422 if form.errors else 200


@bp.post("/admin/words/<int:word_id>/delete")
@login_required
def remove_word(word_id: int):
    _require_admin()
    if not LiftForm().validate_on_submit():
        abort(400)
    word = wordlist.remove_word(db.session, actor=current_user, word_id=word_id)
    db.session.commit()
    flash(f"\u201c{word}\u201d is off the list.", "success")
    return redirect(url_for("moderation.words"))


# --- the audit log ---------------------------------------------------------------------------

def _action_arg() -> str | None:
    action = request.args.get("action") or None
    return action if action in {a.value for a in Action} else None


@bp.get("/admin/audit")
@login_required
def audit_log():
    action = _action_arg()
    page = db.paginate(audit.log_select(actor=current_user, action=action), max_per_page=100)
    return render_template("moderation/audit.html", page=page, action=action, actions=[a.value for a in Action])


CSV_COLUMNS = ("id", "when", "actor_id", "actor", "action", "object_kind", "object_id", "reason", "detail")


@bp.get("/admin/audit.csv")
@login_required
def audit_csv():
    stmt = audit.log_select(actor=current_user, action=_action_arg())

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for entry in db.session.scalars(stmt):
        writer.writerow([safe_cell(v) for v in (
            entry.id, isoformat(entry.created_at), entry.actor_id,
            entry.actor.display_name if entry.actor else ("command line" if entry.actor_id is None else "deleted account"), entry.action, entry.object_kind,
            entry.object_id, entry.reason, entry.detail)])
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="audit-log.csv"'})
