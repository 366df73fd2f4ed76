"""inspection records: engine numbers, matches, walk-ins off the register, photo kinds

Revision ID: b7c1d2e3f4a5
Revises: b7c41e2d9a10
Create Date: 2026-11-30 12:05:00

"""
from alembic import op
import sqlalchemy as sa

import vmo.types


# revision identifiers, used by Alembic.
revision = 'b7c1d2e3f4a5'
down_revision = 'b7c41e2d9a10'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('motorcycles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('engine_number', sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column('from_walk_in', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.alter_column('registered_on', existing_type=sa.Date(), nullable=True)
    with op.batch_alter_table('tour_inspections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('engine_number', sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column('vin_matches', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('engine_number_matches', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('owner_name', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('not_on_register', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('photos', vmo.types.JSONType, nullable=True))
    with op.batch_alter_table('tour_inspection_photos', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table('tour_inspection_photos', schema=None) as batch_op:
        batch_op.drop_column('kind')
    with op.batch_alter_table('tour_inspections', schema=None) as batch_op:
        for name in ('photos', 'not_on_register', 'owner_name', 'engine_number_matches', 'vin_matches',
                     'engine_number'):
            batch_op.drop_column(name)
    with op.batch_alter_table('motorcycles', schema=None) as batch_op:
        batch_op.alter_column('registered_on', existing_type=sa.Date(), nullable=False)
        batch_op.drop_column('from_walk_in')
        batch_op.drop_column('engine_number')
