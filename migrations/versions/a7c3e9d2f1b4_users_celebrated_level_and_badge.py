"""users.celebrated_level and users.celebrated_badge_id (what the dashboard has celebrated);
problems index for the lists (unmerged, newest first)

Revision ID: a7c3e9d2f1b4
Revises: 6fe17ab93d6d
Create Date: 2026-11-27 11:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c3e9d2f1b4'
down_revision = '6fe17ab93d6d'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('celebrated_level', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('celebrated_badge_id', sa.Integer(), nullable=True))
    with op.batch_alter_table('problems', schema=None) as batch_op:
        batch_op.create_index('ix_problems_unmerged_newest', ['created_at', 'id'], unique=False,
                              sqlite_where=sa.text('merged_into_id IS NULL'),
                              postgresql_where=sa.text('merged_into_id IS NULL'))


def downgrade():
    with op.batch_alter_table('problems', schema=None) as batch_op:
        batch_op.drop_index('ix_problems_unmerged_newest', sqlite_where=sa.text('merged_into_id IS NULL'),
                            postgresql_where=sa.text('merged_into_id IS NULL'))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('celebrated_badge_id')
        batch_op.drop_column('celebrated_level')
