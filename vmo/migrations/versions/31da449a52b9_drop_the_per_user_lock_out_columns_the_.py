"""drop the per-user lock-out columns (the limiter's store counts failures now)

Revision ID: 31da449a52b9
Revises: ff1dc37cba02
Create Date: 2026-11-26 02:56:03.798131

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import vmo.types


# revision identifiers, used by Alembic.
revision = '31da449a52b9'
down_revision = 'ff1dc37cba02'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_logins')


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('locked_until', vmo.types.UTCDateTime(timezone=True), nullable=True))
