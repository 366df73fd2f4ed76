"""home visits: requested by staff, assigned to an officer, ended with an outcome

Revision ID: e3a60c604d32
Revises: f1a2b3c4d5e6
Create Date: 2026-12-07 07:06:16

"""
from alembic import op
import sqlalchemy as sa

import vmo.types


# revision identifiers, used by Alembic.
revision = 'e3a60c604d32'
down_revision = 'f1a2b3c4d5e6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('home_visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('township', sa.String(length=60), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('business', sa.String(length=200), nullable=False),
    sa.Column('wanted_date', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('requested_at', vmo.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('requested_on', sa.Date(), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=True),
    sa.Column('date', sa.Date(), nullable=True),
    sa.Column('window_from', sa.String(length=5), nullable=True),
    sa.Column('window_until', sa.String(length=5), nullable=True),
    sa.Column('assigned_by_id', sa.Integer(), nullable=True),
    sa.Column('assigned_at', vmo.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('recorded_at', vmo.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome_at', vmo.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome_client_id', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['assigned_by_id'], ['users.id'], name=op.f('fk_home_visits_assigned_by_id_users')),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_home_visits_office_id_offices')),
    sa.ForeignKeyConstraint(['officer_id'], ['users.id'], name=op.f('fk_home_visits_officer_id_users')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_home_visits_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_home_visits'))
    )
    with op.batch_alter_table('home_visits', schema=None) as batch_op:
        batch_op.create_index('ix_home_visits_office_status_date', ['office_id', 'status', 'date'], unique=False)
        batch_op.create_index('ix_home_visits_officer_date', ['officer_id', 'date'], unique=False)



def downgrade():
    with op.batch_alter_table('home_visits', schema=None) as batch_op:
        batch_op.drop_index('ix_home_visits_officer_date')
        batch_op.drop_index('ix_home_visits_office_status_date')

    op.drop_table('home_visits')
