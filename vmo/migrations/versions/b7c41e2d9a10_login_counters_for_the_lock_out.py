"""login counters: the sign-in lock-out counts in the database when no shared store is configured

Revision ID: b7c41e2d9a10
Revises: 5c0b7a3e9d21
Create Date: 2026-11-30 12:20:00.000000

"""
from alembic import op
import sqlalchemy as sa

import vmo.types


# revision identifiers, used by Alembic.
revision = 'b7c41e2d9a10'
down_revision = '5c0b7a3e9d21'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_counters',
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', vmo.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_login_counters'))
    )


def downgrade():
    op.drop_table('login_counters')
