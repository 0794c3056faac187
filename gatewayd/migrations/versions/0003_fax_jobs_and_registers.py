"""fax: outgoing jobs (发报记录本), the incoming register (进报记录本), notify-me requests

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 17:35:52.906599
"""

from alembic import op
import sqlalchemy as sa
import gatewayd.models


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('fax_notify_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('guest_name', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=50), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=True),
    sa.Column('sender', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('matched_at', gatewayd.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', gatewayd.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('fax_notify_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fax_notify_requests_state'), ['state'], unique=False)

    op.create_table('fax_incoming',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.String(length=64), nullable=False),
    sa.Column('device', sa.String(length=100), nullable=False),
    sa.Column('received_at', gatewayd.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('called_number', sa.String(length=64), nullable=False),
    sa.Column('caller_id', sa.String(length=64), nullable=False),
    sa.Column('remote_station_id', sa.String(length=64), nullable=False),
    sa.Column('subaddress', sa.String(length=64), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('error_pages', sa.Integer(), nullable=False),
    sa.Column('call_status', sa.String(length=24), nullable=False),
    sa.Column('document_path', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=True),
    sa.Column('room', sa.String(length=50), nullable=False),
    sa.Column('guest_name', sa.String(length=200), nullable=False),
    sa.Column('guest_phone', sa.String(length=50), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('assigned_by', sa.String(length=100), nullable=False),
    sa.Column('assigned_at', gatewayd.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('notify_request_id', sa.Integer(), nullable=True),
    sa.Column('called_at', gatewayd.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('called_by', sa.String(length=64), nullable=False),
    sa.Column('archived_at', gatewayd.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['notify_request_id'], ['fax_notify_requests.id'], ),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('call_id')
    )
    with op.batch_alter_table('fax_incoming', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fax_incoming_received_at'), ['received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_fax_incoming_state'), ['state'], unique=False)

    op.create_table('fax_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('modem', sa.String(length=100), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('dial', sa.String(length=64), nullable=False),
    sa.Column('e164', sa.String(length=32), nullable=False),
    sa.Column('region', sa.String(length=8), nullable=False),
    sa.Column('documents', sa.Text(), nullable=False),
    sa.Column('spool', sa.Text(), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('pages_delivered', sa.Integer(), nullable=False),
    sa.Column('delivered', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.Column('next_try_at', gatewayd.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('last_call_id', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', gatewayd.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', gatewayd.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', gatewayd.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('fax_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fax_jobs_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_fax_jobs_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_fax_jobs_ticket_id'), ['ticket_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('fax_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fax_jobs_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_fax_jobs_state'))
        batch_op.drop_index(batch_op.f('ix_fax_jobs_created_at'))

    op.drop_table('fax_jobs')
    with op.batch_alter_table('fax_incoming', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fax_incoming_state'))
        batch_op.drop_index(batch_op.f('ix_fax_incoming_received_at'))

    op.drop_table('fax_incoming')
    with op.batch_alter_table('fax_notify_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fax_notify_requests_state'))

    op.drop_table('fax_notify_requests')
