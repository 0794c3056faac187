"""Which fax class drives a modem: the configured one, or for ``class = "auto"`` the first of
``class_preference`` the modem lists in its answer to ``AT+FCLASS=?``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from .channel import ChannelError, ModemChannel
from .class2_modem import Class2FaxModem
from .config import ModemConfig
from .modem import FaxModem

FaxModemOfAnyClass = FaxModem | Class2FaxModem


class NoFaxClass(ChannelError):
    """The modem lists none of the classes we may use."""


def listed_classes(lines: Iterable[str]) -> tuple[str, ...]:
    """``AT+FCLASS=?`` -> e.g. ``0,1,1.0,2,2.0,8`` (some modems: ``(0-2,2.0)``) -> its classes."""
    classes: list[str] = []
    for line in lines:
        for item in line.replace("(", "").replace(")", "").replace(" ", "").split(","):
            if "-" in item:
                low, _, high = item.partition("-")
                if low.isdigit() and high.isdigit():
                    classes += [str(n) for n in range(int(low), int(high) + 1)]
            elif item:
                classes.append(item)
    return tuple(dict.fromkeys(classes))


def choose_class(listed: Sequence[str], preference: Sequence[str]) -> str:
    for fax_class in preference:
        if fax_class in listed:
            return fax_class
    raise NoFaxClass(f"the modem offers classes {','.join(listed) or 'none'}, "
                     f"none of {', '.join(preference)}")


def open_modem(config: ModemConfig, channel: ModemChannel) -> FaxModemOfAnyClass:
    """Open ``channel``, settle ``auto``, and return the modem ready for calls."""
    channel.open()
    if config.fax_class == "auto":
        channel.reset(config.init)
        reply = channel.expect_ok("AT+FCLASS=?")
        config = replace(config, fax_class=choose_class(listed_classes(reply.lines),
                                                        config.class_preference))
    modem: FaxModemOfAnyClass = (FaxModem(config, channel=channel) if config.fax_class == "1"
                                 else Class2FaxModem(config, channel=channel))
    modem.initialize()
    return modem
