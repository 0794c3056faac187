"""The matching contract: every kind is matched and billed with the caller, the ledger's clock and
the services in force (``events.Context``), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from gatewayd import audit
from gatewayd import config as config_mod
from gatewayd import db
from gatewayd.audit import Caller
from gatewayd.daemon import event_kinds
from gatewayd.events import EventIn
from gatewayd.ledger import Ledger
from gatewayd.services import Services
from tests.conftest import write_config

#: The ledger's clock: far from the wall clock, so a stamp taken from datetime.now shows.
AT = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)
ALICE = Caller("alice", 1000)


def _ledger(tmp_path: Path, db_url: str) -> Ledger:
    config = config_mod.load(write_config(tmp_path, db_url))
    engine = db.make_engine(config.database_url)
    db.migrate(engine)
    return Ledger(db.session_factory(engine), config.timezone, clock=lambda: AT, services=Services(config),
                  kinds=event_kinds())


def test_a_received_fax_typed_in_by_staff_is_registered_as_theirs_at_the_ledgers_time(
        tmp_path: Path, db_url: str) -> None:
    ledger = _ledger(tmp_path, db_url)
    call = {"direction": "incoming", "number": "", "remote_station_id": "+44 20 7946 0000", "status": "completed",
            "pages": [{"page": 1, "delivered": True}, {"page": 2, "delivered": True}]}
    ledger.record_event(ALICE, EventIn("fax_call", "fax1", "call-77", datetime(2026, 3, 2, 1, 55, tzinfo=timezone.utc),
                                       call), manual=True)
    with ledger.transaction() as s:
        [register] = [e for e in s.scalars(audit.listing("fax_in")) if e.action == "fax_in.register"]
        assert (register.actor, register.manual) == ("alice", True)
        assert register.at == AT



def test_a_call_record_a_device_gave_that_does_not_decode_is_kept_unattributed(tmp_path: Path, db_url: str) -> None:
    """Staff's records are refused (422) before they are stored; a modem's record is the only copy
    of what happened on the line, so one the decoder cannot read is stored for staff to look at
    instead of failing the store (and being lost with the driver's report)."""
    ledger = _ledger(tmp_path, db_url)
    garbled = {"direction": "incoming", "status": "completed", "pages": "3", "remote_station_id": 42}
    view, created = ledger.record_event(Caller("gatewayd"), EventIn("fax_call", "fax1", "call-78", AT, garbled),
                                        manual=False)
    assert created and (view["attribution"], view["ticket"], view["payload"]) == ("unattributed", None, garbled)
