"""the priority lane has days of its own, bookings confirmed by the phone's code, one active per person and phone

Revision ID: e5f9b2d3c4a7
Revises: d4e8a1c2b3f6
Create Date: 2026-12-07 08:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import vmo.types


# revision identifiers, used by Alembic.
revision = 'e5f9b2d3c4a7'
down_revision = 'd4e8a1c2b3f6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('priority_days',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=False),
    sa.Column('created_at', vmo.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_priority_days_office_id_offices')),
    sa.ForeignKeyConstraint(['slot_id'], ['slots.id'], name=op.f('fk_priority_days_slot_id_slots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_priority_days')),
    sa.UniqueConstraint('office_id', 'day', name='office_priority_day'),
    sa.UniqueConstraint('slot_id', name=op.f('uq_priority_days_slot_id'))
    )
    with op.batch_alter_table('priority_days', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_priority_days_office_id'), ['office_id'], unique=False)

    op.create_table('priority_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('business', sa.String(length=200), nullable=True),
    sa.Column('certificate_number', sa.String(length=40), nullable=True),
    sa.Column('code_hash', sa.String(length=64), nullable=True),
    sa.Column('expires_at', vmo.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.Column('created_at', vmo.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_priority_requests_office_id_offices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_priority_requests'))
    )
    with op.batch_alter_table('priority_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_priority_requests_office_id'), ['office_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_priority_requests_phone'), ['phone'], unique=False)

    # Each green-channel day's priority places become the lane's day of that date (the same slot, the
    # same id, so the bookings' day_id stays right).
    op.execute("INSERT INTO priority_days (id, office_id, day, slot_id, created_at) "
               "SELECT id, office_id, day, priority_slot_id, created_at FROM green_channel_days "
               "WHERE priority_slot_id IS NOT NULL")
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("SELECT setval(pg_get_serial_sequence('priority_days', 'id'), "
                   "COALESCE((SELECT MAX(id) FROM priority_days), 0) + 1, false)")

    with op.batch_alter_table('priority_bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('active_id_number', sa.String(length=18), nullable=True))
        batch_op.add_column(sa.Column('active_phone', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('booked_by_id', sa.Integer(), nullable=True))
        batch_op.drop_constraint(batch_op.f('uq_priority_bookings_active_key'), type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_priority_bookings_day_id_green_channel_days'), type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_priority_bookings_day_id_priority_days'), 'priority_days',
                                    ['day_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_priority_bookings_booked_by_id_users'), 'users',
                                    ['booked_by_id'], ['id'])
        batch_op.create_unique_constraint(batch_op.f('uq_priority_bookings_active_id_number'), ['active_id_number'])
        batch_op.create_unique_constraint(batch_op.f('uq_priority_bookings_active_phone'), ['active_phone'])
        batch_op.drop_column('active_key')


def downgrade():
    with op.batch_alter_table('priority_bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('active_key', sa.String(length=40), nullable=True))
        batch_op.drop_constraint(batch_op.f('uq_priority_bookings_active_phone'), type_='unique')
        batch_op.drop_constraint(batch_op.f('uq_priority_bookings_active_id_number'), type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_priority_bookings_booked_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_priority_bookings_day_id_priority_days'), type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_priority_bookings_day_id_green_channel_days'),
                                    'green_channel_days', ['day_id'], ['id'])
        batch_op.create_unique_constraint(batch_op.f('uq_priority_bookings_active_key'), ['active_key'])
        batch_op.drop_column('booked_by_id')
        batch_op.drop_column('active_phone')
        batch_op.drop_column('active_id_number')
    with op.batch_alter_table('priority_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_priority_requests_phone'))
        batch_op.drop_index(batch_op.f('ix_priority_requests_office_id'))
    op.drop_table('priority_requests')
    with op.batch_alter_table('priority_days', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_priority_days_office_id'))
    op.drop_table('priority_days')
