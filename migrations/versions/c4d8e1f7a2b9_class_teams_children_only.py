"""A school class's team holds only its children; a pupil is in no other team (data only)

Before this, an invite link or a join request could let an adult into a class's team (where
members see every pupil), and a pupil could join any organiser's team by its code. The
services now refuse both (accounts.services: ClassTeam, and children in _add_member); this
removes what got in earlier: adults from class teams (not the teacher who captains it),
pupils from teams other than their class's, withdraws class teams' invite links and
declines their pending requests. Points already earned stay in the ledger. On a site with
Redis, run `flask --app app scoring rebuild` afterwards if anything was removed (team
scopes list members).

Revision ID: c4d8e1f7a2b9
Revises: a7c3e9d2f1b4
Create Date: 2026-11-27 16:05:00.000000

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4d8e1f7a2b9'
down_revision = 'a7c3e9d2f1b4'
branch_labels = None
depends_on = None

CLASS_TEAMS = "SELECT team_id FROM school_classes"


def upgrade():
    bind = op.get_bind()
    now = datetime.now(timezone.utc)
    if bind.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # as timeutil.UTCDateTime stores it there
    bind.execute(sa.text(
        f"DELETE FROM team_memberships WHERE team_id IN ({CLASS_TEAMS}) "
        "AND user_id IN (SELECT id FROM users WHERE is_child = :no) "
        "AND user_id <> (SELECT captain_id FROM teams WHERE teams.id = team_memberships.team_id)"),
        {"no": False})
    bind.execute(sa.text(
        "DELETE FROM team_memberships WHERE user_id IN (SELECT user_id FROM class_children) "
        "AND team_id NOT IN (SELECT school_classes.team_id FROM school_classes JOIN class_children "
        "ON class_children.class_id = school_classes.id WHERE class_children.user_id = team_memberships.user_id)"))
    bind.execute(sa.text(f"UPDATE team_invites SET revoked_at = :now WHERE team_id IN ({CLASS_TEAMS}) "
                         "AND revoked_at IS NULL").bindparams(sa.bindparam("now", now, sa.DateTime(timezone=True))))
    bind.execute(sa.text(f"UPDATE team_join_requests SET status = 'declined', decided_at = :now "
                         f"WHERE team_id IN ({CLASS_TEAMS}) AND status = 'pending'")
                 .bindparams(sa.bindparam("now", now, sa.DateTime(timezone=True))))


def downgrade():
    pass  # the removed memberships are not brought back: they should never have been
