"""outbox messages carry not_before: texts queued in the quiet night hours wait for the morning

Revision ID: d4e8a1f0b2c3
Revises: 7574499ba433
Create Date: 2026-12-07 07:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

import vmo.types


# revision identifiers, used by Alembic.
revision = 'd4e8a1f0b2c3'
down_revision = '7574499ba433'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('not_before', vmo.types.UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_column('not_before')
