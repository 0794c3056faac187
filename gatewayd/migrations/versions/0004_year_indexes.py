"""a year of a busy site: indexes for the monthly report and the lists; device events immutable

Indexes (measured by ``bench/year.py`` on a generated year, 2 GiB, in docs/BENCHMARKS.md):

- ``device_events (kind, device, occurred_at)``: a copier's first and last reading of a month
  and its newest reading (the poller's ``previous``) are index look-ups, not a scan of the year.
- ``device_events (occurred_at, id)``: the month's print jobs and fax calls, and the event list
  newest first with its keyset cursor.
- ``charge_lines (created_at)``: the month's charge lines.

Audit rows for machine-generated device events: none from this revision on (1.8 M rows a year,
a third of the database, each repeating what the event row already says). A ``device_events`` row
already records what happened (kind, device, natural key, payload), when (``occurred_at``,
``recorded_at``), who recorded it (``recorded_by``) and whether a person typed it (``manual``);
the triggers below make those columns immutable and the row undeletable, so the row is as
append-only as an audit entry. What the audit trail still needs, it keeps: an event entered by
hand (``manual``, a person's claim), ``event.attach`` (a person's decision, with the attribution
before it, so the original attribution stays recoverable) and every charge line the event
produced (``charge.add``). Entries already written stay (the trail is append-only).
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

#: Set when the device read them; only the attribution (``ticket_id``, ``attribution``) moves later.
RECORDED = ("kind", "device", "natural_key", "occurred_at", "payload", "manual", "recorded_by", "recorded_at")


def upgrade() -> None:
    op.create_index("ix_device_events_kind_device_occurred_at", "device_events", ["kind", "device", "occurred_at"])
    op.create_index("ix_device_events_occurred_at", "device_events", ["occurred_at", "id"])
    op.create_index("ix_charge_lines_created_at", "charge_lines", ["created_at"])
    columns = ", ".join(RECORDED)
    message = "device_events are append-only: only ticket_id and attribution may change"
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION device_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN RAISE EXCEPTION '{message}'; END $$"
        )
        op.execute(
            f"CREATE TRIGGER device_events_append_only BEFORE DELETE OR UPDATE OF {columns} ON device_events"
            " FOR EACH ROW EXECUTE FUNCTION device_events_append_only()"
        )
    else:
        op.execute(
            "CREATE TRIGGER device_events_no_delete BEFORE DELETE ON device_events"
            f" BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )
        op.execute(
            f"CREATE TRIGGER device_events_no_update BEFORE UPDATE OF {columns} ON device_events"
            f" BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER device_events_append_only ON device_events")
        op.execute("DROP FUNCTION device_events_append_only()")
    else:
        op.execute("DROP TRIGGER device_events_no_delete")
        op.execute("DROP TRIGGER device_events_no_update")
    op.drop_index("ix_charge_lines_created_at", "charge_lines")
    op.drop_index("ix_device_events_occurred_at", "device_events")
    op.drop_index("ix_device_events_kind_device_occurred_at", "device_events")
