"""``[[fax.modems]]``: one table per fax modem, validated into a frozen ``ModemConfig``.

Example::

    [[fax.modems]]
    name = "fax1"                 # device name in events and status
    port = "/dev/ttyS0"           # or any pyserial URL: "spy:///dev/ttyUSB0", "loop://"
    class = "auto"                # "1" (T.31), "2", "2.0" (T.32), or "auto": ask AT+FCLASS=?
    class_preference = ["1", "2.0", "2"]  # what "auto" picks first (see CLASS_PREFERENCE)
    baudrate = 115200
    flow_control = "rtscts"       # "rtscts" | "xonxoff" | "none"
    init = ["ATE0V1Q0", "AT&K3"]  # sent after ATZ, each must answer OK
    rings_before_answer = 2
    own_number = "+86 10 5550100" # the line's number (the called number on incoming calls)
    station_id = "+86 10 5550100" # CSI/TSI, 20 printable characters at most
    max_speed = 14400             # 14400 12000 9600 7200 4800 2400
    fine = true                   # send at 7.7 lines/mm when the far end accepts it
    rtn_policy = "retransmit"     # "retransmit" | "giveup" | "ignore" (HylaFAX RTNHandlingMethod)
    rtn_max_retransmits = 2
    ecm = true                    # T.30 Annex A error correction when the far end offers it
    percent_good_lines = 95.0     # receiver copy quality (HylaFAX PercentGoodLines): else RTN
    max_consecutive_bad_lines = 5 # ... (HylaFAX MaxConsecutiveBadLines)
    lock_dir = "/var/lock"
    dial_prefix = "ATDT"
    timer_scale = 1.0             # T.30 timers x this; < 1 only for the lab's paced peer

Known modem quirks are data, not code paths (the way HylaFAX's prototype configs carry them):

    init = [...]                  # extra init strings (all classes), e.g. "AT&K4" for XON/XOFF
    bit_order = 0                 # Class 2/2.0: the AT+FBO/+FBOR value sent at start
    reversed_receive_data = true  # Class 2: received page data comes bit-reversed (default
                                  #   true for Class 2 -- Rockwell/USR-era SP-2388 modems, what
                                  #   efax assumes without -or --; false for 2.0, T.32 direct)
    hangup_wait_s = 10.0          # Class 2/2.0: how long +FHS/+FHNG may lag the last page's OK
                                  #   (some Multi-Tech and ZyXEL firmwares report it late)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from drivers import ConfigProblems

from .channel import FlowControl
from .t30 import RtnMethod, RtnPolicy
from .t4 import CopyQualityPolicy

_SPEEDS = (14400, 12000, 9600, 7200, 4800, 2400)
_CLASSES = ("1", "2", "2.0")
#: What ``class = "auto"`` picks among the classes a modem lists: Class 1 first (our own T.30:
#: ECM, MMR, every frame seen), then 2.0 (T.32, the standard), then 2 (the SP-2388 draft).
CLASS_PREFERENCE = ("1", "2.0", "2")


@dataclass(frozen=True)
class ModemConfig:
    name: str
    port: str
    fax_class: str = "1"
    baudrate: int = 115200
    flow_control: FlowControl = FlowControl.RTSCTS
    init: tuple[str, ...] = ("ATE0V1Q0",)
    rings_before_answer: int = 2
    own_number: str = ""
    station_id: str = ""
    max_speed: int = 14400
    fine: bool = True
    rtn_policy: RtnPolicy = RtnPolicy()
    ecm: bool = True
    copy_quality: CopyQualityPolicy = CopyQualityPolicy()
    lock_dir: str | None = "/var/lock"
    dial_prefix: str = "ATDT"
    timer_scale: float = 1.0
    class_preference: tuple[str, ...] = CLASS_PREFERENCE
    bit_order: int = 0
    reversed_receive_data: bool | None = None  #: None: true for Class 2, false for 2.0
    hangup_wait_s: float = 10.0


def parse_modem(section: Mapping[str, Any], where: str = "") -> ModemConfig:
    """Validate one ``[[fax.modems]]`` table; all problems are reported at once."""
    problems: list[tuple[str, str]] = []
    known = {"name", "port", "class", "baudrate", "flow_control", "init", "rings_before_answer",
             "own_number", "station_id", "max_speed", "fine", "rtn_policy",
             "rtn_max_retransmits", "lock_dir", "dial_prefix", "timer_scale", "ecm",
             "percent_good_lines", "max_consecutive_bad_lines", "class_preference", "bit_order",
             "reversed_receive_data", "hangup_wait_s"}

    def key(k: str) -> str:
        return f"{where}.{k}" if where else k

    def get(k: str, typ: type | tuple[type, ...], default: Any = None, required: bool = False) -> Any:
        if k not in section:
            if required:
                problems.append((key(k), "is required"))
            return default
        value = section[k]
        if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
            problems.append((key(k), f"must be {getattr(typ, '__name__', typ)}, got {value!r}"))
            return default
        return value

    for k in sorted(set(section) - known):
        problems.append((key(k), "unknown key"))
    name = get("name", str, "", required=True)
    port = get("port", str, "", required=True)
    fax_class = str(get("class", (str, int), "1"))
    if fax_class not in (*_CLASSES, "auto"):
        problems.append((key("class"), f'must be "1", "2", "2.0" or "auto", got {fax_class!r}'))
    preference = get("class_preference", list, list(CLASS_PREFERENCE))
    if not preference or not all(isinstance(c, str) and c in _CLASSES for c in preference):
        problems.append((key("class_preference"), f"must list classes among {_CLASSES}, got {preference!r}"))
    bit_order = get("bit_order", int, 0)
    if not 0 <= bit_order <= 3:
        problems.append((key("bit_order"), f"must be 0-3 (T.32 +FBO), got {bit_order}"))
    hangup_wait = get("hangup_wait_s", (int, float), 10.0)
    if not 0 < hangup_wait <= 120:
        problems.append((key("hangup_wait_s"), f"must be between 0 and 120 seconds, got {hangup_wait}"))
    flow_raw = get("flow_control", str, "rtscts")
    try:
        flow = FlowControl(flow_raw)
    except ValueError:
        problems.append((key("flow_control"), f"must be rtscts, xonxoff or none, got {flow_raw!r}"))
        flow = FlowControl.RTSCTS
    init = get("init", list, ["ATE0V1Q0"])
    if not all(isinstance(s, str) and s.upper().startswith("AT") for s in init):
        problems.append((key("init"), "must be a list of AT command strings"))
    rings = get("rings_before_answer", int, 2)
    if not 1 <= rings <= 20:
        problems.append((key("rings_before_answer"), f"must be 1-20, got {rings}"))
    station_id = get("station_id", str, "")
    if len(station_id) > 20 or not station_id.isascii():
        problems.append((key("station_id"), "must be at most 20 ASCII characters (T.30 5.3.6.2.4)"))
    max_speed = get("max_speed", int, 14400)
    if max_speed not in _SPEEDS:
        problems.append((key("max_speed"), f"must be one of {_SPEEDS}, got {max_speed}"))
    method_raw = get("rtn_policy", str, "retransmit")
    try:
        method = RtnMethod(method_raw)
    except ValueError:
        problems.append((key("rtn_policy"), f"must be retransmit, giveup or ignore, got {method_raw!r}"))
        method = RtnMethod.RETRANSMIT
    retransmits = get("rtn_max_retransmits", int, 2)
    if not 0 <= retransmits <= 10:
        problems.append((key("rtn_max_retransmits"), f"must be 0-10, got {retransmits}"))
    percent = get("percent_good_lines", (int, float), 95.0)
    if not 0 <= percent <= 100:
        problems.append((key("percent_good_lines"), f"must be 0-100, got {percent}"))
    bad_run = get("max_consecutive_bad_lines", int, 5)
    if not 0 <= bad_run <= 10_000:
        problems.append((key("max_consecutive_bad_lines"), f"must be 0-10000, got {bad_run}"))
    ecm = get("ecm", bool, True)
    scale = get("timer_scale", (int, float), 1.0)
    if not 0.05 <= scale <= 10:
        problems.append((key("timer_scale"), f"must be between 0.05 and 10, got {scale}"))
    if problems:
        raise ConfigProblems(problems)
    return ModemConfig(
        name=name, port=port, fax_class=fax_class, baudrate=get("baudrate", int, 115200),
        flow_control=flow, init=tuple(init), rings_before_answer=rings,
        own_number=get("own_number", str, ""), station_id=station_id, max_speed=max_speed,
        fine=get("fine", bool, True), rtn_policy=RtnPolicy(method, retransmits),
        ecm=ecm,
        copy_quality=CopyQualityPolicy(float(percent), bad_run),
        lock_dir=get("lock_dir", str, "/var/lock"), dial_prefix=get("dial_prefix", str, "ATDT"),
        timer_scale=float(scale), class_preference=tuple(preference), bit_order=bit_order,
        reversed_receive_data=get("reversed_receive_data", bool, None),
        hangup_wait_s=float(hangup_wait),
    )


def parse_modems(sections: list[Mapping[str, Any]]) -> tuple[ModemConfig, ...]:
    problems: list[tuple[str, str]] = []
    out = []
    for i, section in enumerate(sections):
        try:
            out.append(parse_modem(section, f"modems[{i}]"))
        except ConfigProblems as err:
            problems += err.problems
    names = [m.name for m in out]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        problems.append(("modems", f"name {dup!r} used twice"))
    if problems:
        raise ConfigProblems(problems)
    return tuple(out)


# ---------------------------------------------------------------------------- the [fax] section


@dataclass(frozen=True)
class RetryPolicy:
    """When a failed call is tried again. The defaults are HylaFAX's (``JobReqBusy`` 180 s,
    ``JobReqNoAnswer``/``JobReqNoCarrier``/``JobReqOther`` 300 s, ``MaxTries`` 3)."""

    busy_s: float = 180.0
    other_s: float = 300.0
    max_tries: int = 3


@dataclass(frozen=True)
class RoutingRule:
    """Incoming faxes matching every field given here belong to ``tenant`` (a roster company).

    ``called_number`` is the line's number (DID) the caller dialled, ``subaddress`` the T.30 SUB
    the sender's machine added, ``station_id`` the sender's TSI. Numbers and ids are compared
    on their digits and letters only: machines pad and space them freely.
    """

    tenant: str
    called_number: str = ""
    subaddress: str = ""
    station_id: str = ""

    def matches(self, *, called_number: str, subaddress: str, station_id: str) -> bool:
        wanted = ((self.called_number, called_number), (self.subaddress, subaddress),
                  (self.station_id, station_id))
        return all(_bare(rule) == _bare(seen) for rule, seen in wanted if rule)


def _bare(text: str) -> str:
    return "".join(c for c in text if c.isalnum()).upper()


@dataclass(frozen=True)
class FaxConfig:
    modems: tuple[ModemConfig, ...]
    retry: RetryPolicy = RetryPolicy()
    #: 待查 faxes nobody claimed are archived after this many days (the "no recipient" slip).
    archive_after_days: float = 3.0
    #: How often the register is swept for entries to archive (and the spool for pages to drop).
    archive_check_s: float = 300.0
    #: Received faxes' pages are deleted this many days after they arrived; default: kept forever
    #: (they are the customer's).
    keep_days: float = math.inf
    #: A sent job's rendered pages are deleted this many days after the job ended (0: at the first
    #: sweep after it ended).
    keep_sent_days: float = 0.0
    #: Run for every received fax, HylaFAX ``FaxRcvdCmd`` style: argv + file, device, comm id,
    #: reason; empty: none.
    notify_command: tuple[str, ...] = ()
    routes: tuple[RoutingRule, ...] = ()


def _number(section: Mapping[str, Any], key: str, default: float, low: float, high: float,
            where: str, problems: list[tuple[str, str]]) -> float:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        problems.append((f"{where}{key}", f"must be a number, got {value!r}"))
        return default
    if not low <= value <= high:
        problems.append((f"{where}{key}", f"must be between {low:g} and {high:g}, got {value}"))
        return default
    return float(value)


def _unknown(section: Mapping[str, Any], known: set[str], where: str,
             problems: list[tuple[str, str]]) -> None:
    problems.extend((f"{where}{k}", "unknown key") for k in sorted(set(section) - known))


def _retry(raw: Any, problems: list[tuple[str, str]]) -> RetryPolicy:
    if not isinstance(raw, Mapping):
        problems.append(("retry", "must be a table"))
        return RetryPolicy()
    _unknown(raw, {"busy_s", "other_s", "max_tries"}, "retry.", problems)
    tries = raw.get("max_tries", 3)
    if isinstance(tries, bool) or not isinstance(tries, int) or not 1 <= tries <= 20:
        problems.append(("retry.max_tries", f"must be an integer 1-20, got {tries!r}"))
        tries = 3
    # Sub-second back-off only makes sense for tests; a day is the most any site would wait.
    return RetryPolicy(busy_s=_number(raw, "busy_s", 180.0, 0.01, 86400, "retry.", problems),
                       other_s=_number(raw, "other_s", 300.0, 0.01, 86400, "retry.", problems),
                       max_tries=tries)


def _routes(raw: Any, problems: list[tuple[str, str]]) -> tuple[RoutingRule, ...]:
    if not isinstance(raw, list):
        problems.append(("routes", "must be an array of tables ([[fax.routes]])"))
        return ()
    rules = []
    fields = ("called_number", "subaddress", "station_id")
    for i, rule in enumerate(raw):
        where = f"routes[{i}]."
        if not isinstance(rule, Mapping):
            problems.append((f"routes[{i}]", "must be a table"))
            continue
        _unknown(rule, {"tenant", *fields}, where, problems)
        if rule.get("subaddress"):
            # Refused rather than ignored: a rule that silently never matches loses faxes to 待查.
            problems.append((f"{where}subaddress", "routing by T.30 sub-address is not supported yet (the modem "
                             "driver does not record SUB); route by called_number or station_id"))
            continue
        values = {k: rule.get(k, "") for k in ("tenant", *fields)}
        bad = [k for k, v in values.items() if not isinstance(v, str)]
        problems.extend((f"{where}{k}", f"must be a string, got {values[k]!r}") for k in bad)
        if bad:
            continue
        if not values["tenant"].strip():
            problems.append((f"{where}tenant", "is required (a company in the tenant roster)"))
        elif not any(values[k] for k in fields):
            problems.append((f"routes[{i}]", "needs called_number or station_id"))
        else:
            rules.append(RoutingRule(**values))
    return tuple(rules)


def _command(raw: Any, problems: list[tuple[str, str]]) -> tuple[str, ...]:
    import shlex

    if isinstance(raw, str):
        return tuple(shlex.split(raw))
    if isinstance(raw, list) and all(isinstance(a, str) for a in raw):
        return tuple(raw)
    problems.append(("notify_command", f"must be a command line or a list of arguments, got {raw!r}"))
    return ()


def parse_fax_config(raw: Mapping[str, Any], base_dir: Any = None) -> FaxConfig:
    """The ``[fax]`` section: ``[[fax.modems]]``, ``[fax.retry]``, ``[[fax.routes]]``,
    ``archive_after_days``, ``archive_check_s``, ``keep_days``, ``keep_sent_days``, ``notify_command``.
    All problems at once."""
    problems: list[tuple[str, str]] = []
    if not isinstance(raw, Mapping):
        raise ConfigProblems([("", "must be a table")])
    _unknown(raw, {"modems", "retry", "routes", "archive_after_days", "archive_check_s", "keep_days",
                   "keep_sent_days", "notify_command"}, "", problems)
    modems: tuple[ModemConfig, ...] = ()
    sections = raw.get("modems", [])
    if not isinstance(sections, list) or not all(isinstance(s, Mapping) for s in sections):
        problems.append(("modems", "must be an array of tables ([[fax.modems]])"))
    else:
        try:
            modems = parse_modems(sections)
        except ConfigProblems as err:
            problems += err.problems
    config = FaxConfig(
        modems=modems,
        retry=_retry(raw.get("retry", {}), problems),
        archive_after_days=_number(raw, "archive_after_days", 3.0, 0.0, 365, "", problems),
        archive_check_s=_number(raw, "archive_check_s", 300.0, 0.05, 86400, "", problems),
        keep_days=_number(raw, "keep_days", math.inf, 1, math.inf, "", problems),
        keep_sent_days=_number(raw, "keep_sent_days", 0.0, 0, 3650, "", problems),
        notify_command=_command(raw.get("notify_command", []), problems),
        routes=_routes(raw.get("routes", []), problems),
    )
    if problems:
        raise ConfigProblems(problems)
    return config
