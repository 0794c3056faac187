"""audit trail: through which door a change came (api socket or the browser console)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 22:10:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN with a default: no UPDATE runs, so the append-only triggers stay quiet.
    op.add_column('audit_trail', sa.Column('via', sa.String(length=16), nullable=False, server_default='api'))


def downgrade() -> None:
    with op.batch_alter_table('audit_trail', schema=None) as batch_op:
        batch_op.drop_column('via')
