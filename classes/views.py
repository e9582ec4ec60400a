"""School class pages: the teacher's classes, cards, dashboard, export and the end of the
year; the children's login and name change; the class board."""
from __future__ import annotations

from flask import (Blueprint, Response, abort, current_app, flash, make_response, redirect, render_template, request,
                   session, url_for)
from flask_login import current_user, login_required, login_user, logout_user

from accounts import erasure
from accounts.forms import EmptyForm
from classes import services, words
from classes.commands import create_command
from classes.forms import (AddChildrenForm, ChildLoginForm, ClassForm, ConfirmForm, DecisionForm, FreeNameForm,
                           SafeNameForm, SettingsForm)
from classes.models import SchoolClass
from errors import DomainError, Forbidden
from extensions import db
from scoring.badges import catalogue
from web import apply_errors, flash_form_errors

bp = Blueprint("classes", __name__, url_prefix="/classes")
bp.cli.add_command(create_command)  # flask --app app classes create ...


@bp.before_app_request
def end_archived_sessions():
    """A child of a class archived since they logged in is logged out at their next request
    (costs nothing for grown-ups: their account is loaded for the page anyway)."""
    if request.endpoint == "static" or "_user_id" not in session:
        return None
    if current_user.is_authenticated and current_user.is_child and services.is_archived_child(db.session,
                                                                                              current_user.id):
        logout_user()
        session.clear()
        flash("Your class has been archived, so its accounts can no longer be used.", "info")
        return redirect(url_for("classes.login"))
    return None


def _hash_method() -> str:
    return current_app.config["PASSWORD_HASH_METHOD"]


def _teacher_class(class_id: int) -> SchoolClass:
    return services.class_for_teacher(db.session, actor=current_user, class_id=class_id)


def _cards_page(school_class: SchoolClass, cards: list[services.Card], heading: str):
    """Cards carry secrets that exist only in this response: never cached, never stored."""
    response = make_response(render_template("classes/cards.html", school_class=school_class, cards=cards,
                                             heading=heading))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/")
@login_required
def index():
    if not current_user.is_organiser:
        raise Forbidden("run school classes", "teachers need an organiser account.")
    return render_template("classes/index.html", classes=services.classes_of_teacher(db.session, current_user.id))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new_class():
    if not current_user.is_organiser:
        raise Forbidden("create a class", "teachers need an organiser account.")
    form = ClassForm()
    if form.validate_on_submit():
        try:
            school_class, cards = services.create_class(db.session, actor=current_user, name=form.name.data,
                                                        size=form.size.data, secret_kind=form.secret_kind.data,
                                                        hash_method=_hash_method())
        except DomainError as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            return _cards_page(school_class, cards, "Your class is ready: print the login cards now")
    return render_template("classes/new.html", form=form), 422 if form.errors else 200


@bp.get("/<int:class_id>")
@login_required
def dashboard(class_id: int):
    school_class = _teacher_class(class_id)
    board = services.dashboard(db.session, actor=current_user, school_class=school_class)
    badge_names = {code: badge.name for code, badge in catalogue(tuple(current_app.config["CATEGORIES"])).items()}
    return render_template("classes/dashboard.html", board=board, school_class=school_class, badge_names=badge_names,
                           add_form=AddChildrenForm(), action_form=ConfirmForm(), decision_form=DecisionForm(),
                           settings_form=SettingsForm(obj=school_class))


@bp.post("/<int:class_id>/children")
@login_required
def add_children(class_id: int):
    school_class = _teacher_class(class_id)
    form = AddChildrenForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(url_for("classes.dashboard", class_id=class_id))
    try:
        cards = services.add_children(db.session, actor=current_user, school_class=school_class,
                                      count=form.count.data, hash_method=_hash_method())
    except DomainError as error:
        db.session.rollback()
        flash(" ".join(m for messages in error.fields.values() for m in messages) or error.message, "error")
        return redirect(url_for("classes.dashboard", class_id=class_id))
    db.session.commit()
    return _cards_page(school_class, cards, "New children: print their login cards now")


@bp.post("/<int:class_id>/reset")
@bp.post("/<int:class_id>/children/<int:child_id>/reset")
@login_required
def reset(class_id: int, child_id: int | None = None):
    school_class = _teacher_class(class_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    cards = services.reset_secrets(db.session, actor=current_user, school_class=school_class,
                                   child_ids=None if child_id is None else [child_id], hash_method=_hash_method())
    db.session.commit()
    return _cards_page(school_class, cards, "New login cards: the old ones no longer work")


@bp.post("/<int:class_id>/settings")
@login_required
def settings(class_id: int):
    school_class = _teacher_class(class_id)
    form = SettingsForm()
    if not form.validate_on_submit():
        abort(400)
    services.update_settings(db.session, actor=current_user, school_class=school_class,
                             streaks_enabled=form.streaks_enabled.data, show_in_rankings=form.show_in_rankings.data)
    db.session.commit()
    flash("Class settings saved.", "success")
    return redirect(url_for("classes.dashboard", class_id=class_id))


@bp.post("/<int:class_id>/names/<int:request_id>")
@login_required
def decide_name(class_id: int, request_id: int):
    school_class = _teacher_class(class_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(url_for("classes.dashboard", class_id=class_id))
    decided = services.decide_name(db.session, actor=current_user, school_class=school_class, request_id=request_id,
                                   approve=form.decision.data == "approve")
    db.session.commit()
    flash(f"\u201c{decided.requested_name}\u201d {decided.status}.", "success")
    return redirect(url_for("classes.dashboard", class_id=class_id))


@bp.get("/<int:class_id>/export.csv")
@login_required
def export(class_id: int):
    school_class = _teacher_class(class_id)
    body = services.export_csv(db.session, actor=current_user, school_class=school_class)
    filename = services.export_filename(school_class)
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "private, no-store"})


@bp.post("/<int:class_id>/archive")
@login_required
def archive(class_id: int):
    school_class = _teacher_class(class_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(url_for("classes.dashboard", class_id=class_id))
    services.archive_class(db.session, actor=current_user, school_class=school_class)
    db.session.commit()
    flash("Class archived: it is read-only and its children can no longer log in.", "success")
    return redirect(url_for("classes.dashboard", class_id=class_id))


@bp.post("/<int:class_id>/delete-children")
@login_required
def delete_children(class_id: int):
    school_class = _teacher_class(class_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(url_for("classes.dashboard", class_id=class_id))
    deletion = services.delete_children(db.session, actor=current_user, school_class=school_class)
    db.session.commit()
    erasure.forget(deletion)
    flash(f"{deletion.children} children's accounts deleted. The class's points are kept.", "success")
    return redirect(url_for("classes.dashboard", class_id=class_id))


@bp.get("/<int:class_id>/board")
@login_required
def board(class_id: int):
    school_class = services.get_class(db.session, class_id)
    window = request.args.get("window", "all")
    if window not in ("all", "week", "month"):
        window = "all"
    resolved = current_app.extensions["fixquest.leaderboard"].calendar.resolve(window)
    rows = services.class_board(db.session, viewer=current_user, school_class=school_class, window=resolved)
    return render_template("classes/board.html", school_class=school_class, rows=rows, window=window,
                           team_points=services.team_points(db.session, school_class))


# --- children ------------------------------------------------------------------------------

@bp.get("/mine")
@login_required
def mine():
    """A child's own class: its board, with a link to change their name."""
    school_class = services.class_of_child(db.session, current_user.id)
    if school_class is None:
        abort(404)
    return redirect(url_for("classes.board", class_id=school_class.id))


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = ChildLoginForm()
    if form.validate_on_submit():
        try:
            child = services.authenticate_child(db.session, code=form.code.data, card_name=form.card_name.data,
                                                password=form.password.data, pictures=form.pictures,
                                                hash_method=_hash_method())
        except DomainError as error:
            db.session.commit()  # keeps the count of wrong tries
            form.card_name.errors = [error.message]
        else:
            db.session.commit()
            session.clear()  # a fresh session at login: no fixation
            login_user(child)
            flash(f"Hello, {child.display_name}! Pick a quest to get started.", "success")
            return redirect(url_for("challenges.quests"))
    return render_template("classes/login.html", form=form, symbols=words.PICTURE_SYMBOLS), 422 if form.errors else 200


@bp.route("/my-name", methods=["GET", "POST"])
@login_required
def my_name():
    if not current_user.is_child:
        raise services.NotAChild()
    safe_form, free_form = SafeNameForm(), FreeNameForm()
    chosen = safe_form if "adjective" in request.form else free_form
    if chosen.validate_on_submit():
        try:
            message = _change_name(chosen)
        except DomainError as error:
            db.session.rollback()
            apply_errors(chosen, error)
        else:
            db.session.commit()
            flash(message, "success")
            return redirect(url_for("classes.my_name"))
    pending = services.pending_name_of(db.session, current_user.id)
    return render_template("classes/my_name.html", safe_form=safe_form, free_form=free_form, pending=pending), \
        422 if safe_form.errors or free_form.errors else 200


def _change_name(form) -> str:
    """A name from the safe lists applies at once; a name of one's own waits for the teacher."""
    if isinstance(form, SafeNameForm):
        services.choose_safe_name(db.session, actor=current_user, adjective=form.adjective.data, noun=form.noun.data)
        return f"You are now {current_user.display_name}."
    services.request_name(db.session, actor=current_user, name=form.name.data)
    return "Your teacher will check your new name soon."
