"""The teacher's moderation queue: their pupils' evidence waiting to leave the class."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, url_for
from flask_login import current_user, login_required

import aftercommit
from accounts.forms import EmptyForm
from childsafe import quiet, services
from childsafe.models import ModerationHold
from childsafe.policy import children_known_to
from config import ConfigError
from errors import Forbidden
from extensions import db

bp = Blueprint("childsafe", __name__)

CHILD_STAND_IN = "a pupil"
CLASS_STAND_IN = "a school class"  # a private class team (accounts.services.private_class_team_ids)
HIDDEN_STAND_IN = "a participant"


def _delete_files(keys: list[str]) -> None:
    """After the commit, in the app that committed (handlers are shared by every app)."""
    from media.services import _delete, thumb_key

    _delete(current_app.extensions["fixquest.storage"], [name for key in keys for name in (key, thumb_key(key))])


@bp.record_once
def _setup(state) -> None:
    try:
        quiet.from_config(state.app.config)
    except quiet.BadQuietHours as error:
        raise ConfigError(str(error)) from None

    aftercommit.on_commit(services.DELETED_PHOTOS_KEY, _delete_files)

    @state.app.template_global()
    def person_name(person) -> str:
        """A display name, or "a pupil" for a child the viewer is not in the class of
        (organisers reviewing released work need the work, not the child's name), or "a
        participant" for a profile a moderator hid, except to moderators and its owner:
        `User.unnamed_as_author` with the viewer's exceptions on top."""
        if not person.unnamed_as_author:
            return person.display_name
        if person.profile_hidden:  # a moderator hid the profile (moderation/)
            from moderation.visibility import profile_visible

            if not profile_visible(current_user, person):
                return HIDDEN_STAND_IN
        if not person.is_child:
            return person.display_name
        if "childsafe_known" not in g:  # one query per request, however many names a page shows
            g.childsafe_known = children_known_to(db.session, current_user)
        return person.display_name if person.id in g.childsafe_known else CHILD_STAND_IN

    @state.app.template_global()
    def team_name(team) -> str:
        """A team's name, or "a school class" for a private class team the viewer may not
        see (accounts.services.private_class_team_ids): one query per request."""
        if "childsafe_private_teams" not in g:
            from accounts.services import private_team_ids_hidden_from

            g.childsafe_private_teams = private_team_ids_hidden_from(db.session, current_user)
        return CLASS_STAND_IN if team.id in g.childsafe_private_teams else team.name

    @state.app.template_global()
    def moderation_of(claim) -> ModerationHold | None:
        """The hold on a claim's evidence, for the claim page's note (None: not a child's)."""
        return services.hold_of(db.session, claim.id)


@bp.get("/moderation")
@login_required
def queue():
    if not current_user.is_organiser:
        raise Forbidden("see pupils' work", "only teachers check their pupils' evidence.")
    return render_template("childsafe/queue.html", waiting=services.waiting_for(db.session, current_user),
                           action_form=EmptyForm())


@bp.post("/moderation/<int:hold_id>/<any(approve, reject):decision>")
@login_required
def decide(hold_id: int, decision: str):
    if not EmptyForm().validate_on_submit():
        abort(400)
    hold = services.get_hold(db.session, hold_id)
    services.decide(db.session, actor=current_user, hold=hold, decision=decision)
    db.session.commit()
    flash("Released: reviewers can see this evidence now." if decision == "approve"
          else "Sent back: the evidence and its photos were removed, and the pupil can submit again.", "success")
    return redirect(url_for("childsafe.queue"))
