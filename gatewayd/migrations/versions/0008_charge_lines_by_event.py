"""charge lines by device event: the outgoing fax register's charges without a scan of the year's lines

``bench/year.py`` on a generated year: ``GET /fax/register/out`` for a day of 47 jobs read every one
of the year's 156k charge lines to find the ~90 its calls produced (52 ms on SQLite, 34 ms on
PostgreSQL, against a 0.2–0.7 ms floor).
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_charge_lines_event_id", "charge_lines", ["event_id"])


def downgrade() -> None:
    op.drop_index("ix_charge_lines_event_id", "charge_lines")
