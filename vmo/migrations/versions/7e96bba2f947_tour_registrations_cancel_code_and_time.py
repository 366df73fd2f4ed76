"""tour registrations: cancel code and time

Revision ID: 7e96bba2f947
Revises: 31da449a52b9
Create Date: 2026-11-26 03:10:01.433528

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import vmo.types


# revision identifiers, used by Alembic.
revision = '7e96bba2f947'
down_revision = '31da449a52b9'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tour_registrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancel_code_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('cancelled_at', vmo.types.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('tour_registrations', schema=None) as batch_op:
        batch_op.drop_column('cancelled_at')
        batch_op.drop_column('cancel_code_hash')
