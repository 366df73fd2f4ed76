"""test sessions name their examiners; the first receives the sitting's follow-ups

Revision ID: d4e8a1b2c3f0
Revises: e5f9b2d3c4a7
Create Date: 2026-12-07 07:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4e8a1b2c3f0'
down_revision = 'e5f9b2d3c4a7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('test_session_examiners',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('position >= 1', name=op.f('ck_test_session_examiners_examiner_position_from_1')),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_test_session_examiners_office_id_offices')),
    sa.ForeignKeyConstraint(['session_id'], ['test_sessions.id'],
                            name=op.f('fk_test_session_examiners_session_id_test_sessions')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_test_session_examiners_user_id_users')),
    sa.PrimaryKeyConstraint('session_id', 'position', name=op.f('pk_test_session_examiners')),
    sa.UniqueConstraint('session_id', 'user_id', name='one_place_per_examiner')
    )
    with op.batch_alter_table('test_session_examiners', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_test_session_examiners_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('test_session_examiners', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_test_session_examiners_user_id'))
    op.drop_table('test_session_examiners')
