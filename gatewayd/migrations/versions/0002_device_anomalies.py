"""device anomalies: what each stored meter reading revealed (reset, serial change, wrap...)

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import gatewayd.models

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('device_anomalies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('device', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('counter', sa.String(length=64), nullable=True),
    sa.Column('before', sa.String(length=200), nullable=True),
    sa.Column('after', sa.String(length=200), nullable=True),
    sa.Column('delta', sa.BigInteger(), nullable=True),
    sa.Column('observed_at', gatewayd.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reading_event_id', sa.Integer(), nullable=False),
    sa.Column('previous_event_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', gatewayd.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['reading_event_id'], ['device_events.id'], ),
    sa.ForeignKeyConstraint(['previous_event_id'], ['device_events.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('device_anomalies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_device_anomalies_device'), ['device'], unique=False)
        batch_op.create_index(batch_op.f('ix_device_anomalies_observed_at'), ['observed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_device_anomalies_reading_event_id'), ['reading_event_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('device_anomalies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_device_anomalies_reading_event_id'))
        batch_op.drop_index(batch_op.f('ix_device_anomalies_observed_at'))
        batch_op.drop_index(batch_op.f('ix_device_anomalies_device'))

    op.drop_table('device_anomalies')
