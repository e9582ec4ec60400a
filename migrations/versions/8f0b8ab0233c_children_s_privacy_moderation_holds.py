"""children's privacy: moderation holds (a child's evidence waits for a teacher)

Revision ID: 8f0b8ab0233c
Revises: 5ef30d015089
Create Date: 2026-11-27 08:41:21.380928

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8f0b8ab0233c'
down_revision = '5ef30d015089'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('moderation_holds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['child_id'], ['users.id'], name=op.f('fk_moderation_holds_child_id_users')),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_moderation_holds_claim_id_claims')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_moderation_holds_decided_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_moderation_holds')),
    sa.UniqueConstraint('claim_id', name=op.f('uq_moderation_holds_claim_id'))
    )
    with op.batch_alter_table('moderation_holds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_moderation_holds_child_id'), ['child_id'], unique=False)
        batch_op.create_index('ix_moderation_holds_state_created', ['state', 'created_at'], unique=False)



def downgrade():
    with op.batch_alter_table('moderation_holds', schema=None) as batch_op:
        batch_op.drop_index('ix_moderation_holds_state_created')
        batch_op.drop_index(batch_op.f('ix_moderation_holds_child_id'))

    op.drop_table('moderation_holds')
