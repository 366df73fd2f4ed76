"""plate kinds up to 20 characters

Revision ID: ff1dc37cba02
Revises: 1482a9fda59f
Create Date: 2026-11-26 02:16:44.422380

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import vmo.types


# revision identifiers, used by Alembic.
revision = 'ff1dc37cba02'
down_revision = '1482a9fda59f'
branch_labels = None
depends_on = None


def upgrade():
    # "new_energy_large" (large new-energy vehicles) does not fit in 12.
    with op.batch_alter_table('plate_pool', schema=None) as batch_op:
        batch_op.alter_column('kind',
               existing_type=sa.VARCHAR(length=12),
               type_=sa.String(length=20),
               existing_nullable=False)



def downgrade():
    # "new_energy_large" (large new-energy vehicles) does not fit in 12.
    with op.batch_alter_table('plate_pool', schema=None) as batch_op:
        batch_op.alter_column('kind',
               existing_type=sa.String(length=20),
               type_=sa.VARCHAR(length=12),
               existing_nullable=False)

