"""photo blobs for shared photo storage (PHOTO_STORAGE=database)

Revision ID: 5c0b7a3e9d21
Revises: 7e96bba2f947
Create Date: 2026-11-30 12:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

import vmo.types


# revision identifiers, used by Alembic.
revision = '5c0b7a3e9d21'
down_revision = '7e96bba2f947'
branch_labels = None
depends_on = None


def upgrade():
    # Several app nodes serve one office: the photo bytes live where every node finds them.
    op.create_table('photo_blobs',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('stored_at', vmo.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_photo_blobs'))
    )


def downgrade():
    op.drop_table('photo_blobs')
