"""The I/O loop: drives a T.30 engine over a modem channel. Thin on purpose.

Every Class 1 command of ``class1.py`` becomes its T.31 AT sequence here, and every modem answer
becomes exactly one event for the engine. Blocking (pyserial is): run one ``FaxModem`` per
thread. Local failures (port gone, modem mute) end the call with a ``ModemFailed`` event, so a
call record is always produced; ``FaxModem`` raises only before a call starts.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Self
from datetime import UTC, datetime, timedelta
from pathlib import Path

import structlog

from . import frames
from .channel import ChannelError, ModemChannel, ModemTimeout, PortGone, ResultCode
from .class1 import (Answer, CallFailed, CarrierLost, Command, Dial, Done, FramesReceived, HangUp,
                     ImageReceived, ModemEvent, ModemFailed, ReceiveFrames, ReceiveImage,
                     SendFrames, SendImage, TimedOut, WrongCarrier)
from .config import ModemConfig
from .frames import Speed
from .pages import OutgoingPage, PageChecker, ReceivedPage
from .record import Direction, FaxCall, call_status
from .t30 import ALL_FAMILIES, EngineConfig, Outcome, Role, T30Engine, Timers

log = structlog.get_logger("drivers.fax")

class NoIncomingCall(ChannelError):
    """``receive_fax`` waited and nobody called (or the caller gave up before we answered)."""


@dataclass(frozen=True)
class _CallerId:
    number: str = ""
    name: str = ""


class ModemPort:
    """What every fax class does the same: the locked port, open/close, waiting for RINGs.
    ``FaxModem`` (Class 1) and ``class2_modem.Class2FaxModem`` (Class 2/2.0) build on it."""

    #: Between RINGs a ringing line goes quiet for ~4 s (ITU-T E.180 cadences); past this the
    #: caller has given up.
    RING_GAP = 10.0

    def __init__(self, config: ModemConfig, *, clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], datetime] = lambda: datetime.now(UTC),
                 channel: ModemChannel | None = None):
        self.config = config
        self.clock = clock
        self.wall = wall
        self.channel = channel or ModemChannel(
            config.port, baudrate=config.baudrate, flow=config.flow_control,
            lock_dir=config.lock_dir, clock=clock)
        self._scale = config.timer_scale

    def open(self) -> None:
        """Open and lock the port, then put the modem in its class (``initialize``)."""
        self.channel.open()
        self.initialize()

    def initialize(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _t(self, seconds: float) -> float:
        return seconds * self._scale

    def _await_rings(self, wait: float) -> _CallerId:
        deadline = self.clock() + wait
        rings = 0
        number = name = ""
        while rings < self.config.rings_before_answer:
            remaining = deadline - self.clock() if rings == 0 else self.RING_GAP
            line = self.channel.wait_unsolicited(max(0.0, remaining))
            if line is None:
                raise NoIncomingCall(f"{self.config.name}: {'no call' if rings == 0 else 'caller hung up'}")
            if line.text == "RING":
                rings += 1
            elif line.text.startswith("NMBR"):
                number = line.text.partition("=")[2].strip()
            elif line.text.startswith("NAME"):
                name = line.text.partition("=")[2].strip()
        return _CallerId(number, name)


class FaxModem(ModemPort):
    """One Class 1 modem: ``send_fax`` and ``receive_fax`` each run one whole call."""

    def __init__(self, config: ModemConfig, **kw: Any):
        super().__init__(config, **kw)
        self.families = ALL_FAMILIES

    # ------------------------------------------------------------------ set-up

    def initialize(self) -> None:
        """Reset the modem, put it in Class 1, learn its modulations."""
        self.channel.reset(self.config.init)
        self.channel.expect_ok("AT+FCLASS=1")
        reply = self.channel.expect_ok("AT+FTM=?")
        self.families = _families(reply.lines)

    def _engine_config(self) -> EngineConfig:
        speed = next(s for s in Speed if s.bit_rate <= self.config.max_speed)
        return EngineConfig(station_id=self.config.station_id, families=self.families,
                            max_speed=speed, fine=self.config.fine,
                            rtn_policy=self.config.rtn_policy,
                            copy_quality=self.config.copy_quality,
                            ecm=self.config.ecm,
                            timers=Timers().scaled(self._scale))

    # ------------------------------------------------------------------ the two calls

    def send_fax(self, pages: Sequence[OutgoingPage], number: str, *, job_id: str | None = None,
                 call_id: str | None = None, page_numbers: Sequence[int] | None = None) -> FaxCall:
        """Call ``number`` and send ``pages``. ``page_numbers``: the job's numbers for them (a
        retry sends only the pages not yet confirmed), so the record names pages as the job
        does; by default 1..n."""
        call_id = call_id or uuid.uuid4().hex
        engine = T30Engine(Role.SENDER, self._engine_config(), pages=pages, number=number,
                           page_numbers=page_numbers)
        dialled = self.wall()
        outcome, anchor = self._run(engine, call_id)
        return self._record(outcome, anchor, call_id, Direction.OUTGOING, number=number,
                            dialled_at=dialled, job_id=job_id)

    def receive_fax(self, checker: PageChecker | None = None, *, store_dir: Path | None = None,
                    wait: float = 3600.0, call_id: str | None = None) -> FaxCall:
        """Wait for ``rings_before_answer`` RINGs, answer, receive; store the pages kept.

        ``checker`` counts a page's good and bad lines (default ``t4.check_page``); the modem's
        ``copy_quality`` policy turns the counts into MCF or RTN. Pages are stored by
        ``store_pages`` as ``<store_dir>/<call id>.tif`` (TIFF Class F, with a PNG preview of
        page 1); without ``store_dir`` they are not kept.
        """
        caller = self._await_rings(wait)
        call_id = call_id or uuid.uuid4().hex
        engine = T30Engine(Role.RECEIVER, self._engine_config(), checker=checker)
        outcome, anchor = self._run(engine, call_id)
        path = None
        if outcome.received and store_dir is not None:
            path = str(store_pages(Path(store_dir) / f"{call_id}.tif", outcome.received,
                                   outcome.remote_station_id, self.wall()))
        return self._record(outcome, anchor, call_id, Direction.INCOMING,
                            number=self.config.own_number, caller=caller, document_path=path)

    # ------------------------------------------------------------------ the loop

    def _run(self, engine: T30Engine, call_id: str) -> tuple[Outcome, tuple[float, datetime]]:
        bound = log.bind(call_id=call_id, modem=self.config.name, role=engine.role.value)
        anchor = (self.clock(), self.wall())
        command: Command | None = engine.start(self.clock())
        while command is not None:
            event = self._perform(command)
            bound.debug("t30", command=type(command).__name__, result=type(event).__name__,
                        state=engine.state.name)
            command = engine.handle(event, self.clock())
        outcome = engine.outcome
        bound.info("fax_call", hangup=outcome.hangup.code.value, reason=outcome.hangup.reason,
                   remote=outcome.remote_station_id,
                   pages=[(p.page, [a.status.value for a in p.attempts]) for p in outcome.pages])
        return outcome, anchor

    def _perform(self, command: Command) -> ModemEvent:
        try:
            match command:
                case Dial(number=number, timeout=timeout):
                    return self._dial(number, timeout)
                case Answer(frames=fs, timeout=timeout, x_bit=x_bit):
                    reply = self.channel.command("ATA", timeout * 4)
                    if reply.result is not ResultCode.CONNECT:
                        return CallFailed(reply.result.value)
                    return self._send_frames(fs, x_bit)
                case SendFrames(frames=fs, silence_ms=ms, x_bit=x_bit):
                    if ms:
                        self.channel.command(f"AT+FRS={max(1, ms // 10)}", 5)
                    reply = self.channel.command("AT+FTH=3", 5)
                    if reply.result is not ResultCode.CONNECT:
                        return CarrierLost(reply.result.value)
                    return self._send_frames(fs, x_bit)
                case ReceiveFrames(timeout=timeout):
                    return self._receive_frames(timeout, connected=False)
                case SendImage():
                    return self._send_image(command)
                case ReceiveImage():
                    return self._receive_image(command)
                case HangUp():
                    self.channel.command("ATH0", 5)
                    return Done()
        except PortGone as err:
            return ModemFailed(f"port lost: {err}")
        except ChannelError as err:
            return ModemFailed(str(err))
        raise AssertionError(f"unknown command {command!r}")

    def _dial(self, number: str, timeout: float) -> ModemEvent:
        try:
            reply = self.channel.command(f"{self.config.dial_prefix}{number}", timeout)
        except ModemTimeout:
            self.channel.abort_receive()
            return CallFailed("NO ANSWER")
        if reply.result is not ResultCode.CONNECT:
            return CallFailed(reply.result.value)
        # T.31 8.3.1: after ATD's CONNECT the modem is receiving V.21 like after +FRH=3.
        return self._receive_frames(self._t(35.0), connected=True)

    def _send_frames(self, fs: tuple[frames.Frame, ...], x_bit: bool) -> ModemEvent:
        for frame in fs:
            self.channel.send_data(frames.encode(frame, x_bit))
            # CONNECT after a non-final frame asks for the next; OK after the final one.
            reply = self.channel.read_result(10)
            expected = ResultCode.OK if frame.final else ResultCode.CONNECT
            if reply.result is not expected:
                return CarrierLost(reply.result.value)
        return Done()

    def _receive_frames(self, timeout: float, connected: bool) -> ModemEvent:
        deadline = self.clock() + timeout
        got: list[bytes] = []
        bad = 0
        while True:
            if not connected:
                remaining = deadline - self.clock()
                try:
                    reply = self.channel.command("AT+FRH=3", max(0.05, remaining))
                except ModemTimeout:
                    self.channel.abort_receive()
                    return FramesReceived(tuple(got), bad) if got else TimedOut()
                if reply.result is ResultCode.NO_CARRIER:
                    return FramesReceived(tuple(got), bad) if got else CarrierLost("NO CARRIER")
                if reply.result is not ResultCode.CONNECT:
                    return FramesReceived(tuple(got), bad) if got else CarrierLost(reply.result.value)
            connected = False
            data = self.channel.read_data(self._t(10) + 5)
            result = self.channel.read_result(self._t(10) + 5).result
            if result is ResultCode.OK:
                got.append(data)
                if len(data) >= 2 and data[1] & 0x10:  # final frame of the burst
                    return FramesReceived(tuple(got), bad)
            elif result is ResultCode.ERROR:
                bad += 1
            else:
                return FramesReceived(tuple(got), bad) if got else CarrierLost(result.value)

    def _send_image(self, cmd: SendImage) -> ModemEvent:
        if cmd.silence_ms:
            self.channel.expect_ok(f"AT+FTS={max(1, cmd.silence_ms // 10)}", 5)
        code = cmd.speed.short_train_code if cmd.short_train else cmd.speed.class1_code
        reply = self.channel.command(f"AT+FTM={code}", 5)
        if reply.result is not ResultCode.CONNECT:
            return CarrierLost(reply.result.value)
        self.channel.send_data(cmd.data)
        seconds = len(cmd.data) * 8 / cmd.speed.bit_rate
        reply = self.channel.read_result(self._t(seconds + 10) + 10)
        return Done() if reply.result is ResultCode.OK else CarrierLost(reply.result.value)

    def _receive_image(self, cmd: ReceiveImage) -> ModemEvent:
        code = cmd.speed.short_train_code if cmd.short_train else cmd.speed.class1_code
        try:
            reply = self.channel.command(f"AT+FRM={code}", cmd.timeout + 1)
        except ModemTimeout:
            self.channel.abort_receive()
            return TimedOut()
        if reply.result is ResultCode.FCERROR:
            return WrongCarrier()
        if reply.result is not ResultCode.CONNECT:
            return CarrierLost(reply.result.value)
        data = self.channel.read_data(self._t(cmd.max_duration) + 10)
        self.channel.read_result(10)  # NO CARRIER: the carrier's end is the page's end
        return ImageReceived(data)

    # ------------------------------------------------------------------ the record

    def _record(self, outcome: Outcome, anchor: tuple[float, datetime], call_id: str,
                direction: Direction, *, number: str = "", caller: _CallerId = _CallerId(),
                dialled_at: datetime | None = None, job_id: str | None = None,
                document_path: str | None = None) -> FaxCall:
        mono0, wall0 = anchor

        def at(mono: float | None) -> datetime | None:
            return None if mono is None else wall0 + timedelta(seconds=mono - mono0)

        hung_up = at(outcome.ended_at) or self.wall()
        connected = at(outcome.connected_at)
        session = outcome.session
        return FaxCall(
            device=self.config.name, occurred_at=hung_up, call_id=call_id, direction=direction,
            status=call_status(outcome.pages, outcome.pages_requested), hangup=outcome.hangup,
            number=number, caller_id=caller.number, caller_name=caller.name,
            remote_station_id=outcome.remote_station_id, dialled_at=dialled_at,
            connected_at=connected, hung_up_at=hung_up,
            duration_s=round((hung_up - connected).total_seconds(), 3) if connected else 0.0,
            bit_rate=session.speed.bit_rate if session else 0,
            resolution=session.resolution.value if session else "", ecm=bool(session and session.ecm),
            pages_requested=outcome.pages_requested or 0, pages=outcome.pages,
            job_id=job_id, document_path=document_path,
        )


def store_pages(tiff: Path, pages: Sequence[ReceivedPage], remote_ident: str = "",
                when: datetime | None = None) -> Path:
    """Received pages as one TIFF Class F: each decoded again in its session's coding (the
    engine keeps only the line counts), bad lines replaced as fax machines print them; the
    sender's station id and the time received in its ImageDescription and DateTime tags. The
    one place received pages are written."""
    from . import documents, t4  # Pillow, only once there is something to store

    tiff.parent.mkdir(parents=True, exist_ok=True)
    decoded = [documents.ReceivedPage(t4.decode(p.data, p.session.coding, p.session.width.value[0]),
                                      p.session.resolution) for p in pages]
    return documents.store_received(tiff, decoded, remote_ident=remote_ident, when=when).tiff


def _families(lines: tuple[str, ...]) -> frozenset[str]:
    """``AT+FTM=?`` -> e.g. ``24,48,72,73,74,96,97,98,121,122,145,146`` -> modem families."""
    codes = {int(c) for line in lines for c in line.replace(" ", "").split(",") if c.isdigit()}
    families = {s.family for s in Speed if s.class1_code in codes}
    return frozenset(families) or ALL_FAMILIES
