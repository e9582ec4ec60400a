"""Campaign pages, their live progress stream, pledges, impact pages and fix stories."""
from __future__ import annotations

from functools import partial

import click
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

import live
from accounts.forms import EmptyForm
from campaigns import impact as impacts
from campaigns import services, stories
from campaigns.forms import CampaignForm, FixStoryForm, LaunchForm, PledgeForm
from campaigns.models import Campaign, CampaignStatus
from challenges.geo import BadArea
from challenges.services import get_problem
from errors import DomainError, ValidationFailed
from extensions import db
from forms import to_utc
from maps.area import BBox, Circle, parse_area
from media.images import PhotoRejected
from media.services import read_uploads
from media.views import upload_settings
from moderation.visibility import problem_visible
from scoring.views import campaign_boards
from timeutil import utcnow
from web import apply_errors, flash_form_errors

bp = Blueprint("campaigns", __name__)

RECENT_MILESTONE_DAYS = 7


def _zone() -> str:
    return current_app.config["TIMEZONE"]


def _token_points() -> int:
    return current_app.config.get("TOKEN_POINTS", 10)


def _get(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id, options=[joinedload(Campaign.organiser)])
    if campaign is None:
        abort(404)
    return campaign


# --- lists and pages -----------------------------------------------------------------------

@bp.get("/campaigns")
def index():
    lists = services.campaigns_by_phase(db.session)
    shown = lists["active"] + lists["finished"]
    fixed, hours = services.town_totals(db.session)
    tokens = (services.tokens_of(db.session, current_user.id, token_points=_token_points())
              if current_user.is_authenticated else None)
    return render_template("campaigns/index.html", lists=lists, progress=services.progress_of_many(db.session, shown),
                           pledges=services.pledge_totals(db.session, [c.id for c in lists["voting"]]),
                           fixed=fixed, hours=hours, tokens=tokens, action_form=EmptyForm(),
                           due=any(c.voting_closes_at <= utcnow() for c in lists["voting"]))


@bp.get("/campaigns/<int:campaign_id>")
def campaign(campaign_id: int):
    return _campaign_page(_get(campaign_id))


def _campaign_page(campaign: Campaign, *, pledge_form: PledgeForm | None = None, launch_form: LaunchForm | None = None,
                   status: int = 200):
    milestones = services.milestones_of(db.session, [campaign.id])[campaign.id]
    state = services.progress_state(db.session, campaign.id, reached=milestones)
    now = utcnow()
    recent = [m for m in milestones if (now - m.reached_at).days < RECENT_MILESTONE_DAYS]
    voting = campaign.status == CampaignStatus.voting.value  # tokens and pledges matter only in a vote
    tokens = (services.tokens_of(db.session, current_user.id, token_points=_token_points())
              if voting and current_user.is_authenticated else None)
    counted = services.counted_problems_select(campaign)
    shown = services.phase(campaign, now) in ("active", "finished")
    return render_template(
        "campaigns/campaign.html", boards=campaign_boards(campaign) if shown else None,
        campaign=campaign, state=state, milestones=milestones,
        recent=recent[-1] if recent else None, phase=services.phase(campaign, now),
        contributors=services.contributors(db.session, campaign),
        pledged=services.pledge_totals(db.session, [campaign.id]).get(campaign.id, (0, 0)) if voting else (0, 0),
        tokens=tokens,
        voting_open=services.voting_open(campaign, now), stories=stories.public_stories(db.session, counted),
        pledge_form=pledge_form or PledgeForm(), launch_form=launch_form or LaunchForm(),
        area=services.area_of(campaign), stream_url=url_for("campaigns.progress_stream", campaign_id=campaign.id),
    ), status


@bp.get("/campaigns/<int:campaign_id>/progress")
def progress_stream(campaign_id: int):
    _get(campaign_id)
    return live.stream(services.progress_topic(campaign_id), "state",
                       partial(services.progress_state, campaign_id=campaign_id))


@bp.route("/campaigns/new", methods=["GET", "POST"])
@login_required
def new():
    if not current_user.is_organiser:
        abort(403, "Organisers run campaigns; pledge tokens to the ones you want.")
    form = CampaignForm()
    categories = current_app.config["CATEGORIES"]
    form.categories.choices = [(c, c.capitalize()) for c in categories]
    if form.validate_on_submit():
        try:
            created = services.create_campaign(
                db.session, actor=current_user, title=form.title.data, why=form.why.data, area=_form_area(form),
                categories=form.categories.data or [], all_categories=categories, goal=form.goal.data,
                starts_at=to_utc(form.starts_at.data, _zone()), ends_at=to_utc(form.ends_at.data, _zone()),
                vote=form.start.data == "vote", vote_until=to_utc(form.voting_closes_at.data, _zone()))
        except ValidationFailed as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            flash("Campaign created.", "success")
            return redirect(url_for("campaigns.campaign", campaign_id=created.id))
    return render_template("campaigns/new.html", form=form), 422 if form.is_submitted() else 200


FORM_AREA_FIELDS = {"kind": "area_kind", "lat": "centre_lat", "lon": "centre_lon", "bbox": "min_lat"}


def _form_area(form: CampaignForm) -> BBox | Circle:
    """The area the form describes (services.area_from's checks); raises ValidationFailed."""
    try:
        return services.area_from(form.area_kind.data,
                                  centre=(form.centre_lat.data, form.centre_lon.data, form.radius_m.data),
                                  edges=(form.min_lon.data, form.min_lat.data, form.max_lon.data, form.max_lat.data))
    except BadArea as error:
        raise ValidationFailed({FORM_AREA_FIELDS.get(error.field, error.field): [error.message]}) from None


@bp.post("/campaigns/<int:campaign_id>/pledge")
@login_required
def pledge(campaign_id: int):
    campaign = _get(campaign_id)
    form = PledgeForm()
    if form.validate_on_submit():
        try:
            services.pledge(db.session, actor=current_user, campaign=campaign, tokens=form.tokens.data,
                            token_points=_token_points())
        except DomainError as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            flash(f"You pledged {form.tokens.data} token{'s' if form.tokens.data != 1 else ''}. Thank you!", "success")
            return redirect(url_for("campaigns.campaign", campaign_id=campaign.id))
    return _campaign_page(campaign, pledge_form=form, status=422)


@bp.post("/campaigns/close-voting")
@login_required
def close_voting():
    if not EmptyForm().validate_on_submit():
        abort(400)
    chosen = services.close_voting(db.session, actor=current_user)
    db.session.commit()
    flash(f"The community chose “{chosen.title}”." if chosen else "No vote has closed yet.",
          "success" if chosen else "info")
    return redirect(url_for("campaigns.index"))


@bp.post("/campaigns/<int:campaign_id>/launch")
@login_required
def launch(campaign_id: int):
    campaign = _get(campaign_id)
    form = LaunchForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(url_for("campaigns.campaign", campaign_id=campaign.id))
    try:
        services.launch(db.session, actor=current_user, campaign=campaign, ends_at=to_utc(form.ends_at.data, _zone()))
    except ValidationFailed as error:
        db.session.rollback()
        apply_errors(form, error)
        return _campaign_page(campaign, launch_form=form, status=422)
    db.session.commit()
    flash("Launched: the campaign is counting fixes now.", "success")
    return redirect(url_for("campaigns.campaign", campaign_id=campaign.id))


# --- impact --------------------------------------------------------------------------------

def _charts(report: impacts.Impact) -> dict:
    weeks = [(monday.strftime("%-d %b"), count) for monday, count in report.weeks]
    return {
        "weeks": impacts.bar_chart(chart_id="chart-weeks", title="Problems fixed per week",
                                   desc=impacts.describe(weeks, "problems fixed"), bars=weeks),
        "categories": impacts.bar_chart(chart_id="chart-categories", title="Problems fixed by category",
                                        desc=impacts.describe(report.categories, "problems fixed"),
                                        bars=report.categories),
    }


def _csv(report: impacts.Impact, name: str) -> Response:
    table = request.args.get("table", "weeks")
    if table not in impacts.CSV_TABLES:
        abort(Response(f"table must be one of: {', '.join(impacts.CSV_TABLES)}.\n", 400, mimetype="text/plain"))
    response = Response(impacts.to_csv(report, table), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}-{table}.csv"'
    return response


@bp.get("/campaigns/<int:campaign_id>/impact")
def campaign_impact(campaign_id: int):
    campaign = _get(campaign_id)
    report = impacts.campaign_impact(db.session, campaign, timezone=_zone())
    return render_template("campaigns/impact.html", report=report, charts=_charts(report), campaign=campaign,
                           place=services.area_of(campaign).describe(),
                           csv_url=partial(url_for, "campaigns.campaign_impact_csv", campaign_id=campaign.id))


@bp.get("/campaigns/<int:campaign_id>/impact.csv")
def campaign_impact_csv(campaign_id: int):
    campaign = _get(campaign_id)
    return _csv(impacts.campaign_impact(db.session, campaign, timezone=_zone()), f"campaign-{campaign.id}-impact")


def _place_query() -> tuple[BBox | Circle, int] | Response:
    """The area and weeks from the query string, or a 400 page saying what is wrong."""
    try:
        area = parse_area(request.args)
    except BadArea as error:
        return _bad_place(f"{error.field}: {error.message}")
    raw = request.args.get("weeks", str(impacts.DEFAULT_WEEKS))
    if not raw.isdigit() or not 1 <= int(raw) <= impacts.MAX_WEEKS:
        return _bad_place(f"weeks: give a whole number of weeks from 1 to {impacts.MAX_WEEKS}.")
    return area, int(raw)


def _bad_place(message: str) -> Response:
    return Response(render_template("campaigns/impact_place.html", error=message, args=request.args), 400)


def _place_params(area: BBox | Circle, weeks: int) -> dict:
    params = {"bbox": area.as_param()} if isinstance(area, BBox) else area.as_params()
    return {**params, "weeks": weeks}


@bp.get("/impact")
def place_impact():
    if not any(request.args.get(name) for name in ("bbox", "lat", "lon", "radius_m")) and "weeks" not in request.args:
        return render_template("campaigns/impact_place.html", error=None, args=request.args)
    query = _place_query()
    if isinstance(query, Response):
        return query
    area, weeks = query
    report = impacts.place_impact(db.session, area=area, weeks=weeks, timezone=_zone())
    return render_template("campaigns/impact.html", report=report, charts=_charts(report), campaign=None,
                           place=area.describe(), weeks=weeks,
                           csv_url=partial(url_for, "campaigns.place_impact_csv", **_place_params(area, weeks)))


@bp.get("/impact.csv")
def place_impact_csv():
    query = _place_query()
    if isinstance(query, Response):
        return query
    area, weeks = query
    return _csv(impacts.place_impact(db.session, area=area, weeks=weeks, timezone=_zone()), "impact")


# --- fix stories ---------------------------------------------------------------------------

@bp.route("/problems/<int:problem_id>/fix-story", methods=["GET", "POST"])
@login_required
def fix_story(problem_id: int):
    problem = get_problem(db.session, problem_id)
    if not problem_visible(current_user, problem):
        abort(404)  # hidden or held by a moderator
    refusal = stories.story_refusal(db.session, current_user, problem)
    if refusal:
        abort(403, f"You may not write this problem's fix story: {refusal}")
    form = FixStoryForm()
    if form.validate_on_submit():
        settings = upload_settings()
        try:
            stories.write_story(db.session, actor=current_user, problem=problem, story=form.story.data,
                                before=_one_upload(form.before_photo.data, settings),
                                after=_one_upload(form.after_photo.data, settings), **settings)
        except (ValidationFailed, PhotoRejected) as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            flash("Thank you: the fix story is on the problem's page.", "success")
            return redirect(url_for("challenges.problem", problem_id=problem.id))
    return render_template("campaigns/fix_story.html", form=form, problem=problem), 422 if form.is_submitted() else 200


def _one_upload(upload, settings: dict) -> bytes | None:
    chosen = read_uploads(upload, max_bytes=settings["max_bytes"])
    return chosen[0] if chosen else None


@bp.app_template_global()
def fix_story_of(problem_id: int):
    """For templates/challenges/problem.html: (the public story or None, may the viewer write one)."""
    story = stories.public_stories(db.session, [problem_id], limit=1)
    may_write = (not story and current_user.is_authenticated
                 and stories.story_refusal(db.session, current_user, get_problem(db.session, problem_id)) is None)
    return (story[0] if story else None), may_write


# --- commands (flask --app app campaigns ...) --------------------------------------------------

@bp.cli.command("close-voting")
def close_voting_command():
    """Count the votes that have closed and choose a campaign (run it from cron)."""
    chosen = services.close_voting(db.session, actor=None)
    finished = services.finish_due(db.session)
    db.session.commit()
    click.echo(f"Chosen: {chosen.title} (#{chosen.id})" if chosen else "No vote has closed.")
    click.echo(f"Campaigns finished: {finished}")
