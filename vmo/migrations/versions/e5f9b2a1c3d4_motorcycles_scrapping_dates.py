"""motorcycles carry three_wheeled and scrap_on: past the scrapping age or three cycles missed is scrap_due

Revision ID: e5f9b2a1c3d4
Revises: d4e8a1f0b2c3
Create Date: 2026-12-07 07:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5f9b2a1c3d4'
down_revision = 'd4e8a1f0b2c3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('motorcycles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('three_wheeled', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('scrap_on', sa.Date(), nullable=True))
    # The rules' fingerprint now names the scrapping years: every row is recomputed on first use.
    op.execute("UPDATE motorcycles SET due_rules = ''")


def downgrade():
    with op.batch_alter_table('motorcycles', schema=None) as batch_op:
        batch_op.drop_column('scrap_on')
        batch_op.drop_column('three_wheeled')
