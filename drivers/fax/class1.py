"""The vocabulary between the T.30 engine and the modem loop: Class 1 commands and their results.

The engine (``t30.py``) never touches a port. It returns one :data:`Command` at a time; the loop
(``modem.py``) performs it with the T.31 AT commands named on each class and feeds back exactly
one :data:`ModemEvent`. Class 1 is half duplex and strictly one command at a time, so this
one-in/one-out rhythm loses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from .frames import Frame, Speed

# ---------------------------------------------------------------- commands (engine -> loop)


@dataclass(frozen=True)
class Dial:
    """``ATD<number>``; on CONNECT the modem is already receiving V.21 (T.31 8.3.1): the loop
    reads the first frames as for :class:`ReceiveFrames`."""

    number: str
    timeout: float


@dataclass(frozen=True)
class Answer:
    """``ATA``; on CONNECT the modem sends V.21 as after ``+FTH=3`` (T.31 8.3.2): the loop sends
    ``frames`` (the DIS burst)."""

    frames: tuple[Frame, ...]
    timeout: float
    x_bit: bool = False


@dataclass(frozen=True)
class SendFrames:
    """``AT+FRS=n`` (let the far end's carrier go quiet, T.30 5.3.2.3's 75 ms gap) if
    ``silence_ms``, then ``AT+FTH=3`` and each frame, DLE ETX after each."""

    frames: tuple[Frame, ...]
    silence_ms: int = 70
    x_bit: bool = False  #: T.30 5.3.6.1: set in the FCF by the station that received DIS


@dataclass(frozen=True)
class ReceiveFrames:
    """``AT+FRH=3`` repeated until a frame with the final bit, a failure, or ``timeout``."""

    timeout: float


@dataclass(frozen=True)
class SendImage:
    """``AT+FTS=n`` then ``AT+FTM=<speed>``, the data, DLE ETX; OK when it has left the modem."""

    speed: Speed
    data: bytes
    silence_ms: int = 70
    short_train: bool = False


@dataclass(frozen=True)
class ReceiveImage:
    """``AT+FRM=<speed>``; data until the carrier drops (DLE ETX, NO CARRIER)."""

    speed: Speed
    timeout: float  #: for the carrier to appear
    max_duration: float = 600.0  #: for the whole page
    short_train: bool = False


@dataclass(frozen=True)
class HangUp:
    """``ATH0``. The call is over after this; the engine's outcome is final."""


Command = Dial | Answer | SendFrames | ReceiveFrames | SendImage | ReceiveImage | HangUp

# ---------------------------------------------------------------- events (loop -> engine)


@dataclass(frozen=True)
class Done:
    """The frames or image were sent (``OK``)."""


@dataclass(frozen=True)
class FramesReceived:
    """Raw frames as the modem gave them (FCS included), in order; the engine parses them."""

    frames: tuple[bytes, ...]
    bad_fcs: int = 0  #: frames the modem answered ERROR for


@dataclass(frozen=True)
class ImageReceived:
    data: bytes


@dataclass(frozen=True)
class TimedOut:
    """Nothing came within the command's timeout (the loop aborted the receive)."""


@dataclass(frozen=True)
class WrongCarrier:
    """``+FCERROR``: V.21 arrived where high-speed data was expected -- the far end is sending
    a command (for example repeating DCS or a post-page message it got no answer to)."""


@dataclass(frozen=True)
class CarrierLost:
    """``NO CARRIER`` with nothing received, or ``ERROR`` where data was expected."""

    result: str


@dataclass(frozen=True)
class CallFailed:
    """Dialling ended without a fax connection: ``BUSY``, ``NO ANSWER``, ``NO DIALTONE``,
    ``NO CARRIER``, ``ERROR``."""

    result: str


@dataclass(frozen=True)
class ModemFailed:
    """The port or the modem failed locally (port closed, modem mute). The call is over."""

    reason: str


ModemEvent = (Done | FramesReceived | ImageReceived | TimedOut | WrongCarrier
              | CarrierLost | CallFailed | ModemFailed)
