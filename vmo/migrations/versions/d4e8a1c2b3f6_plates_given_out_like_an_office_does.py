"""plates given out like an office does: draws counted per vehicle; a VIN once per office, not per deployment

Revision ID: d4e8a1c2b3f6
Revises: e5f9b2a1c3d4
Create Date: 2026-12-07 07:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4e8a1c2b3f6'
down_revision = 'e5f9b2a1c3d4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('fleet_vehicles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('plate_draws', sa.Integer(), server_default='0', nullable=False))
        batch_op.drop_constraint(batch_op.f('uq_fleet_vehicles_vin'), type_='unique')
        batch_op.create_unique_constraint('office_vin', ['office_id', 'vin'])
        batch_op.create_index(batch_op.f('ix_fleet_vehicles_vin'), ['vin'], unique=False)


def downgrade():
    with op.batch_alter_table('fleet_vehicles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fleet_vehicles_vin'))
        batch_op.drop_constraint('office_vin', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_fleet_vehicles_vin'), ['vin'])
        batch_op.drop_column('plate_draws')
