"""school classes, child accounts without email

Revision ID: 902fb425ab80
Revises: 8f0b8ab0233c
Create Date: 2026-11-27 08:39:01.336159

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '902fb425ab80'
down_revision = '8f0b8ab0233c'
branch_labels = None
depends_on = None


def upgrade():
    
    op.create_table('school_classes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=8), nullable=False),
    sa.Column('secret_kind', sa.String(length=10), nullable=False),
    sa.Column('streaks_enabled', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('show_in_rankings', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('children_deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_school_classes_team_id_teams')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_school_classes')),
    sa.UniqueConstraint('code', name=op.f('uq_school_classes_code')),
    sa.UniqueConstraint('team_id', name=op.f('uq_school_classes_team_id'))
    )
    op.create_table('class_children',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('class_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('card_name', sa.String(length=40), nullable=False),
    sa.Column('secret_set_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['class_id'], ['school_classes.id'], name=op.f('fk_class_children_class_id_school_classes')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_class_children_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_class_children')),
    sa.UniqueConstraint('class_id', 'card_name', name=op.f('uq_class_children_class_id_card_name')),
    sa.UniqueConstraint('user_id', name=op.f('uq_class_children_user_id'))
    )
    with op.batch_alter_table('class_children', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_class_children_class_id'), ['class_id'], unique=False)

    op.create_table('class_name_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('class_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('requested_name', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['class_id'], ['school_classes.id'], name=op.f('fk_class_name_requests_class_id_school_classes')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_class_name_requests_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_class_name_requests'))
    )
    with op.batch_alter_table('class_name_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_class_name_requests_class_id'), ['class_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_class_name_requests_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('email',
               existing_type=sa.VARCHAR(length=254),
               nullable=True)




def downgrade():
    # Children's accounts have no email: delete them (classes' "delete children's accounts")
    # before downgrading, or this step refuses.
    
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('email',
               existing_type=sa.VARCHAR(length=254),
               nullable=False)

    with op.batch_alter_table('class_name_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_class_name_requests_user_id'))
        batch_op.drop_index(batch_op.f('ix_class_name_requests_class_id'))

    op.drop_table('class_name_requests')
    with op.batch_alter_table('class_children', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_class_children_class_id'))

    op.drop_table('class_children')
    op.drop_table('school_classes')

