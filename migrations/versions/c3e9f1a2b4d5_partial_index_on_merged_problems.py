"""partial index on problems.merged_into_id

Almost no problem is merged. A full index on merged_into_id made SQLite answer the problem
list ("merged_into_id IS NULL ... ORDER BY created_at") through it and sort in memory:
216 ms a page at 1,000,000 problems, 0.1 ms with this partial index.

Revision ID: c3e9f1a2b4d5
Revises: b7d41e0c9a52
"""
from alembic import op
import sqlalchemy as sa


revision = "c3e9f1a2b4d5"
down_revision = "b7d41e0c9a52"
branch_labels = None
depends_on = None

WHERE = "merged_into_id IS NOT NULL"


def upgrade():
    with op.batch_alter_table("problems", schema=None) as batch_op:
        batch_op.drop_index("ix_problems_merged_into_id")
        batch_op.create_index("ix_problems_merged_into_id", ["merged_into_id"], unique=False,
                              sqlite_where=sa.text(WHERE), postgresql_where=sa.text(WHERE))


def downgrade():
    with op.batch_alter_table("problems", schema=None) as batch_op:
        batch_op.drop_index("ix_problems_merged_into_id", sqlite_where=sa.text(WHERE), postgresql_where=sa.text(WHERE))
        batch_op.create_index("ix_problems_merged_into_id", ["merged_into_id"], unique=False)
