"""``gatewayd modem probe PORT``: what a technician runs when plugging a fax modem in.

Asks the modem who it is (``ATI``, ``+FMI?``/``+FMFR?`` ...), which fax classes it has
(``AT+FCLASS=?``), its Class 1 speeds (``AT+FTM=?``, ``AT+FRM=?``) and its Class 2 / 2.0
capabilities (``AT+FCC=?``/``AT+FDCC=?``), respecting the port's UUCP lock like every other use
of the port. The answer is a ready ``[[fax.modems]]`` table and one line per finding a person can
act on. Nothing here is kept: the modem is left reset (``ATZ``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .channel import ChannelError, ModemChannel, ModemTimeout, ResultCode
from .classes import choose_class, listed_classes
from .config import CLASS_PREFERENCE
from .frames import Speed

_V17_CODES = {s.class1_code for s in Speed if s.family == "V.17"}
#: (class, manufacturer, model, revision queries) -- T.32 names for 2.0, SP-2388 names for 2.
_IDENTITY = {"2.0": ("+FMI?", "+FMM?", "+FMR?"), "2": ("+FMFR?", "+FMDL?", "+FREV?")}
_CAPS = {"2.0": "+FCC=?", "2": "+FDCC=?"}


@dataclass
class ProbeReport:
    port: str
    identity: list[str] = field(default_factory=list)  #: ATI answers and +FM* answers
    classes: tuple[str, ...] = ()
    transmit_speeds: tuple[int, ...] = ()  #: Class 1 AT+FTM=? codes
    receive_speeds: tuple[int, ...] = ()
    capabilities: dict[str, str] = field(default_factory=dict)  #: class -> +FCC=? answer
    recommended: str | None = None
    findings: list[str] = field(default_factory=list)


def _ask(channel: ModemChannel, command: str) -> tuple[str, ...] | None:
    """The information lines of ``command``, or None if the modem refused it or stayed mute."""
    try:
        reply = channel.command(command, 5)
    except ModemTimeout:
        return None
    return reply.lines if reply.result is ResultCode.OK else None


def _codes(lines: tuple[str, ...] | None) -> tuple[int, ...]:
    if not lines:
        return ()
    return tuple(int(c) for line in lines for c in line.replace(" ", "").split(",") if c.isdigit())


def probe(channel: ModemChannel, preference: tuple[str, ...] = CLASS_PREFERENCE) -> ProbeReport:
    """Question the modem on an open ``channel``."""
    report = ProbeReport(channel.url)
    channel.reset(("ATE0V1Q0",))
    for command in ("ATI0", "ATI3"):
        report.identity += [line for line in _ask(channel, command) or () if line]
    report.classes = listed_classes(_ask(channel, "AT+FCLASS=?") or ())
    if "1" in report.classes and _ask(channel, "AT+FCLASS=1") is not None:
        report.transmit_speeds = _codes(_ask(channel, "AT+FTM=?"))
        report.receive_speeds = _codes(_ask(channel, "AT+FRM=?"))
    for fax_class in ("2.0", "2"):
        if fax_class not in report.classes or _ask(channel, f"AT+FCLASS={fax_class}") is None:
            continue
        for command in _IDENTITY[fax_class]:
            report.identity += [line for line in _ask(channel, f"AT{command}") or () if line]
        report.capabilities[fax_class] = ",".join(_ask(channel, f"AT{_CAPS[fax_class]}") or ())
    _ask(channel, "AT+FCLASS=0")
    _ask(channel, "ATZ")
    report.identity = list(dict.fromkeys(report.identity))
    _judge(report, preference)
    return report


def _judge(report: ProbeReport, preference: tuple[str, ...]) -> None:
    fax = [c for c in ("1", "2", "2.0") if c in report.classes]
    if not fax:
        report.findings.append(
            f"no fax class (AT+FCLASS=? lists {','.join(report.classes) or 'nothing'}): "
            "this is not a fax modem, or it needs an init string to show its fax classes")
        return
    try:
        report.recommended = choose_class(report.classes, preference)
    except ChannelError:
        report.recommended = fax[0]
    others = [c for c in fax if c != report.recommended]
    if report.recommended == "1":
        why = "our own T.30: ECM, MMR, every frame seen"
    elif report.recommended == "2.0":
        why = "the modem runs T.30 (T.32) and reports each page"
    else:
        why = "the SP-2388 draft the modem's firmware follows"
    report.findings.append(f"using Class {report.recommended} ({why})"
                           + (f"; also offers {', '.join(others)}" if others else ""))
    if "2.0" not in report.classes:
        report.findings.append(f"no Class 2.0: using Class {report.recommended}")
    if report.recommended == "2":
        report.findings.append("Class 2 only: received pages come bit-reversed on most such "
                               "modems (reversed_receive_data = true, the default); if received "
                               "faxes look like noise, set it to false")
    if "1" in report.classes:
        if not report.transmit_speeds:
            report.findings.append("AT+FTM=? gave no speeds: check the modem's Class 1 support")
        elif not _V17_CODES & set(report.transmit_speeds):
            report.findings.append("no V.17 in AT+FTM=?: at most 9600 bit/s (max_speed = 9600)")


def modem_block(report: ProbeReport, name: str, lock_dir: str | None) -> str:
    """A ``[[fax.modems]]`` table for gatewayd.toml, with what the probe found."""
    lines = ["[[fax.modems]]", f'name = "{name}"', f'port = "{report.port}"',
             f'class = "{report.recommended}"', 'init = ["ATE0V1Q0"]']
    if "1" in report.classes and report.recommended == "1" and report.transmit_speeds \
            and not _V17_CODES & set(report.transmit_speeds):
        lines.append("max_speed = 9600")
    if report.recommended == "2":
        lines.append("reversed_receive_data = true   # SP-2388 modems: see the findings")
    if lock_dir is not None:
        lines.append(f'lock_dir = "{lock_dir}"')
    if report.identity:
        lines.insert(0, f"# {' / '.join(report.identity)}")
    return "\n".join(lines) + "\n"
