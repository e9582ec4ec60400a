"""Pages for problems, quests, claims and the review queue."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from accounts.forms import EmptyForm
from accounts.services import teams_of
from campaigns import services as campaign_services
from challenges import reviews, rules, services, tracker
from challenges.forms import (AreaForm, CategoryFollowForm, ClaimForm, CommentForm, EvidenceForm, MergeForm,
                              ProblemForm, QuestForm, ReverseForm, ReviewForm, StatusForm, WardForm)
from challenges.nearby import find_nearby
from childsafe.policy import refuse_public
from media.images import PhotoRejected
from moderation.visibility import problem_visible
from scoring.rules import ScoringSettings
from media.services import photos_for, read_uploads, save_photos
from media.views import upload_settings
from challenges.models import Problem, ProblemStatus, ProblemUpdate, Quest, QuestMode
from errors import DomainError, Forbidden, ValidationFailed
from events import guards as event_guards
from extensions import db
from i18n import word
from forms import to_utc
from pagecache import for_visitors
from timeutil import utcnow
from web import add_rule_errors, apply_errors, flash_form_errors, paginate_uncounted

bp = Blueprint("challenges", __name__)


def _settings() -> ScoringSettings:
    return ScoringSettings.from_config(current_app.config)


def _categories() -> tuple[str, ...]:
    return current_app.config["CATEGORIES"]


def _attach_photos(form, **owner) -> None:
    """Store the form's photos with their problem, update or claim, in the same transaction."""
    settings = upload_settings()
    uploads = read_uploads(form.photos.data, max_bytes=settings["max_bytes"])
    if uploads:
        save_photos(db.session, actor=current_user, uploads=uploads, field="photos", **owner, **settings)


# --- problems ------------------------------------------------------------------------------

SORTS = ("newest", "affected")


@bp.get("/problems")
@for_visitors
def problems():
    category = request.args.get("category") or None
    status = request.args.get("status") or None
    category = category if category in _categories() else None
    status = status if status in {s.value for s in ProblemStatus} else None
    sort = request.args.get("sort") if request.args.get("sort") in SORTS else "newest"
    stmt = services.problems_select(category=category, status=status)
    if sort == "affected":
        stmt = tracker.problems_by_priority(stmt)
    page = paginate_uncounted(stmt, per_page=current_app.config["PAGE_SIZE"])
    return render_template("challenges/problems.html", page=page, category=category, status=status, sort=sort,
                           categories=_categories(), statuses=[s.value for s in ProblemStatus])


@bp.route("/problems/new", methods=["GET", "POST"])
@login_required
def new_problem():
    refuse_public(current_user, "report a public problem")
    form = ProblemForm()
    form.category.choices = [(c, word(c).capitalize()) for c in _categories()]
    limit = current_app.config["UNVERIFIED_REPORT_LIMIT"]
    if services.reports_left_unverified(db.session, current_user, limit) == 0:
        return render_template("challenges/problem_verify_first.html", limit=limit, resend_form=EmptyForm()), 403
    if form.validate_on_submit():
        candidates = [] if form.checked_nearby.data else _nearby_candidates(form)
        if candidates:  # the no-JavaScript duplicate check: a step before filing
            form.checked_nearby.data = "1"
            return render_template("challenges/problem_check.html", form=form, candidates=candidates,
                                   confirm_form=EmptyForm())
        try:
            problem = services.report_problem(
                db.session, actor=current_user, title=form.title.data, description=form.description.data,
                category=form.category.data, lat=form.lat.data, lon=form.lon.data,
                address=form.address.data, categories=_categories(), unverified_limit=limit)
            _attach_photos(form, problem_id=problem.id)
        except DomainError as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            flash(_("Thank you: your report is public and you will hear when it changes."), "success")
            return redirect(url_for("challenges.problem", problem_id=problem.id))
    elif form.is_submitted():
        add_rule_errors(form, rules.problem_problems(
            title=form.title.data, description=form.description.data, category=form.category.data,
            lat=form.lat.data, lon=form.lon.data, address=form.address.data, categories=_categories()))
    return render_template("challenges/problem_new.html", form=form), 422 if form.errors else 200


def _nearby_candidates(form: ProblemForm):
    if rules.coordinate_problems(form.lat.data, form.lon.data):
        return []  # the report itself will explain the coordinates
    return find_nearby(db.session, lat=form.lat.data, lon=form.lon.data, category=form.category.data,
                       radius_m=current_app.config["NEARBY_RADIUS_M"], limit=10)


@bp.get("/problems/<int:problem_id>")
@for_visitors
def problem(problem_id: int):
    problem = db.session.scalar(select(Problem).where(Problem.id == problem_id).options(
        selectinload(Problem.updates).selectinload(ProblemUpdate.author), selectinload(Problem.reporter)))
    if problem is None or not problem_visible(current_user, problem):
        abort(404)  # hidden or held: only its reporter and the moderators see it
    if problem.merged_into_id is not None:
        survivor = tracker.survivor_of(db.session, problem)
        flash(_("Problem #%(number)d was the same as this one, so they were merged.", number=problem.id), "info")
        return redirect(url_for("challenges.problem", problem_id=survivor.id), code=301)
    quests = db.session.scalars(select(Quest).where(Quest.problem_id == problem.id,
                                                    Quest.id.not_in(event_guards.hidden_quest_ids()))).all()
    me = current_user if current_user.is_authenticated else None
    photos = photos_for(db.session, problem_ids=[problem.id], update_ids=[u.id for u in problem.updates])
    # Forms (and so a form token, and so a session) only for the signed-in people who see them:
    # a visitor's page sets no cookie and can be kept for the next visitor (pagecache.py).
    forms = dict(action_form=EmptyForm(), status_form=StatusForm(status=problem.status), comment_form=CommentForm(),
                 merge_form=MergeForm()) if me is not None else {}
    return render_template(
        "challenges/problem.html", problem=problem, quests=quests, photos=photos, **forms,
        following=me is not None and tracker.problem_subscription(
            db.session, user_id=me.id, problem_id=problem.id) is not None,
        confirmed=me is not None and tracker.has_confirmed(db.session, user_id=me.id, problem_id=problem.id))


def _problem_action(problem_id: int, action, success: str):
    """Run a one-button action on a problem (or the one it was merged into), then go back."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    problem = tracker.survivor_of(db.session, services.get_problem(db.session, problem_id))
    action(problem)
    db.session.commit()
    flash(success, "success")
    return redirect(url_for("challenges.problem", problem_id=problem.id))


@bp.post("/problems/<int:problem_id>/confirm")
@login_required
def confirm(problem_id: int):
    return _problem_action(problem_id, lambda p: tracker.confirm(db.session, actor=current_user, problem=p),
                           _("Thank you: you are counted as seeing this too, and you will hear when it changes."))


@bp.post("/problems/<int:problem_id>/subscribe")
@login_required
def subscribe(problem_id: int):
    return _problem_action(problem_id, lambda p: tracker.subscribe(db.session, actor=current_user, problem=p),
                           _("You are following this problem."))


@bp.post("/problems/<int:problem_id>/unsubscribe")
@login_required
def unsubscribe(problem_id: int):
    return _problem_action(problem_id, lambda p: tracker.unsubscribe(db.session, actor=current_user, problem=p),
                           _("You no longer follow this problem."))


@bp.post("/problems/<int:problem_id>/status")
@login_required
def change_status(problem_id: int):
    problem = services.get_problem(db.session, problem_id)
    form = StatusForm()
    if form.validate_on_submit():
        services.change_status(db.session, actor=current_user, problem=problem,
                               status=form.status.data, note=form.note.data)
        db.session.commit()
        flash(f"Status changed to {problem.status.replace('_', ' ')}. Followers will be told.", "success")
    else:
        flash_form_errors(form)
    return redirect(url_for("challenges.problem", problem_id=problem.id))


@bp.post("/problems/<int:problem_id>/comments")
@login_required
def comment(problem_id: int):
    problem = services.get_problem(db.session, problem_id)
    form = CommentForm()
    if form.validate_on_submit():
        entry = tracker.comment(db.session, actor=current_user, problem=problem, body=form.body.data)
        _attach_photos(form, update_id=entry.id)
        db.session.commit()
        flash("Update posted. Followers will be told.", "success")
    else:
        flash_form_errors(form)
    return redirect(url_for("challenges.problem", problem_id=problem.id))


@bp.post("/problems/<int:problem_id>/merge")
@login_required
def merge(problem_id: int):
    duplicate = services.get_problem(db.session, problem_id)
    form = MergeForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(url_for("challenges.problem", problem_id=duplicate.id))
    into = services.get_problem(db.session, form.into_id.data)
    survivor = tracker.merge(db.session, actor=current_user, duplicate=duplicate, into=into)
    db.session.commit()
    flash(f"Problem #{duplicate.id} merged into this one.", "success")
    return redirect(url_for("challenges.problem", problem_id=survivor.id))


@bp.route("/follow", methods=["GET", "POST"])
@login_required
def follow():
    """Follow an area (new problems within a radius) or a category."""
    refuse_public(current_user, "follow areas or categories")
    forms = {"area": AreaForm(prefix="area"), "ward": WardForm(prefix="ward"),
             "cat": CategoryFollowForm(prefix="cat")}
    forms["cat"].category.choices = [(c, c.capitalize()) for c in _categories()]
    chosen = next((name for name in forms if f"{name}-submit" in request.form), None)
    if request.method == "POST":
        form = forms.get(chosen)
        if form is None or not form.validate_on_submit():
            return render_template("challenges/follow.html", **forms), 422
        try:
            _follow(chosen, form)
        except ValidationFailed as error:
            db.session.rollback()
            apply_errors(form, error)
            return render_template("challenges/follow.html", **forms), 422
        db.session.commit()
        flash("Done: you will hear about new problems there.", "success")
        return redirect(url_for("challenges.follow"))
    return render_template("challenges/follow.html", **forms)


def _follow(kind: str, form) -> None:
    if kind == "area":
        tracker.subscribe_area(db.session, actor=current_user, lat=form.lat.data, lon=form.lon.data,
                               radius_m=form.radius_m.data, delivery=form.delivery.data)
    elif kind == "ward":
        tracker.subscribe_area(db.session, actor=current_user, delivery=form.delivery.data,
                               bbox=(form.min_lon.data, form.min_lat.data, form.max_lon.data, form.max_lat.data))
    else:
        tracker.subscribe_category(db.session, actor=current_user, category=form.category.data,
                                   categories=_categories(), delivery=form.delivery.data)


# --- quests --------------------------------------------------------------------------------

@bp.get("/quests")
@for_visitors
def quests():
    page = db.paginate(services.open_quests_select().options(selectinload(Quest.problem)),
                       per_page=current_app.config["PAGE_SIZE"], max_per_page=100)
    return render_template("challenges/quests.html", page=page)


@bp.route("/quests/new", methods=["GET", "POST"])
@login_required
def new_quest():
    refuse_public(current_user, "propose a public quest")
    settings = _settings()
    if not services.may_propose_quests(db.session, current_user, settings.propose_quest_level):
        raise Forbidden("create quests", f"organisers make quests, and players may propose them from level "
                                         f"{settings.propose_quest_level}.")
    form = QuestForm(problem_id=request.args.get("problem_id", 0, type=int))
    recent = db.session.scalars(select(Problem).where(Problem.status.not_in(["fixed", "closed"]))
                                .order_by(Problem.created_at.desc()).limit(200)).all()
    form.problem_id.choices = [(0, "None: a standalone quest")] + [(p.id, f"#{p.id} {p.title}") for p in recent]
    if form.problem_id.data and form.problem_id.data not in {p.id for p in recent}:
        chosen = db.session.get(Problem, form.problem_id.data)
        if chosen is not None:
            form.problem_id.choices.insert(1, (chosen.id, f"#{chosen.id} {chosen.title}"))
    zone = current_app.config["TIMEZONE"]
    if form.validate_on_submit():
        try:
            quest = services.create_quest(
                db.session, actor=current_user, title=form.title.data, brief=form.brief.data,
                points=form.points.data, difficulty=form.difficulty.data, mode=form.mode.data,
                evidence_wanted=form.evidence_wanted.data, starts_at=to_utc(form.starts_at.data, zone),
                ends_at=to_utc(form.ends_at.data, zone), problem_id=form.problem_id.data or None,
                review_mode=form.review_mode.data,
                peer_reviews_needed=2 if form.peer_reviews_needed.data is None else form.peer_reviews_needed.data,
                dynamic_min_points=form.dynamic_min_points.data, dynamic_decay=form.dynamic_decay.data,
                propose_level=settings.propose_quest_level)
        except DomainError as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            flash("Quest published." if quest.status == "published" else
                  "Quest proposed: an organiser will look at it and publish it.", "success")
            return redirect(url_for("challenges.quest", quest_id=quest.id))
    elif form.is_submitted():
        add_rule_errors(form, rules.quest_problems(
            title=form.title.data, brief=form.brief.data, points=form.points.data,
            difficulty=form.difficulty.data, mode=form.mode.data, evidence_wanted=form.evidence_wanted.data,
            starts_at=to_utc(form.starts_at.data, zone), ends_at=to_utc(form.ends_at.data, zone), now=utcnow()))
    return render_template("challenges/quest_new.html", form=form), 422 if form.errors else 200


@bp.get("/quests/<int:quest_id>")
@for_visitors
def quest(quest_id: int):
    quest = db.get_or_404(Quest, quest_id)
    if not services.can_see_quest(current_user, quest) or event_guards.quest_hidden(db.session, quest.id, current_user):
        abort(404)
    if not current_user.is_authenticated:  # no forms, no form token, no session: a page to keep (pagecache.py)
        return render_template("challenges/quest.html", quest=quest)
    form = ClaimForm()
    if quest.mode == QuestMode.team.value:
        form.team_id.choices = [(t.id, t.name) for t in teams_of(db.session, current_user.id)]
    return render_template("challenges/quest.html", quest=quest, form=form, action_form=EmptyForm())


@bp.get("/quests/proposed")
@login_required
def proposed_quests():
    if not current_user.is_organiser:
        raise Forbidden("see proposed quests", "only organisers publish proposals.")
    return render_template("challenges/proposed_quests.html",
                           quests=db.session.scalars(services.proposed_quests_select()).all(),
                           action_form=EmptyForm())


@bp.post("/quests/<int:quest_id>/publish")
@login_required
def publish_quest(quest_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    quest = services.publish_quest(db.session, actor=current_user, quest=services.get_quest(db.session, quest_id))
    db.session.commit()
    flash("Quest published: players can take it on now.", "success")
    return redirect(url_for("challenges.quest", quest_id=quest.id))


@bp.post("/quests/<int:quest_id>/claim")
@login_required
def claim(quest_id: int):
    quest = services.get_quest(db.session, quest_id)
    form = ClaimForm()
    form.team_id.choices = [(t.id, t.name) for t in teams_of(db.session, current_user.id)]
    if quest.mode == QuestMode.team.value and not form.validate_on_submit():
        flash(_("Choose one of your teams to claim this quest for (join or create a team first)."), "error")
        return redirect(url_for("challenges.quest", quest_id=quest.id))
    if quest.mode == QuestMode.solo.value and not EmptyForm().validate_on_submit():
        abort(400)
    claim = services.claim_quest(db.session, actor=current_user, quest=quest,
                                 team_id=form.team_id.data if quest.mode == QuestMode.team.value else None)
    db.session.commit()
    flash(_("Quest taken! Do it, then submit your evidence here."), "success")
    return redirect(url_for("challenges.claim_detail", claim_id=claim.id))


# --- claims and review ---------------------------------------------------------------------

@bp.get("/claims")
@login_required
def my_claims():
    return render_template("challenges/claims.html", claims=services.claims_of(db.session, current_user))


def _evidence_form(claim) -> EvidenceForm:
    """The evidence form; for a team claim, the team's members to tick as taking part."""
    form = EvidenceForm()
    if claim.team is not None:
        members = [(m.user_id, m.user.display_name) for m in claim.team.memberships]
        form.members.choices = members
        if not form.is_submitted():
            form.members.data = [claim.user_id, current_user.id]
    else:
        form.members.choices = []
    return form


@bp.get("/claims/<int:claim_id>")
@login_required
def claim_detail(claim_id: int):
    claim = services.get_claim(db.session, claim_id)
    if not reviews.can_view_claim(db.session, current_user, claim, _settings()):
        abort(404)  # claims are private to their team and the organisers
    return render_template("challenges/claim.html", claim=claim, evidence_form=_evidence_form(claim),
                           review_form=ReviewForm(), reverse_form=ReverseForm(),
                           photos=photos_for(db.session, claim_ids=[claim.id]).claims,
                           may_submit=services.can_act_for_claim(db.session, current_user, claim),
                           may_review=reviews.may_review(db.session, current_user, claim, _settings()))


@bp.post("/claims/<int:claim_id>/submit")
@login_required
def submit(claim_id: int):
    claim = services.get_claim(db.session, claim_id)
    if not reviews.can_view_claim(db.session, current_user, claim, _settings()):
        abort(404)
    form = _evidence_form(claim)
    if form.validate_on_submit():
        try:
            services.submit_evidence(db.session, actor=current_user, claim=claim, evidence=form.evidence.data,
                                     members=form.members.data if claim.team_id else None)
            campaign_services.record_hours(db.session, actor=current_user, claim=claim, hours=form.hours.data)
            _attach_photos(form, claim_id=claim.id)
        except (ValidationFailed, PhotoRejected) as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            flash(_("Evidence submitted. An organiser will review it soon."), "success")
            return redirect(url_for("challenges.claim_detail", claim_id=claim.id))
    return render_template("challenges/claim.html", claim=claim, evidence_form=form, review_form=ReviewForm(),
                           may_submit=True, may_review=False), 422


@bp.get("/review")
@login_required
def review_queue():
    settings = _settings()
    if not current_user.is_organiser and services.level_of(db.session, current_user.id) < settings.peer_review_level:
        raise Forbidden("see the review queue",
                        f"organisers review claims, and players join them from level {settings.peer_review_level}.")
    return render_template("challenges/review_queue.html",
                           claims=reviews.review_queue(db.session, current_user, _settings()))


@bp.post("/claims/<int:claim_id>/reverse")
@login_required
def reverse(claim_id: int):
    claim = services.get_claim(db.session, claim_id)
    form = ReverseForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(url_for("challenges.claim_detail", claim_id=claim.id))
    reviews.reverse_claim(db.session, actor=current_user, claim=claim, reason=form.reason.data)
    db.session.commit()
    flash("Claim reversed: its points have been taken back.", "success")
    return redirect(url_for("challenges.claim_detail", claim_id=claim.id))


@bp.post("/claims/<int:claim_id>/review")
@login_required
def review(claim_id: int):
    claim = services.get_claim(db.session, claim_id)
    if not reviews.can_view_claim(db.session, current_user, claim, _settings()):
        abort(404)
    form = ReviewForm()
    if form.validate_on_submit():
        try:
            reviews.review_claim(db.session, actor=current_user, claim=claim, settings=_settings(),
                                  decision=form.decision.data, reason=form.reason.data)
        except ValidationFailed as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            flash(_("Claim approved.") if claim.status == "approved" else
                  _("Claim rejected.") if claim.status == "rejected" else
                  _("Claim %(state)s.", state=word(claim.status)), "success")
            return redirect(url_for("challenges.review_queue"))
    return render_template("challenges/claim.html", claim=claim, evidence_form=_evidence_form(claim), review_form=form,
                           may_submit=False, may_review=reviews.may_review(db.session, current_user, claim,
                                                                           _settings())), 422
