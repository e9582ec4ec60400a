"""Pages for accounts, teams and role administration."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from accounts import rules, services
from accounts.forms import CaptainForm, EmptyForm, JoinTeamForm, LoginForm, RegisterForm, RoleForm, TeamForm
from accounts.models import Team, TeamMembership, User
from childsafe.policy import ChildRefused, refuse_public, visible_members
from errors import DomainError
from extensions import db
from web import add_rule_errors, apply_errors, is_safe_next

bp = Blueprint("accounts", __name__)


def _start_session(user: User) -> None:
    session.clear()  # a fresh session at login: no fixation
    login_user(user)


@bp.route("/register", methods=["GET", "POST"])
def register():
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = services.create_user(db.session, email=form.email.data, password=form.password.data,
                                        display_name=form.display_name.data,
                                        min_password=current_app.config["MIN_PASSWORD_LENGTH"],
                                        hash_method=current_app.config["PASSWORD_HASH_METHOD"])
        except DomainError as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            _start_session(user)
            flash(f"Welcome to FixQuest, {user.display_name}! Pick a quest near you to get started.", "success")
            return redirect(url_for("challenges.quests"))
    elif form.is_submitted():
        add_rule_errors(form, rules.account_problems(
            email=form.email.data, password=form.password.data, display_name=form.display_name.data,
            min_length=current_app.config["MIN_PASSWORD_LENGTH"]))
    return render_template("accounts/register.html", form=form), 422 if form.errors else 200


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            user = services.authenticate(db.session, email=form.email.data, password=form.password.data,
                                         hash_method=current_app.config["PASSWORD_HASH_METHOD"])
        except DomainError as error:
            form.password.errors = [error.message]
        else:
            _start_session(user)
            flash(f"Welcome back, {user.display_name}.", "success")
            target = form.next.data
            return redirect(target if is_safe_next(target) else url_for("web.home"))
    return render_template("accounts/login.html", form=form), 422 if form.errors else 200


@bp.post("/logout")
def logout():
    if not EmptyForm().validate_on_submit():
        abort(400)
    logout_user()
    session.clear()
    flash("You have logged out.", "info")
    return redirect(url_for("web.home"))


# --- teams ---------------------------------------------------------------------------------

@bp.get("/teams")
def teams():
    from scoring.views import board_rows

    all_teams = db.session.scalars(select(Team).order_by(Team.name)).all()
    return render_template("accounts/teams.html", teams=all_teams, standings=board_rows("teams", limit=10),
                           join_form=JoinTeamForm())


@bp.route("/teams/new", methods=["GET", "POST"])
@login_required
def new_team():
    refuse_public(current_user, "start a team")
    form = TeamForm()
    if form.validate_on_submit():
        try:
            team = services.create_team(db.session, actor=current_user, name=form.name.data)
        except DomainError as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            flash(f"Team created. Share the join code {team.join_code} with your members.", "success")
            return redirect(url_for("accounts.team", team_id=team.id))
    return render_template("accounts/team_new.html", form=form), 422 if form.errors else 200


@bp.get("/teams/<int:team_id>")
def team(team_id: int):
    team = db.session.scalar(select(Team).where(Team.id == team_id).options(
        selectinload(Team.memberships).selectinload(TeamMembership.user)))
    if team is None:
        abort(404)
    standing = current_app.extensions["fixquest.leaderboard"].standing_of("teams", team.id)
    is_member = current_user.is_authenticated and any(m.user_id == current_user.id for m in team.memberships)
    captain_form = CaptainForm()
    captain_form.new_captain_id.choices = [(m.user_id, m.user.display_name) for m in team.memberships
                                           if m.user_id != team.captain_id]
    members, private_members = visible_members(current_user, team)
    return render_template("accounts/team.html", team=team, standing=standing, is_member=is_member,
                           action_form=EmptyForm(), captain_form=captain_form, members=members,
                           private_members=private_members)


@bp.route("/teams/join", methods=["GET", "POST"])
@login_required
def join_team():
    form = JoinTeamForm()
    if form.validate_on_submit():
        try:
            team = services.join_team(db.session, actor=current_user, code=form.code.data)
        except ChildRefused:
            db.session.rollback()
            raise  # a 403 page that says why
        except DomainError as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            flash(f"You joined {team.name}.", "success")
            return redirect(url_for("accounts.team", team_id=team.id))
    return render_template("accounts/team_join.html", form=form), 422 if form.errors else 200


@bp.post("/teams/<int:team_id>/leave")
@login_required
def leave_team(team_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    team = services.get_team(db.session, team_id)
    services.leave_team(db.session, actor=current_user, team=team)
    db.session.commit()
    flash(f"You left {team.name}.", "info")
    return redirect(url_for("accounts.teams"))


@bp.post("/teams/<int:team_id>/captain")
@login_required
def hand_over(team_id: int):
    form = CaptainForm()
    team = services.get_team(db.session, team_id)
    form.new_captain_id.choices = [(m.user_id, str(m.user_id)) for m in team.memberships]
    if not form.validate_on_submit():
        abort(400)
    services.hand_over_captaincy(db.session, actor=current_user, team=team,
                                 new_captain_id=form.new_captain_id.data)
    db.session.commit()
    flash("The captaincy has been handed over.", "success")
    return redirect(url_for("accounts.team", team_id=team.id))


# --- admin ---------------------------------------------------------------------------------

@bp.get("/admin/users")
@login_required
def admin_users():
    if not current_user.is_admin:
        abort(403)
    users = db.paginate(select(User).order_by(User.id), max_per_page=100)
    forms = {u.id: RoleForm(role=u.role, prefix=f"u{u.id}") for u in users.items}
    return render_template("accounts/admin_users.html", users=users, forms=forms)


@bp.post("/admin/users/<int:user_id>/role")
@login_required
def admin_set_role(user_id: int):
    form = RoleForm(prefix=f"u{user_id}")
    if not form.validate_on_submit():
        abort(400)
    user = db.get_or_404(User, user_id)
    services.set_role(db.session, actor=current_user, user=user, role=form.role.data)
    db.session.commit()
    flash(f"{user.display_name} is now {user.role}.", "success")
    return redirect(url_for("accounts.admin_users", page=request.args.get("page", 1, type=int)))
