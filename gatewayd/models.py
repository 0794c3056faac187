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
    REFUND = "refund"  #: money given back (a negative payment), staff only


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
    event_id: Mapped[int | None] = mapped_column(ForeignKey("device_events.id"), index=True)
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
        Index("ix_device_events_kind_occurred_at", "kind", "occurred_at"),
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
    via: Mapped[str] = mapped_column(String(16), default="api", server_default="api")  # "api" or "console"


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
    """A fax job's state; every transition is in ``gatewayd/faxing/jobs.py`` (``TRANSITIONS``)."""

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


# ---------------------------------------------------------------------------- the desk's other books


class MailKind(enum.StrEnum):
    LETTER = "letter"  #: ordinary letters, counted into a pigeonhole (one entry per batch)
    REGISTERED = "registered"  #: 挂号信
    PARCEL_NOTICE = "parcel_notice"  #: 包裹单
    REMITTANCE = "remittance"  #: 汇款单
    EMS = "ems"  #: express mail


class MailState(enum.StrEnum):
    PIGEONHOLED = "pigeonholed"  #: ordinary letters sorted into the tenant's pigeonhole
    WAITING = "waiting"  #: an item logged one by one, the tenant told, waiting for pickup
    PICKED_UP = "picked_up"  #: collected; who and which identity document is recorded
    HELD = "held"  #: 查无此人: nobody on the roster; on the return list after the hold period
    RETURNED = "returned"  #: handed back to the post office


class MailItem(Base):
    """The mail register (信件记录本): a batch of ordinary letters or one accountable item."""

    __tablename__ = "mail_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(_enum(MailKind))
    count: Mapped[int] = mapped_column(default=1)  # letters in a batch; 1 for an accountable item
    received_at: Mapped[datetime] = mapped_column(index=True)
    addressee: Mapped[str] = mapped_column(String(200), default="")  # as written on the envelope
    addressed_company: Mapped[str] = mapped_column(String(200), default="")
    addressed_room: Mapped[str] = mapped_column(String(50), default="")
    tracking: Mapped[str] = mapped_column(String(64), default="")  # registered / EMS number
    sender: Mapped[str] = mapped_column(String(200), default="")
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id"), index=True)
    mismatch: Mapped[str] = mapped_column(Text, default="")  # company and room disagree with the roster
    state: Mapped[str] = mapped_column(_enum(MailState), index=True)
    logged_by: Mapped[str] = mapped_column(String(64))
    notified_at: Mapped[datetime | None]  # put on the to-call list / notify command run
    called_at: Mapped[datetime | None]
    called_by: Mapped[str] = mapped_column(String(64), default="")
    picked_up_at: Mapped[datetime | None]
    picked_up_by: Mapped[str] = mapped_column(String(200), default="")  # the person who collected it
    id_type: Mapped[str] = mapped_column(String(32), default="")  # identity document checked
    id_last_digits: Mapped[str] = mapped_column(String(8), default="")  # never the full number
    handed_over_by: Mapped[str] = mapped_column(String(64), default="")
    returned_at: Mapped[datetime | None]
    returned_by: Mapped[str] = mapped_column(String(64), default="")

    tenant: Mapped[Tenant | None] = relationship()


class Complaint(Base):
    """The complaint register (客户投诉记录单)."""

    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime] = mapped_column(index=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id"))
    complainant: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(50), default="")
    subject: Mapped[str] = mapped_column(Text)  # the points, as recorded in writing
    taken_by: Mapped[str] = mapped_column(String(64))
    department: Mapped[str] = mapped_column(String(100))  # who handles it
    reply_due_at: Mapped[datetime] = mapped_column(index=True)
    follow_ups: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # append-only notes
    replied_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(Text, default="")
    customer_told_at: Mapped[datetime | None]
    customer_view: Mapped[str] = mapped_column(Text, default="")  # satisfied / not, in their words
    closed_at: Mapped[datetime | None] = mapped_column(index=True)
    closed_by: Mapped[str] = mapped_column(String(64), default="")

    tenant: Mapped[Tenant | None] = relationship()


class TenantVisit(Base):
    """The tenant visit register (客户访问记录单): half-yearly visits and the opinions collected."""

    __tablename__ = "tenant_visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    visited_at: Mapped[datetime] = mapped_column(index=True)
    visited_by: Mapped[str] = mapped_column(String(64))
    met: Mapped[str] = mapped_column(String(200), default="")  # whom the visitor spoke to
    opinions: Mapped[str] = mapped_column(Text, default="")
    reply_due_at: Mapped[datetime | None]  # an opinion needing an answer: a written reply is due
    replied_at: Mapped[datetime | None]
    reply: Mapped[str] = mapped_column(Text, default="")
    replied_by: Mapped[str] = mapped_column(String(64), default="")

    tenant: Mapped[Tenant] = relationship()


class MeetingRoom(Base):
    __tablename__ = "meeting_rooms"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)  # as the price list names it
    capacity: Mapped[int]
    equipment: Mapped[str] = mapped_column(Text, default="")  # comma-separated
    created_at: Mapped[datetime]


class BookingState(enum.StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    BILLED = "billed"  #: its time and extras are on its ticket


class RoomBooking(Base):
    """A meeting-room booking; its preparation checklist is ``BookingTask`` rows, due before it."""

    __tablename__ = "room_bookings"
    __table_args__ = (Index("ix_room_bookings_room_time", "room_id", "starts_at", "ends_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("meeting_rooms.id"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    attendees: Mapped[int] = mapped_column(default=0)
    purpose: Mapped[str] = mapped_column(Text, default="")
    extras: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"tea": 12, "projector": 1}
    state: Mapped[str] = mapped_column(_enum(BookingState), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    booked_by: Mapped[str] = mapped_column(String(64))
    booked_at: Mapped[datetime]
    cancel_reason: Mapped[str] = mapped_column(Text, default="")

    room: Mapped[MeetingRoom] = relationship()
    ticket: Mapped[Ticket] = relationship()
    tasks: Mapped[list[BookingTask]] = relationship(order_by="BookingTask.due_at", back_populates="booking")


class BookingTask(Base):
    """One item of the meeting procedure's checklist, due before the meeting, ticked by its department."""

    __tablename__ = "booking_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("room_bookings.id"), index=True)
    item: Mapped[str] = mapped_column(String(64))
    department: Mapped[str] = mapped_column(String(100))
    due_at: Mapped[datetime] = mapped_column(index=True)
    done_at: Mapped[datetime | None]
    done_by: Mapped[str] = mapped_column(String(64), default="")

    booking: Mapped[RoomBooking] = relationship(back_populates="tasks")


class PaperSubscription(Base):
    """Newspapers and periodicals (报刊) a tenant takes: title, copies a day, period."""

    __tablename__ = "paper_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    title: Mapped[str] = mapped_column(String(200), index=True)
    copies: Mapped[int]
    starts_on: Mapped[str] = mapped_column(String(10))  # local dates, ISO: the post office's period
    ends_on: Mapped[str] = mapped_column(String(10))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))  # 代办增订 errand, if any
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]

    tenant: Mapped[Tenant] = relationship()
    ticket: Mapped[Ticket | None] = relationship()


class PaperDelivery(Base):
    """One title's delivery on one day, checked against the subscriptions' total."""

    __tablename__ = "paper_deliveries"
    __table_args__ = (UniqueConstraint("day", "title", name="uq_paper_deliveries_day_title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[str] = mapped_column(String(10), index=True)  # local date
    title: Mapped[str] = mapped_column(String(200))
    expected: Mapped[int]
    received: Mapped[int]
    checked_by: Mapped[str] = mapped_column(String(64))
    checked_at: Mapped[datetime]


class PaperHold(Base):
    """Copies kept for an absent tenant, and their handover."""

    __tablename__ = "paper_holds"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[str] = mapped_column(String(10), index=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    copies: Mapped[int]
    held_by: Mapped[str] = mapped_column(String(64))
    held_at: Mapped[datetime]
    handed_at: Mapped[datetime | None]
    handed_to: Mapped[str] = mapped_column(String(200), default="")
    handed_by: Mapped[str] = mapped_column(String(64), default="")

    tenant: Mapped[Tenant] = relationship()


class TypingFile(Base):
    """A typed document kept for a customer until ``keep_until``, then deleted (audited)."""

    __tablename__ = "typing_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    path: Mapped[str] = mapped_column(Text)
    size: Mapped[int]
    keep_until: Mapped[datetime | None] = mapped_column(index=True)  # None: not kept past the ticket
    stored_by: Mapped[str] = mapped_column(String(64))
    stored_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]

    ticket: Mapped[Ticket] = relationship()
