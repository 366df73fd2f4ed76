"""mailings: plates and papers posted to people and companies, tracked until delivered or returned

Revision ID: f1a2b3c4d5e6
Revises: d4e8a1b2c3f0
Create Date: 2026-12-07 07:50:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import vmo.types


# revision identifiers, used by Alembic.
revision = 'f1a2b3c4d5e6'
down_revision = 'd4e8a1b2c3f0'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mailings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('case_type', sa.String(length=32), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('open_case', sa.String(length=48), nullable=True),
    sa.Column('recipient', sa.String(length=60), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('items', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('carrier', sa.String(length=20), nullable=True),
    sa.Column('tracking_number', sa.String(length=40), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('sent_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', vmo.types.UTCDateTime(), nullable=False),
    sa.Column('sent_at', vmo.types.UTCDateTime(), nullable=True),
    sa.Column('closed_at', vmo.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_mailings_office_id_offices')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_mailings_requested_by_id_users')),
    sa.ForeignKeyConstraint(['sent_by_id'], ['users.id'], name=op.f('fk_mailings_sent_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mailings')),
    sa.UniqueConstraint('open_case', name=op.f('uq_mailings_open_case'))
    )
    with op.batch_alter_table('mailings', schema=None) as batch_op:
        batch_op.create_index('ix_mailings_case', ['case_type', 'case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mailings_office_id'), ['office_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mailings_status'), ['status'], unique=False)


def downgrade():
    with op.batch_alter_table('mailings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mailings_status'))
        batch_op.drop_index(batch_op.f('ix_mailings_office_id'))
        batch_op.drop_index('ix_mailings_case')
    op.drop_table('mailings')
