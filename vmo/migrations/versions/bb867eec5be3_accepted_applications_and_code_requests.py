"""accepted applications (受理) before anything scarce; password resets and code requests for the codes texted

Revision ID: bb867eec5be3
Revises: e3a60c604d32
Create Date: 2026-12-07 06:55:22.903654

"""
from alembic import op
import sqlalchemy as sa

import vmo.types


# revision identifiers, used by Alembic.
revision = 'bb867eec5be3'
down_revision = 'e3a60c604d32'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('code_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('id_key', sa.String(length=64), nullable=False),
    sa.Column('phone_key', sa.String(length=64), nullable=True),
    sa.Column('created_at', vmo.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_code_requests'))
    )
    with op.batch_alter_table('code_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_code_requests_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_code_requests_id_key'), ['id_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_code_requests_phone_key'), ['phone_key'], unique=False)

    op.create_table('exam_applications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('license_class', sa.String(length=4), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('medical_on', sa.Date(), nullable=False),
    sa.Column('school', sa.String(length=200), nullable=True),
    sa.Column('accepted_at', vmo.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('accepted_by_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('created_at', vmo.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['accepted_by_id'], ['users.id'], name=op.f('fk_exam_applications_accepted_by_id_users')),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_exam_applications_office_id_offices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exam_applications')),
    sa.UniqueConstraint('id_number', 'license_class', name='one_application_per_class')
    )
    with op.batch_alter_table('exam_applications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exam_applications_id_number'), ['id_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_exam_applications_office_id'), ['office_id'], unique=False)

    op.create_table('password_resets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('code_expires_at', vmo.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.Column('created_at', vmo.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_password_resets_office_id_offices')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_password_resets_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_password_resets')),
    sa.UniqueConstraint('user_id', name=op.f('uq_password_resets_user_id'))
    )
    with op.batch_alter_table('password_resets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_password_resets_office_id'), ['office_id'], unique=False)

    # Codes waiting were hashed with plain SHA-256, which anyone reading the table reverses: spend them,
    # so the next sign-in texts a new code (kept as a keyed hash).
    op.execute("UPDATE candidate_signups SET code_expires_at = created_at WHERE code_hash IS NOT NULL")


def downgrade():
    with op.batch_alter_table('password_resets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_password_resets_office_id'))

    op.drop_table('password_resets')
    with op.batch_alter_table('exam_applications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exam_applications_office_id'))
        batch_op.drop_index(batch_op.f('ix_exam_applications_id_number'))

    op.drop_table('exam_applications')
    with op.batch_alter_table('code_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_code_requests_phone_key'))
        batch_op.drop_index(batch_op.f('ix_code_requests_id_key'))
        batch_op.drop_index(batch_op.f('ix_code_requests_created_at'))

    op.drop_table('code_requests')
