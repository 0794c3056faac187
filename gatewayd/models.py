"""The ledger's tables (SQLAlchemy 2 typed ORM). The schema itself is owned by the migrations."""

from __future__ import annotations

import enum
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in and out on every backend (SQLite would otherwise hand back naive times)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} refused: store aware UTC times only")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Money(TypeDecorator[Decimal]):
    """Exact decimal money: NUMERIC on PostgreSQL, text on SQLite (whose NUMERIC is a float).

    PostgreSQL's NUMERIC without a fixed scale keeps the scale it was given, so 27.00 comes back
    27.00 on both backends (a NUMERIC(18,4) column would hand back 27.0000)."""

    impl = String(32)
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(asdecimal=True))
        return dialect.type_descriptor(String(32))

    def process_bind_param(self, value: Decimal | None, dialect: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"money must be Decimal, got {type(value).__name__}")
        return value if dialect.name == "postgresql" else str(value)

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        return None if value is None else Decimal(value)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), Decimal: Money(), dict[str, Any]: JSON()}


class TicketKind(enum.StrEnum):
    FAX_OUT = "fax_out"
    FAX_IN = "fax_in"  #: pickup of a received fax
    PRINT = "print"  #: typing and printing
    COPY = "copy"
    ERRAND = "errand"  #: 代办
    OTHER = "other"


class TicketState(enum.StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    AWAITING_METER = "awaiting_meter"  #: copy done, but the copier's closing reading is still missing
    AWAITING_CUSTOMER = "awaiting_customer"  #: done; the customer checks and signs
    COMPLETED = "completed"
    SETTLED = "settled"  #: paid or charged to account; immutable from here on
    CANCELLED = "cancelled"
    FAILED = "failed"  #: a fax that could not be delivered after its retries


class PaymentMethod(enum.StrEnum):
    CASH = "cash"
    ACCOUNT = "account"  #: charged to the tenant's monthly account


class ReceiptKind(enum.StrEnum):
    TEMPORARY = "temporary"  #: fees collected up front (errands)
    FORMAL = "formal"  #: issued at settlement, lists the lines


class Attribution(enum.StrEnum):
    MATCHED = "matched"
    UNATTRIBUTED = "unattributed"
    INTERNAL = "internal"  #: staff marked it as the centre's own use


def _enum(kind: type[enum.StrEnum]) -> Any:
    # Stored as plain strings: readable in psql/sqlite3 and no ALTER TYPE when a member is added.
    return String(24)


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    company: Mapped[str] = mapped_column(String(200), unique=True)
    rooms: Mapped[str] = mapped_column(String(200), default="")  # comma-separated, e.g. "1203,1205"
    contact: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(50), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    fax_numbers: Mapped[str] = mapped_column(String(200), default="")  # routing of incoming faxes
    created_at: Mapped[datetime]


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)  # T-2026-000123
    kind: Mapped[str] = mapped_column(_enum(TicketKind))
    state: Mapped[str] = mapped_column(_enum(TicketState), index=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id"))
    room: Mapped[str] = mapped_column(String(50), default="")
    guest_name: Mapped[str] = mapped_column(String(200), default="")
    guest_phone: Mapped[str] = mapped_column(String(50), default="")
    device: Mapped[str] = mapped_column(String(100), default="")  # copier/printer/modem it uses
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    quoted_total: Mapped[Decimal | None]
    note: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")  # why cancelled / failed
    signed_by: Mapped[str] = mapped_column(String(200), default="")
    opened_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    settled_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    tenant: Mapped[Tenant | None] = relationship()
    charges: Mapped[list[ChargeLine]] = relationship(order_by="ChargeLine.id")
    payments: Mapped[list[Payment]] = relationship(order_by="Payment.id")
    receipts: Mapped[list[Receipt]] = relationship(order_by="Receipt.id")

    __mapper_args__ = {"version_id_col": version}


class ChargeLine(Base):
    __tablename__ = "charge_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    quantity: Mapped[Decimal]
    unit: Mapped[str] = mapped_column(String(32))
    unit_price: Mapped[Decimal]
    amount: Mapped[Decimal]
    rule: Mapped[str] = mapped_column(String(100), default="manual")
    rate_version: Mapped[str] = mapped_column(String(64), default="")
    inputs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("device_events.id"))
    manual: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(index=True)


class Payment(Base):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    method: Mapped[str] = mapped_column(_enum(PaymentMethod))
    amount: Mapped[Decimal]
    received_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class Receipt(Base):
    __tablename__ = "receipts"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)  # R-2026-000001 / TR-2026-000001
    kind: Mapped[str] = mapped_column(_enum(ReceiptKind))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    amount: Mapped[Decimal]
    issued_by: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime]
    exchanged_for: Mapped[str] = mapped_column(String(32), default="")  # temporary -> formal number


class Counter(Base):
    """Gap-free yearly sequences (ticket and receipt numbers), bumped inside the caller's transaction."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


class DeviceEvent(Base):
    __tablename__ = "device_events"
    __table_args__ = (
        UniqueConstraint("kind", "natural_key", name="uq_device_events_natural_key"),
        Index("ix_device_events_attribution", "attribution", "kind"),
        Index("ix_device_events_kind_device_occurred_at", "kind", "device", "occurred_at"),
        Index("ix_device_events_occurred_at", "occurred_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    device: Mapped[str] = mapped_column(String(100), index=True)
    natural_key: Mapped[str] = mapped_column(String(300))
    occurred_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]]
    manual: Mapped[bool] = mapped_column(default=False)  # injected by staff, not read off a device
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    attribution: Mapped[str] = mapped_column(_enum(Attribution))
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime]


class AuditEntry(Base):
    """Append-only: the migrations install triggers refusing UPDATE and DELETE on this table."""

    __tablename__ = "audit_trail"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(64))  # user name from the socket's peer credentials
    uid: Mapped[int | None]
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64), index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    manual: Mapped[bool] = mapped_column(default=False)


class DeviceAnomaly(Base):
    """What a stored meter reading revealed against the device's reading before it.

    Written with the reading, in the same transaction (``gatewayd.copying.readings``), so the list
    staff see survives restarts and matches the readings in the ledger. Kinds are
    ``drivers.snmp.anomalies.AnomalyKind`` values.
    """

    __tablename__ = "device_anomalies"

    id: Mapped[int] = mapped_column(primary_key=True)
    device: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text)
    counter: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[str | None] = mapped_column(String(200))
    after: Mapped[str | None] = mapped_column(String(200))
    delta: Mapped[int | None] = mapped_column(BigInteger)  # counters are Counter64 on some models
    observed_at: Mapped[datetime] = mapped_column(index=True)  # time of the revealing reading
    reading_event_id: Mapped[int] = mapped_column(ForeignKey("device_events.id"), index=True)
    previous_event_id: Mapped[int | None] = mapped_column(ForeignKey("device_events.id"))
    recorded_at: Mapped[datetime]


# ---------------------------------------------------------------------------- fax


class FaxJobState(enum.StrEnum):
    """Mirrors ``drivers.fax.driver.JobState`` (the driver owns the transitions)."""

    QUEUED = "queued"
    SENDING = "sending"
    RETRY_WAIT = "retry_wait"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class FaxJob(Base):
    """One document sent for a fax_out ticket: its queue state, tries, and the register's columns
    (发报记录本). Each call it made is a ``fax_call`` device event carrying ``job_id``."""

    __tablename__ = "fax_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    modem: Mapped[str] = mapped_column(String(100))
    number: Mapped[str] = mapped_column(String(64))  # as staff typed it
    dial: Mapped[str] = mapped_column(String(64))  # what the modem dials
    e164: Mapped[str] = mapped_column(String(32))
    region: Mapped[str] = mapped_column(String(8), default="")
    documents: Mapped[str] = mapped_column(Text, default="")  # file names, for the register
    spool: Mapped[str] = mapped_column(Text)  # the rendered pages: a TIFF Class F in the spool
    pages: Mapped[int]
    pages_delivered: Mapped[int] = mapped_column(default=0)
    delivered: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"pages": [1, 2]}
    state: Mapped[str] = mapped_column(_enum(FaxJobState), index=True)
    tries: Mapped[int] = mapped_column(default=0)
    next_try_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(Text, default="")
    last_call_id: Mapped[str] = mapped_column(String(64), default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]

    ticket: Mapped[Ticket] = relationship()


class FaxInState(enum.StrEnum):
    PENDING = "pending"  #: 待查: nobody known yet
    ASSIGNED = "assigned"  #: a tenant or guest's; its fax_in ticket bills the pickup
    ARCHIVED = "archived"  #: unclaimed past the archive period ("no recipient" slip filed)


class FaxIncoming(Base):
    """The incoming register (进报记录本): one entry per received fax."""

    __tablename__ = "fax_incoming"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(String(64), unique=True)  # the fax_call event's natural key
    device: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(index=True)
    called_number: Mapped[str] = mapped_column(String(64), default="")
    caller_id: Mapped[str] = mapped_column(String(64), default="")
    remote_station_id: Mapped[str] = mapped_column(String(64), default="")
    subaddress: Mapped[str] = mapped_column(String(64), default="")
    pages: Mapped[int]
    error_pages: Mapped[int] = mapped_column(default=0)
    call_status: Mapped[str] = mapped_column(String(24))
    document_path: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(_enum(FaxInState), index=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id"))
    room: Mapped[str] = mapped_column(String(50), default="")
    guest_name: Mapped[str] = mapped_column(String(200), default="")
    guest_phone: Mapped[str] = mapped_column(String(50), default="")
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    assigned_by: Mapped[str] = mapped_column(String(100), default="")  # "route 2" or a user
    assigned_at: Mapped[datetime | None]
    notify_request_id: Mapped[int | None] = mapped_column(ForeignKey("fax_notify_requests.id"))
    called_at: Mapped[datetime | None]  # staff phoned the recipient (off the to-call list)
    called_by: Mapped[str] = mapped_column(String(64), default="")
    archived_at: Mapped[datetime | None]

    tenant: Mapped[Tenant | None] = relationship()
    ticket: Mapped[Ticket | None] = relationship()


class FaxNotifyRequest(Base):
    """A guest asked to be told when a fax for them arrives."""

    __tablename__ = "fax_notify_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    guest_name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(50))
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id"))  # a fax for this company
    sender: Mapped[str] = mapped_column(String(64), default="")  # or from this station id / number
    note: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(24), index=True)  # open, matched, cancelled
    matched_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]

    tenant: Mapped[Tenant | None] = relationship()
