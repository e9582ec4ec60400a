"""Pages for accounts, teams, kudos and role administration."""
from __future__ import annotations

import json
from datetime import timedelta

from flask import (Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, session,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from accounts import erasure, kudos, mydata, rules, services
from accounts.forms import (CaptainForm, EmptyForm, ForgotPasswordForm, InviteForm, JoinCodeForm, JoinTeamForm,
                            LoginForm, RegisterForm, ResetPasswordForm, RoleForm, TeamForm, TeamSizeForm, TokenForm)
from accounts.jobs import send_password_reset_job, send_verification_job
from accounts.forms import DeleteAccountForm
from accounts.models import JoinRequestStatus, Team, TeamJoinRequest, User
from accounts.teampage import load_team_page
from childsafe.policy import ChildRefused, refuse_public
from errors import DomainError, ValidationFailed
from extensions import db
from timeutil import utcnow
from web import add_rule_errors, apply_errors, flash_form_errors, is_safe_next

bp = Blueprint("accounts", __name__)


def no_store(body: str, status: int):
    """A page whose URL holds a secret (a reset link): never kept by a cache."""
    response = make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    return response


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
            current_app.extensions["fixquest.jobs"].enqueue(send_verification_job, user.id)
            _start_session(user)
            flash(_("Welcome to FixQuest, %(name)s! Pick a quest near you to get started. "
                    "We have emailed you a link to confirm your address.", name=user.display_name), "success")
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
            flash(_("Welcome back, %(name)s.", name=user.display_name), "success")
            target = form.next.data
            return redirect(target if is_safe_next(target) else url_for("web.home"))
    return render_template("accounts/login.html", form=form), 422 if form.errors else 200


@bp.post("/logout")
def logout():
    if not EmptyForm().validate_on_submit():
        abort(400)
    if current_user.is_authenticated:
        services.end_sessions(db.session, db.session.get(User, current_user.id))
        db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("web.home"))


@bp.route("/account/verify/<token>", methods=["GET", "POST"])
def verify_email(token: str):
    """A button, not a GET, confirms: mail scanners that open links confirm nothing."""
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            services.verify_email(db.session, token, secret_key=current_app.config["SECRET_KEY"])
        except DomainError as error:
            return render_template("accounts/verify_email.html", form=None, problem=error.message), 400
        db.session.commit()
        flash("Thank you: your email address is confirmed.", "success")
        return redirect(url_for("web.home"))
    return render_template("accounts/verify_email.html", form=form, problem=None)


@bp.post("/account/verify/resend")
@login_required
def resend_verification():
    if not EmptyForm().validate_on_submit():
        abort(400)
    if services.needs_verification(current_user):
        current_app.extensions["fixquest.jobs"].enqueue(send_verification_job, current_user.id)
        flash("We have sent you a new link. It works for a week.", "info")
    else:
        flash("Your email address is confirmed already.", "info")
    return redirect(url_for("web.home"))


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    """Personal access tokens for the JSON API: made here, shown once, revocable."""
    form, made = TokenForm(), None
    if form.validate_on_submit():
        try:
            made = services.issue_token(db.session, user=current_user, name=form.name.data, scope=form.scope.data)
        except DomainError as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            form = TokenForm(formdata=None)
    page = render_template("accounts/tokens.html", form=form, made=made, revoke_form=EmptyForm(),
                           tokens=services.tokens_of(db.session, current_user))
    return no_store(page, 422 if form.errors else 200)


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    row = services.revoke_token(db.session, actor=current_user, token_id=token_id)
    db.session.commit()
    flash(f"The token \u201c{row.name}\u201d no longer works.", "info")
    return redirect(url_for("accounts.tokens"))


@bp.route("/password/forgot", methods=["GET", "POST"])
def request_password_reset():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        user = services.user_for_reset_request(db.session, form.email.data)
        if user is not None:
            current_app.extensions["fixquest.jobs"].enqueue(send_password_reset_job, user.id)
        # The same answer either way: the page does not tell who has an account.
        flash("If an account uses that address, we have emailed it a link to choose a new password. "
              f"The link works once, for {current_app.config['PASSWORD_RESET_MAX_AGE_S'] // 60} minutes.", "info")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/password_forgot.html", form=form), 422 if form.errors else 200


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    config = current_app.config
    try:
        user = services.user_for_reset_token(db.session, token, secret_key=config["SECRET_KEY"],
                                             max_age=config["PASSWORD_RESET_MAX_AGE_S"])
    except DomainError as error:
        return no_store(render_template("accounts/password_reset.html", form=None, problem=error.message), 400)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(db.session, user=user, password=form.password.data,
                                    min_password=config["MIN_PASSWORD_LENGTH"], hash_method=config["PASSWORD_HASH_METHOD"])
        except DomainError as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            _start_session(user)
            flash("Your password is changed, and any other sessions on your account have ended.", "success")
            return redirect(url_for("web.home"))
    return no_store(render_template("accounts/password_reset.html", form=form, problem=None),
                    422 if form.errors else 200)


# --- your data ------------------------------------------------------------------------------

def _my_data_page(form: DeleteAccountForm, status: int = 200):
    return render_template("accounts/my_data.html", form=form, former_name=mydata.FORMER_PARTICIPANT), status


@bp.get("/account/data")
@login_required
def my_data():
    return _my_data_page(DeleteAccountForm())


@bp.get("/account/data.json")
@login_required
def my_data_json():
    data = mydata.export(db.session, user=current_user)
    response = current_app.response_class(json.dumps(data, indent=2, ensure_ascii=False) + "\n",
                                          mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="fixquest-my-data.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/account/delete")
@login_required
def delete_account():
    form = DeleteAccountForm()
    if not form.validate_on_submit():
        return _my_data_page(form, 422)
    try:
        erased = mydata.delete_account(db.session, actor=current_user, password=form.password.data)
    except (mydata.WrongPassword, mydata.CaptainStillNeeded) as error:  # a child's refusal: the 403 page
        db.session.rollback()
        apply_errors(form, error)
        return _my_data_page(form, error.status)
    db.session.commit()
    erasure.forget(erased)
    logout_user()
    session.clear()
    flash("Your account is deleted. What you did stays, under the name "
          f"“{mydata.FORMER_PARTICIPANT}”. Thank you for taking part.", "info")
    return redirect(url_for("web.home"))


# --- teams ---------------------------------------------------------------------------------

def _expiry(days: str | None):
    return utcnow() + timedelta(days=int(days)) if days else None


def _team_or_404(team_id: int) -> Team:
    """The team; NotFound (the 404 page, from web.py's handler) for one that does not exist
    and for a private class team the person may not see."""
    return services.visible_team(db.session, current_user, team_id)


def _back_to(team: Team):
    return redirect(url_for("accounts.team", team_id=team.id))


def _refused(error: ValidationFailed, team: Team):
    """Back to the team page (where the captain's forms are) saying what was wrong."""
    db.session.rollback()
    flash(" ".join(m for messages in error.fields.values() for m in messages) or error.message, "error")
    return _back_to(team)


def _one_button(team_id: int, action, success: str):
    """A one-button POST on a team (CSRF checked), then back to its page with a message.
    Refusals (DomainError) are handled by the web surface: 403/404 pages or a flash."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    team = _team_or_404(team_id)
    action(team)
    db.session.commit()
    flash(success, "success")
    return _back_to(team)


@bp.get("/teams")
def teams():
    from scoring.views import board_rows

    open_teams = db.session.scalars(services.teams_select()).all()  # never a private class team
    return render_template("accounts/teams.html", teams=open_teams, standings=board_rows("teams", limit=10),
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


def _captain_forms(team: Team, page) -> dict:
    captain_form = CaptainForm()
    captain_form.new_captain_id.choices = [(m.user_id, m.name) for m in page.members if not m.captain]
    return dict(captain_form=captain_form, code_form=JoinCodeForm(), invite_form=InviteForm(),
                size_form=TeamSizeForm(max_size=team.max_size),
                requests=db.session.scalars(select(TeamJoinRequest).where(
                    TeamJoinRequest.team_id == team.id, TeamJoinRequest.status == JoinRequestStatus.pending.value)
                    .options(selectinload(TeamJoinRequest.user)).order_by(TeamJoinRequest.id)).all(),
                invites=services.live_invites(db.session, actor=current_user, team=team))


@bp.get("/teams/<int:team_id>")
def team(team_id: int):
    found = services.team_and_whether_a_class(db.session, team_id)
    if found is None:
        abort(404)
    team, class_team, private = found
    me = current_user if current_user.is_authenticated else None
    is_member = me is not None and services.is_member(db.session, user_id=me.id, team_id=team.id)
    if private and not services.may_see_private_team(db.session, me, team, is_member_=is_member):
        abort(404)  # as for a team that does not exist: a private class is not there to others
    board = current_app.extensions["fixquest.leaderboard"]
    calendar = board.calendar
    page = load_team_page(db.session, team, viewer_is_member=is_member, now=calendar.now(), zone=calendar.zone,
                          seasons=calendar.seasons(), categories=current_app.config["CATEGORIES"])
    extra = _captain_forms(team, page) if me is not None and me.id == team.captain_id else {}
    my_request = (services.latest_request(db.session, user_id=me.id, team_id=team.id)
                  if me is not None and not is_member else None)
    return render_template("accounts/team.html", team=team, page=page, standing=board.standing_of("teams", team.id),
                           is_member=is_member, my_request=my_request, limit=services.size_limit(team),
                           class_team=class_team,
                           site_limit=services.site_max_size(), action_form=EmptyForm(), moment=utcnow(), **extra)


@bp.route("/teams/join", methods=["GET", "POST"])
@login_required
def join_team():
    form, refused = JoinTeamForm(), False
    if form.validate_on_submit():
        try:
            team = services.join_team(db.session, actor=current_user, code=form.code.data)
        except ChildRefused:
            db.session.rollback()
            raise  # a 403 page that says why
        except DomainError as error:  # unknown or expired code, full or closed team, already in it
            db.session.rollback()
            apply_errors(form, error)
            refused = True
        else:
            db.session.commit()
            flash(_("You joined %(team)s.", team=team.name), "success")
            return redirect(url_for("accounts.team", team_id=team.id))
    return render_template("accounts/team_join.html", form=form), 422 if form.errors or refused else 200


@bp.post("/teams/<int:team_id>/leave")
@login_required
def leave_team(team_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    team = _team_or_404(team_id)
    services.leave_team(db.session, actor=current_user, team=team)
    db.session.commit()
    flash(f"You left {team.name}." if team.closed_at is None else
          f"You left {team.name}, and as its last member you closed it.", "info")
    return redirect(url_for("accounts.teams"))


@bp.post("/teams/<int:team_id>/captain")
@login_required
def hand_over(team_id: int):
    form = CaptainForm()
    team = _team_or_404(team_id)
    form.new_captain_id.choices = [(m.user_id, str(m.user_id)) for m in team.memberships]
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _back_to(team)
    try:
        services.hand_over_captaincy(db.session, actor=current_user, team=team,
                                     new_captain_id=form.new_captain_id.data)
    except ValidationFailed as error:
        return _refused(error, team)
    db.session.commit()
    flash("The captaincy has been handed over.", "success")
    return _back_to(team)


@bp.post("/teams/<int:team_id>/code")
@login_required
def regenerate_code(team_id: int):
    form, team = JoinCodeForm(), _team_or_404(team_id)
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _back_to(team)
    services.regenerate_join_code(db.session, actor=current_user, team=team, expires_at=_expiry(form.expires.data))
    db.session.commit()
    flash(f"The new join code is {team.join_code}. The old one no longer works.", "success")
    return _back_to(team)


@bp.post("/teams/<int:team_id>/size")
@login_required
def set_size(team_id: int):
    form, team = TeamSizeForm(), _team_or_404(team_id)
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _back_to(team)
    try:
        services.set_max_size(db.session, actor=current_user, team=team, max_size=form.max_size.data)
    except ValidationFailed as error:
        return _refused(error, team)
    db.session.commit()
    flash(f"The team can now have up to {services.size_limit(team)} members.", "success")
    return _back_to(team)


@bp.post("/teams/<int:team_id>/members/<int:user_id>/remove")
@login_required
def remove_member(team_id: int, user_id: int):
    return _one_button(team_id, lambda team: services.remove_member(db.session, actor=current_user, team=team,
                                                                     user_id=user_id),
                       "The member was removed from the team.")


@bp.post("/teams/<int:team_id>/invites")
@login_required
def create_invite(team_id: int):
    form, team = InviteForm(), _team_or_404(team_id)
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _back_to(team)
    invite, token = services.create_invite(db.session, actor=current_user, team=team,
                                           expires_at=_expiry(form.expires.data), single_use=form.single_use.data)
    db.session.commit()
    # Shown once, on this page, and never stored in plain text (nor put in the session cookie).
    link = url_for("accounts.invite", token=token, _external=True)
    return render_template("accounts/team_invite_created.html", team=team, invite=invite, link=link)


@bp.post("/teams/<int:team_id>/invites/<int:invite_id>/revoke")
@login_required
def revoke_invite(team_id: int, invite_id: int):
    return _one_button(team_id, lambda team: services.revoke_invite(db.session, actor=current_user, team=team,
                                                                     invite_id=invite_id),
                       "That invite link no longer works.")


@bp.get("/teams/invite/<token>")
def invite(token: str):
    try:
        found = services.invite_for(db.session, token)
    except DomainError as error:  # unknown, expired, used or withdrawn: say which
        return render_template("accounts/team_invite.html", team=None, problem=error.message), error.status
    team = db.session.get(Team, found.team_id)
    return render_template("accounts/team_invite.html", team=team, token=token, action_form=EmptyForm(),
                           is_member=current_user.is_authenticated and services.is_member(
                               db.session, user_id=current_user.id, team_id=team.id))


@bp.post("/teams/invite/<token>")
@login_required
def accept_invite(token: str):
    if not EmptyForm().validate_on_submit():
        abort(400)
    team = services.join_by_invite(db.session, actor=current_user, token=token)
    db.session.commit()
    flash(_("You joined %(team)s.", team=team.name), "success")
    return _back_to(team)


@bp.post("/teams/<int:team_id>/requests")
@login_required
def request_to_join(team_id: int):
    return _one_button(team_id, lambda team: services.request_to_join(db.session, actor=current_user, team=team),
                       _("Your request was sent: the team's captain will decide, and this page will show the answer."))


@bp.post("/teams/<int:team_id>/requests/<int:request_id>/<any(approve, decline):decision>")
@login_required
def decide_request(team_id: int, request_id: int, decision: str):
    return _one_button(team_id, lambda team: services.decide_request(
        db.session, actor=current_user, team=team, request_id=request_id, approve=decision == "approve"),
        "They are in the team now." if decision == "approve" else "The request was declined.")


# --- kudos ---------------------------------------------------------------------------------

@bp.post("/claims/<int:claim_id>/kudos")
@login_required
def give_kudos(claim_id: int):
    from challenges.services import can_view_claim, get_claim

    if not EmptyForm().validate_on_submit():
        abort(400)
    claim = get_claim(db.session, claim_id)
    kudos.give_kudos(db.session, actor=current_user, claim=claim)
    db.session.commit()
    flash("Thank you sent.", "success")
    target = request.form.get("next")
    if not is_safe_next(target):
        target = (url_for("challenges.claim_detail", claim_id=claim.id)
                  if can_view_claim(db.session, current_user, claim)
                  else url_for("profiles.profile", user_id=claim.user_id))
    return redirect(target)


@bp.app_template_global("claim_kudos")
def claim_kudos(claim) -> kudos.ClaimKudos:
    """For templates/challenges/claim.html: the kudos on a fix, and whether the viewer may add one."""
    return kudos.for_claim(db.session, claim, current_user)


@bp.app_template_global("profile_kudos")
def profile_kudos(person: User) -> kudos.ProfileKudos | None:
    """For templates/scoring/profile.html: thanks received, and fixes the viewer may thank."""
    return kudos.for_profile(db.session, person, current_user)


# --- admin ---------------------------------------------------------------------------------

@bp.get("/admin/users")
@login_required
def admin_users():
    """Every account (admins only), optionally found by name or email (`q`) and by `role`."""
    from moderation.labels import Names  # moderation imports accounts

    role = request.args.get("role") if request.args.get("role") in services.ACCOUNT_ROLES else None
    search = request.args.get("q", "").strip()[:services.SEARCH_MAX]
    stmt = services.accounts_for_admin(db.session, actor=current_user, search=search, role=role)
    users = db.paginate(stmt, max_per_page=100)
    forms = {u.id: RoleForm(role=u.role, prefix=f"u{u.id}") for u in users.items}
    return render_template("accounts/admin_users.html", users=users, forms=forms, names=Names(current_user),
                           email_of=services.email_shown_to_admin, search=search, role=role,
                           roles=services.ACCOUNT_ROLES)


@bp.post("/admin/users/<int:user_id>/role")
@login_required
def admin_set_role(user_id: int):
    form = RoleForm(prefix=f"u{user_id}")
    if not form.validate_on_submit():
        abort(400)
    user = db.get_or_404(User, user_id)
    from moderation.labels import Names  # moderation imports accounts

    services.set_role(db.session, actor=current_user, user=user, role=form.role.data)
    db.session.commit()
    flash(f"{Names(current_user)(user)} is now {user.role}.", "success")
    return redirect(url_for("accounts.admin_users", page=request.args.get("page", 1, type=int)))
