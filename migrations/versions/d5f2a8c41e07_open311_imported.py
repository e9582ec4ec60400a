"""open311: problems imported from other GeoReport v2 servers

Revision ID: d5f2a8c41e07
Revises: 4ea3b86c2aac
Create Date: 2026-11-28 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "d5f2a8c41e07"
down_revision = "4ea3b86c2aac"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "open311_imported",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("problem_id", sa.Integer(), nullable=False),
        sa.Column("remote_status", sa.String(length=40), nullable=True),
        sa.Column("remote_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["problem_id"], ["problems.id"], name=op.f("fk_open311_imported_problem_id_problems")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open311_imported")),
        sa.UniqueConstraint("source", "external_id", name=op.f("uq_open311_imported_source_external_id")),
        sa.UniqueConstraint("problem_id", name=op.f("uq_open311_imported_problem_id")),
    )


def downgrade():
    op.drop_table("open311_imported")
