"""events: jams with quests, entries, organisers

Revision ID: c40cb924dad7
Revises: 902fb425ab80
Create Date: 2026-11-27 08:38:56.137934

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c40cb924dad7'
down_revision = '902fb425ab80'
branch_labels = None
depends_on = None


def upgrade():
    
    op.create_table('events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('registration_opens_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('registration_closes_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('mode', sa.String(length=10), nullable=False),
    sa.Column('min_team_size', sa.Integer(), server_default='1', nullable=False),
    sa.Column('max_team_size', sa.Integer(), server_default='6', nullable=False),
    sa.Column('hide_quests_until_start', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('freeze_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('dynamic_scoring', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finalised_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_events_window_order')),
    sa.CheckConstraint('freeze_at IS NULL OR (freeze_at > starts_at AND freeze_at < ends_at)', name=op.f('ck_events_freeze_inside')),
    sa.CheckConstraint('min_team_size >= 1 AND max_team_size >= min_team_size', name=op.f('ck_events_team_sizes')),
    sa.CheckConstraint('registration_closes_at > registration_opens_at', name=op.f('ck_events_registration_order')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_events_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events'))
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_events_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_events_ends_at'), ['ends_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_events_starts_at'), ['starts_at'], unique=False)

    op.create_table('event_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('registered_by_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('(team_id IS NULL) <> (user_id IS NULL)', name=op.f('ck_event_entries_one_entrant')),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_entries_event_id_events')),
    sa.ForeignKeyConstraint(['registered_by_id'], ['users.id'], name=op.f('fk_event_entries_registered_by_id_users')),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_event_entries_team_id_teams')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_event_entries_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_entries')),
    sa.UniqueConstraint('event_id', 'team_id', name=op.f('uq_event_entries_event_id_team_id')),
    sa.UniqueConstraint('event_id', 'user_id', name=op.f('uq_event_entries_event_id_user_id'))
    )
    with op.batch_alter_table('event_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_entries_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_event_entries_team_id'), ['team_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_event_entries_user_id'), ['user_id'], unique=False)

    op.create_table('event_organisers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_organisers_event_id_events')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_event_organisers_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_organisers')),
    sa.UniqueConstraint('event_id', 'user_id', name=op.f('uq_event_organisers_event_id_user_id'))
    )
    with op.batch_alter_table('event_organisers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_organisers_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_event_organisers_user_id'), ['user_id'], unique=False)

    op.create_table('event_quests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('quest_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_quests_event_id_events')),
    sa.ForeignKeyConstraint(['quest_id'], ['quests.id'], name=op.f('fk_event_quests_quest_id_quests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_quests')),
    sa.UniqueConstraint('quest_id', name=op.f('uq_event_quests_quest_id'))
    )
    with op.batch_alter_table('event_quests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_quests_event_id'), ['event_id'], unique=False)




def downgrade():
    
    with op.batch_alter_table('event_quests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_quests_event_id'))

    op.drop_table('event_quests')
    with op.batch_alter_table('event_organisers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_organisers_user_id'))
        batch_op.drop_index(batch_op.f('ix_event_organisers_event_id'))

    op.drop_table('event_organisers')
    with op.batch_alter_table('event_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_entries_user_id'))
        batch_op.drop_index(batch_op.f('ix_event_entries_team_id'))
        batch_op.drop_index(batch_op.f('ix_event_entries_event_id'))

    op.drop_table('event_entries')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_events_starts_at'))
        batch_op.drop_index(batch_op.f('ix_events_ends_at'))
        batch_op.drop_index(batch_op.f('ix_events_created_by_id'))

    op.drop_table('events')

