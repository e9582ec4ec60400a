"""What the moderators' queue quotes of an item, as this moderator may see it: the same on
the /moderate page and in the API. A child is named only to people who may see them
(childsafe.policy): to anyone else a child is "a pupil", and a child's evidence text is
left out where its claim is hidden from the moderator (only their teacher sees it)."""
from __future__ import annotations

from accounts.models import Team, User
from accounts.services import private_team_ids_hidden_from
from childsafe import services as childsafe
from childsafe.policy import children_known_to
from childsafe.views import CHILD_STAND_IN, CLASS_STAND_IN
from extensions import db
from moderation import services as moderation
from moderation.models import Kind

LABEL_MAX = 500  # characters quoted
HIDDEN_EVIDENCE = "(a pupil's evidence, not shown to you)"
HIDDEN_NOTES = "({count} flagger's note(s) not shown: they may quote a pupil)"


class Names:
    """Display names as this viewer may see them: a child only to their teacher and class; a
    private class team ("a school class") only to its class, its teacher and admins."""

    def __init__(self, viewer: User):
        self.viewer = viewer
        self.known = children_known_to(db.session, viewer)
        self._unseen_teams: set[int] | None = None

    def __call__(self, person: User | None) -> str | None:
        if person is None:
            return None
        return person.display_name if not person.is_child or person.id in self.known else CHILD_STAND_IN

    def team(self, team: Team | None) -> str | None:
        if team is None:
            return None
        if self._unseen_teams is None:  # one query, on the first team named
            self._unseen_teams = private_team_ids_hidden_from(db.session, self.viewer)
        return CLASS_STAND_IN if team.id in self._unseen_teams else team.name


def _pupil_hidden(item: moderation.Item, viewer: User, names: Names) -> bool:
    """The item is a pupil's (their profile, or evidence of a claim hidden from the viewer)."""
    if item.kind == Kind.profile.value:
        return item.row.is_child and item.row.id not in names.known
    return item.kind == Kind.evidence.value and childsafe.child_claim_access(db.session, viewer, item.row) is False


def queue_label(item: moderation.Item, viewer: User, names: Names) -> str:
    """The item's text (a profile: its name), at most LABEL_MAX characters."""
    if item.kind == Kind.profile.value:
        return names(item.row) or ""
    if _pupil_hidden(item, viewer, names):
        return HIDDEN_EVIDENCE
    label = item.label or ""
    return label if len(label) <= LABEL_MAX else label[:LABEL_MAX - 3] + "..."


def flag_notes(item: moderation.Item, texts: list[str], viewer: User, names: Names) -> list[str]:
    """What flaggers wrote. On a pupil's item hidden from this moderator the notes are left
    out too, since a flagger (their teacher, a teammate) may have quoted the pupil."""
    if texts and _pupil_hidden(item, viewer, names):
        return [HIDDEN_NOTES.format(count=len(texts))]
    return texts


def labeller(viewer: User):
    """queue_label for one viewer, reading who they may see once."""
    names = Names(viewer)
    return lambda item: queue_label(item, viewer, names)


def noter(viewer: User):
    """flag_notes for one viewer."""
    names = Names(viewer)
    return lambda item, texts: flag_notes(item, texts, viewer, names)
