"""escalations: call-backs, the supervisor's outcome; replies: the reason after the verdict

Revision ID: 8d2f61c4a0e7
Revises: 5c0e3a7d9b21
Create Date: 2026-11-30 12:10:00

"""
from alembic import op
import sqlalchemy as sa

import vmo.types


# revision identifiers, used by Alembic.
revision = '8d2f61c4a0e7'
down_revision = '5c0e3a7d9b21'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('escalation_callbacks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('escalation_id', sa.Integer(), nullable=False),
    sa.Column('caller_id', sa.Integer(), nullable=False),
    sa.Column('reached', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('called_at', vmo.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['caller_id'], ['users.id'], name=op.f('fk_escalation_callbacks_caller_id_users')),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_escalation_callbacks_office_id_offices')),
    sa.ForeignKeyConstraint(['escalation_id'], ['escalations.id'],
                            name=op.f('fk_escalation_callbacks_escalation_id_escalations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalation_callbacks'))
    )
    with op.batch_alter_table('escalation_callbacks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalation_callbacks_escalation_id'), ['escalation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalation_callbacks_office_id'), ['office_id'], unique=False)
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outcome', sa.String(length=24), nullable=True))
    with op.batch_alter_table('sms_inbound', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('sms_inbound', schema=None) as batch_op:
        batch_op.drop_column('reason')
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.drop_column('outcome')
    with op.batch_alter_table('escalation_callbacks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_escalation_callbacks_office_id'))
        batch_op.drop_index(batch_op.f('ix_escalation_callbacks_escalation_id'))
    op.drop_table('escalation_callbacks')
