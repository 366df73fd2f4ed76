"""candidate sign-ups wait for the code texted to their phone; the answer never confirms an ID number

Revision ID: c3a9d5e7f201
Revises: b7e22619bfd7
Create Date: 2026-11-30 14:50:00.000000

"""
from alembic import op
import sqlalchemy as sa

import vmo.types


# revision identifiers, used by Alembic.
revision = 'c3a9d5e7f201'
down_revision = 'b7e22619bfd7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('candidate_signups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('license_class', sa.String(length=4), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=True),
    sa.Column('code_expires_at', vmo.types.UTCDateTime(), nullable=False),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.Column('created_at', vmo.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_candidate_signups_office_id_offices')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_candidate_signups_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_candidate_signups')),
    sa.UniqueConstraint('user_id', name=op.f('uq_candidate_signups_user_id'))
    )
    with op.batch_alter_table('candidate_signups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_candidate_signups_id_number'), ['id_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_candidate_signups_office_id'), ['office_id'], unique=False)


def downgrade():
    with op.batch_alter_table('candidate_signups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_candidate_signups_office_id'))
        batch_op.drop_index(batch_op.f('ix_candidate_signups_id_number'))
    op.drop_table('candidate_signups')
