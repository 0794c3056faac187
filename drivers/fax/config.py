"""``[[fax.modems]]``: one table per Class 1 modem, validated into a frozen ``ModemConfig``.

Example::

    [[fax.modems]]
    name = "fax1"                 # device name in events and status
    port = "/dev/ttyS0"           # or any pyserial URL: "spy:///dev/ttyUSB0", "loop://"
    class = "1"                   # only Class 1 (T.31) so far
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
    lock_dir = "/var/lock"
    dial_prefix = "ATDT"
    timer_scale = 1.0             # T.30 timers x this; < 1 only for the lab's paced peer
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from drivers import ConfigProblems

from .channel import FlowControl
from .t30 import RtnMethod, RtnPolicy

_SPEEDS = (14400, 12000, 9600, 7200, 4800, 2400)


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
    lock_dir: str | None = "/var/lock"
    dial_prefix: str = "ATDT"
    timer_scale: float = 1.0


def parse_modem(section: Mapping[str, Any], where: str = "") -> ModemConfig:
    """Validate one ``[[fax.modems]]`` table; all problems are reported at once."""
    problems: list[tuple[str, str]] = []
    known = {"name", "port", "class", "baudrate", "flow_control", "init", "rings_before_answer",
             "own_number", "station_id", "max_speed", "fine", "rtn_policy",
             "rtn_max_retransmits", "lock_dir", "dial_prefix", "timer_scale"}

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
    if fax_class != "1":
        problems.append((key("class"), f"only Class 1 is supported, got {fax_class!r}"))
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
        lock_dir=get("lock_dir", str, "/var/lock"), dial_prefix=get("dial_prefix", str, "ATDT"),
        timer_scale=float(scale),
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
