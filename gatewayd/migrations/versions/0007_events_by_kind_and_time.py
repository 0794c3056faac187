"""device events by kind and time: the month's print jobs and fax calls without reading its readings

``bench/year.py`` on a generated year showed the monthly report scanning the month's 90k events
through ``ix_device_events_occurred_at`` and reading each row to skip the 83k meter readings among
them; ``(kind, occurred_at)`` reaches the 7k print jobs and fax calls directly.
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_device_events_kind_occurred_at", "device_events", ["kind", "occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_device_events_kind_occurred_at", "device_events")
