"""notifications: fan-out outbox, and the subscription each notification came from

Revision ID: b7d41e0c9a52
Revises: a1120538e76c
Create Date: 2026-11-27 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d41e0c9a52'
down_revision = 'a1120538e76c'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notification_fanouts',
    sa.Column('update_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['update_id'], ['problem_updates.id'], name=op.f('fk_notification_fanouts_update_id_problem_updates')),
    sa.PrimaryKeyConstraint('update_id', name=op.f('pk_notification_fanouts'))
    )
    with op.batch_alter_table('notification_fanouts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_fanouts_done_at'), ['done_at'], unique=False)

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subscription_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_notifications_subscription_id'), ['subscription_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_notifications_subscription_id_subscriptions'), 'subscriptions',
                                    ['subscription_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_notifications_subscription_id_subscriptions'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_notifications_subscription_id'))
        batch_op.drop_column('subscription_id')

    with op.batch_alter_table('notification_fanouts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_fanouts_done_at'))

    op.drop_table('notification_fanouts')
