"""learner permits, session classes and cancellation, booking scores

Revision ID: b7e22619bfd7
Revises: f968844da6dc
Create Date: 2026-11-30 11:47:12.946862

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import vmo.types


# revision identifiers, used by Alembic.
revision = 'b7e22619bfd7'
down_revision = 'f968844da6dc'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('learner_permits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('license_class', sa.String(length=4), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.Column('prior_bookings_2', sa.Integer(), nullable=False),
    sa.Column('prior_bookings_3', sa.Integer(), nullable=False),
    sa.Column('voided_on', sa.Date(), nullable=True),
    sa.Column('void_reason', sa.String(length=32), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('created_at', vmo.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', vmo.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('prior_bookings_2 >= 0 AND prior_bookings_3 >= 0', name=op.f('ck_learner_permits_prior_bookings_not_negative')),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_learner_permits_office_id_offices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_learner_permits')),
    sa.UniqueConstraint('id_number', 'issued_on', name='one_permit_per_person_and_day')
    )
    with op.batch_alter_table('learner_permits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_learner_permits_id_number'), ['id_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_learner_permits_office_id'), ['office_id'], unique=False)

    op.create_table('learner_permit_passes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('permit_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.Integer(), nullable=False),
    sa.Column('passed_on', sa.Date(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('subject BETWEEN 1 AND 4', name=op.f('ck_learner_permit_passes_pass_subject_range')),
    sa.ForeignKeyConstraint(['booking_id'], ['exam_bookings.id'], name=op.f('fk_learner_permit_passes_booking_id_exam_bookings')),
    sa.ForeignKeyConstraint(['permit_id'], ['learner_permits.id'], name=op.f('fk_learner_permit_passes_permit_id_learner_permits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_learner_permit_passes')),
    sa.UniqueConstraint('permit_id', 'subject', name='one_pass_per_subject')
    )
    with op.batch_alter_table('learner_permit_passes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_learner_permit_passes_permit_id'), ['permit_id'], unique=False)

    with op.batch_alter_table('exam_bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancelled_by', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('score', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('retake_score', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('booked_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_exam_bookings_booked_by_id_users'), 'users', ['booked_by_id'], ['id'])

    with op.batch_alter_table('test_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('class_list', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('status', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('cancelled_at', vmo.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('cancel_reason', sa.Text(), nullable=True))
    # Every existing session served its one class and was scheduled.
    op.execute("UPDATE test_sessions SET class_list = license_class, status = 'scheduled'")
    with op.batch_alter_table('test_sessions', schema=None) as batch_op:
        batch_op.alter_column('class_list', existing_type=sa.String(length=80), nullable=False)
        batch_op.alter_column('status', existing_type=sa.String(length=16), nullable=False)



def downgrade():
    with op.batch_alter_table('test_sessions', schema=None) as batch_op:
        batch_op.drop_column('cancel_reason')
        batch_op.drop_column('cancelled_at')
        batch_op.drop_column('status')
        batch_op.drop_column('class_list')

    with op.batch_alter_table('exam_bookings', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_exam_bookings_booked_by_id_users'), type_='foreignkey')
        batch_op.drop_column('booked_by_id')
        batch_op.drop_column('retake_score')
        batch_op.drop_column('score')
        batch_op.drop_column('cancelled_by')

    with op.batch_alter_table('learner_permit_passes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_learner_permit_passes_permit_id'))

    op.drop_table('learner_permit_passes')
    with op.batch_alter_table('learner_permits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_learner_permits_office_id'))
        batch_op.drop_index(batch_op.f('ix_learner_permits_id_number'))

    op.drop_table('learner_permits')
