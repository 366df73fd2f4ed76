"""outbox: length and billed segments of every message

Revision ID: 5c0e3a7d9b21
Revises: b7c1d2e3f4a5
Create Date: 2026-11-30 11:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5c0e3a7d9b21'
down_revision = 'b7c1d2e3f4a5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('length', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('segments', sa.Integer(), nullable=True))
    # Messages already queued: characters of the body; 70 fit one segment, 67 each of several.
    op.execute("UPDATE outbox_messages SET length = char_length(body)" if op.get_bind().dialect.name == "postgresql"
               else "UPDATE outbox_messages SET length = length(body)")
    op.execute("UPDATE outbox_messages SET segments = CASE WHEN length = 0 THEN 0 WHEN length <= 70 THEN 1 "
               "ELSE (length + 66) / 67 END")
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.alter_column('length', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('segments', existing_type=sa.Integer(), nullable=False)


def downgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_column('segments')
        batch_op.drop_column('length')
