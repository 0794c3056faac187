"""A Class 2 or Class 2.0 modem (T.32): the modem runs T.30 itself; we feed it pages and read
its reports. Same calls and the same ``FaxCall`` records as the Class 1 ``FaxModem``.

The whole protocol on our side is a short command sequence per page (T.32 clause 8 and
Appendix I's sessions)::

    ATD<number>   -> +FCO, +FCI:"<csi>", +FIS:<dis>, OK      (or BUSY / NO ANSWER / +FHS ERROR)
    AT+FDT        -> +FCS:<session>, CONNECT; page data (DLE-shielded, MH), DLE ETX -> OK
    AT+FET=0|2    -> +FPS:<1 good | 2 RTN ...>, OK; after the last page also +FHS:00

A page answered RTN is an ErrorPage and goes through the modem's ``rtn_policy`` exactly as in
Class 1 (``t30_model.after_bad_page``). Receiving: ``ATA`` -> +FCO, +FTI, +FCS, OK; per page
``AT+FDR`` -> CONNECT, data, DLE ETX, +FPS, +FET, OK; the pages are checked with the same
``PageChecker`` and copy-quality rule as Class 1 pages (with the modem's line counts), a refused
one answered with ``AT+FPS=2`` (RTN) before the next ``AT+FDR``; the copies are grouped into
pages (``pages.received_transmissions``) and stored by ``store_pages`` as in Class 1.

Blocking like ``FaxModem``: one per thread.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog

from . import class2
from .channel import ChannelError, FlowControl, ModemTimeout, PortGone, ResultCode
from .config import ModemConfig
from .modem import ModemPort, store_pages
from .frames import Coding, Resolution, Session, Speed, Width
from .pages import (OutgoingPage, PageChecker, PageQuality, ReceivedPage, received_page_results,
                    received_transmissions)
from .record import (CallStatus, Direction, FaxCall, HangupCause, HangupCode, PageAttempt,
                     PageResult, PageStatus, call_status)
from .t30_model import RtnMethod, after_bad_page

log = structlog.get_logger("drivers.fax")

#: T.32 page status -> the call record's page status.
_PAGE_STATUS = {
    class2.PageStatus.MCF: PageStatus.CONFIRMED,
    class2.PageStatus.RTN: PageStatus.RETRAIN_NEGATIVE,
    class2.PageStatus.RTP: PageStatus.RETRAIN_POSITIVE,
    class2.PageStatus.PIN: PageStatus.INTERRUPT_NEGATIVE,
    class2.PageStatus.PIP: PageStatus.INTERRUPT_POSITIVE,
}

#: Result codes that end a call before any fax connection.
_DIAL_FAILURES = {
    ResultCode.BUSY: HangupCode.BUSY,
    ResultCode.NO_ANSWER: HangupCode.NO_ANSWER,
    ResultCode.NO_DIALTONE: HangupCode.NO_DIALTONE,
    ResultCode.NO_CARRIER: HangupCode.NO_CARRIER,
}


def hangup_code(code: int) -> HangupCode:
    """A T.32 hang-up status as the call record's cause (the reason text keeps the detail)."""
    if code == 0x00:
        return HangupCode.NORMAL
    if code == 0x11:
        return HangupCode.NO_FAX_PEER
    if code in (0x01, 0x03, 0x04, 0x05):
        return HangupCode.CARRIER_LOST
    if code == 0x21:
        return HangupCode.INCOMPATIBLE
    if code in (0x25, 0x27):
        return HangupCode.TRAINING_FAILED
    if code in (0x52, 0x54, 0x56):
        return HangupCode.NO_RESPONSE
    if code == 0x02:
        return HangupCode.MODEM_ERROR
    return HangupCode.PROTOCOL_ERROR


@dataclass
class _Call:
    """What one call has learnt so far, from the modem's reports."""

    remote_id: str = ""
    session: class2.SessionParameters | None = None
    connected_at: datetime | None = None
    hangup: class2.HangUp | None = None
    pages: list[PageResult] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)

    def take(self, lines: Sequence[str], fax_class: class2.FaxClass) -> list[class2.Response]:
        responses = [class2.parse_line(line, fax_class) for line in lines]
        for response in responses:
            match response:
                case class2.RemoteId(ident=ident):
                    self.remote_id = ident
                case class2.Session(params=params):
                    self.session = params
                case class2.HangUp():
                    self.hangup = response
                case class2.Unreadable(line=line, why=why):
                    self.unreadable.append(f"{line!r}: {why}")
        return responses


def _session(params: class2.SessionParameters | None) -> Session:
    """The frames.Session a page is coded for: the modem's +FCS (MH unless it says MR; with
    ECM the modem frames and corrects the line, we see the same page data)."""
    if params is None:
        return Session(Speed.V27_2400, Resolution.FINE, Coding.MH)
    speed = next((s for s in Speed if s.bit_rate <= params.bit_rate), Speed.V27_2400)
    return Session(speed, Resolution.FINE if params.vertical_resolution else Resolution.STANDARD,
                   Coding.MR if params.coding == 1 else Coding.MH,
                   Width.A4 if params.width == 0 else Width.B4 if params.width == 1 else Width.A3,
                   ecm=params.ecm != 0)


class Class2FaxModem(ModemPort):
    """One Class 2 or 2.0 modem: ``send_fax`` and ``receive_fax`` each run one whole call."""

    def __init__(self, config: ModemConfig, **kw: Any):
        super().__init__(config, **kw)
        self.fax_class = (class2.FaxClass.CLASS_2_0 if config.fax_class == "2.0"
                          else class2.FaxClass.CLASS_2)
        c20 = self.fax_class is class2.FaxClass.CLASS_2_0
        self._names = {"class": "2.0" if c20 else "2", "id": "+FLI" if c20 else "+FLID",
                       "caps": "+FCC" if c20 else "+FDCC", "bit_order": "+FBO" if c20 else "+FBOR",
                       "abort": "+FKS" if c20 else "+FK"}

    # ------------------------------------------------------------------ set-up

    def initialize(self) -> None:
        n = self._names
        self.channel.reset(self.config.init)
        self.channel.expect_ok(f"AT+FCLASS={n['class']}")
        self.channel.expect_ok(f'AT{n["id"]}="{self.config.station_id[:20]}"')
        speed = _BR_CODES.index(max(r for r in _BR_CODES if r <= self.config.max_speed))
        # Fine (if allowed), our best speed, A4, unlimited length, MH, ECM as configured (the
        # same `ecm` key as Class 1: the modem then offers and uses T.30 Annex A), no BFT, 0 ms.
        self.channel.expect_ok(f"AT{n['caps']}={int(self.config.fine)},{speed},0,2,0,"
                               f"{int(self.config.ecm)},0,0")
        self.channel.expect_ok(f"AT{n['bit_order']}={self.config.bit_order}")
        self.channel.expect_ok("AT+FCR=1")
        if self.fax_class is class2.FaxClass.CLASS_2_0:
            # T.32 +FLO: the modem's side of the port's flow control (Class 2 modems take theirs
            # from an init string, e.g. AT&K3 or AT&K4).
            self.channel.expect_ok(f"AT+FLO={_FLO[self.config.flow_control]}")

    # ------------------------------------------------------------------ sending

    def send_fax(self, pages: Sequence[OutgoingPage], number: str, *, job_id: str | None = None,
                 call_id: str | None = None, page_numbers: Sequence[int] | None = None) -> FaxCall:
        """Call ``number`` and send ``pages``; ``page_numbers``: the job's numbers for them (a
        retry sends only the pages not yet confirmed), by default 1..n."""
        call_id = call_id or uuid.uuid4().hex
        numbers = list(page_numbers or range(1, len(pages) + 1))
        bound = log.bind(call_id=call_id, modem=self.config.name, role="sender", job_id=job_id)
        call = _Call()
        dialled = self.wall()
        cause = self._call(lambda: self._send(call, pages, numbers, number, bound))
        bound.info("fax_call", hangup=cause.code.value, reason=cause.reason, remote=call.remote_id,
                   pages=[(p.page, [a.status.value for a in p.attempts]) for p in call.pages])
        return self._record(call, cause, call_id, Direction.OUTGOING, number=number,
                            dialled_at=dialled, pages_requested=len(pages), job_id=job_id)

    def _send(self, call: _Call, pages: Sequence[OutgoingPage], numbers: list[int], number: str,
              bound: structlog.BoundLogger) -> HangupCause:
        reply = self.channel.command(f"{self.config.dial_prefix}{number}", self._t(90) + 30)
        call.take(reply.lines, self.fax_class)
        if reply.result in _DIAL_FAILURES:
            return HangupCause(_DIAL_FAILURES[reply.result], f"dialling: {reply.result.value}",
                               "A", reply.result.value)
        if reply.result is not ResultCode.OK:
            return self._ended(call, reply.result, "dialling")
        call.connected_at = self.wall()
        for index, page in enumerate(pages):
            last = index == len(pages) - 1
            page_no = numbers[index]
            attempts: list[PageAttempt] = []
            while True:
                reply = self.channel.command("AT+FDT", self._t(60) + 10)
                call.take(reply.lines, self.fax_class)
                if reply.result is not ResultCode.CONNECT:
                    self._keep(call, page_no, attempts, delivered=False)
                    if attempts:  # resending after RTN: the far end (spandsp on EOP) hung up
                        return self._rtn_refused(call, page_no)
                    return self._ended(call, reply.result, f"page {page_no}: AT+FDT")
                session = _session(call.session)
                data = page.encode(session)
                self.channel.send_data(data)
                drain = len(data) * 8 / session.speed.bit_rate
                reply = self.channel.read_result(self._t(drain + 30) + 30)
                call.take(reply.lines, self.fax_class)
                if reply.result is not ResultCode.OK:
                    self._keep(call, page_no, attempts, delivered=False)
                    return self._ended(call, reply.result, f"page {page_no}: data")
                ppm = class2.PostPageMessage.EOP if last else class2.PostPageMessage.MPS
                reply = self.channel.command(f"AT+FET={ppm.value}", self._t(60) + 30)
                responses = call.take(reply.lines, self.fax_class)
                verdicts = [r.status for r in responses if isinstance(r, class2.PageResult)]
                if not verdicts:
                    attempts.append(self._attempt(attempts, PageStatus.NO_RESPONSE, session))
                    self._keep(call, page_no, attempts, delivered=False)
                    return self._ended(call, reply.result, f"page {page_no}: no +FPS")
                status = _PAGE_STATUS[verdicts[-1]]
                attempts.append(self._attempt(attempts, status, session))
                bound.info("fax_page", page=page_no, attempt=len(attempts), status=status.value)
                if verdicts[-1].good:
                    self._keep(call, page_no, attempts, delivered=True)
                    break
                action = after_bad_page(self.config.rtn_policy, len(attempts))
                if action is RtnMethod.IGNORE:
                    self._keep(call, page_no, attempts, delivered=True)
                    break
                if action is RtnMethod.GIVEUP:
                    self._keep(call, page_no, attempts, delivered=False)
                    if call.hangup is None:
                        self._abort(call)
                    return HangupCause(HangupCode.RTN_GIVE_UP,
                                       f"page {page_no} answered {status.value} "
                                       f"{len(attempts)} times", "D")
                if call.hangup is not None:
                    self._keep(call, page_no, attempts, delivered=False)
                    return self._rtn_refused(call, page_no)
                # RETRANSMIT: the same page again; the modem retrains by itself.
            if call.hangup is not None and not last:
                return self._cause(call.hangup, f"after page {page_no}")
        if call.hangup is None:
            # +FHS follows the last page's +FPS, before or after its OK.
            try:
                self.channel.read_result(self.config.hangup_wait_s)
            except ModemTimeout:
                pass
            call.take(self._drain_unsolicited(), self.fax_class)
        if call.hangup is not None:
            return self._cause(call.hangup, "end of call")
        return HangupCause(HangupCode.NORMAL, "all pages sent", "E")

    def _attempt(self, attempts: list[PageAttempt], status: PageStatus,
                 session: Session) -> PageAttempt:
        return PageAttempt(len(attempts) + 1, status, session.speed.bit_rate,
                           session.resolution.value, ecm=session.ecm)

    @staticmethod
    def _keep(call: _Call, page_no: int, attempts: list[PageAttempt], delivered: bool) -> None:
        if not attempts:
            return
        error = any(a.status in (PageStatus.RETRAIN_NEGATIVE, PageStatus.INTERRUPT_NEGATIVE)
                    for a in attempts)
        call.pages.append(PageResult(page_no, tuple(attempts), delivered, error))

    def _rtn_refused(self, call: _Call, page_no: int) -> HangupCause:
        """RTN, and the call ended instead of the page being taken again (spandsp does so after
        RTN on the last page): not a line failure; the page goes on the next call."""
        return HangupCause(HangupCode.RTN_REFUSED,
                           f"page {page_no} answered RTN; the far end hung up instead of taking "
                           "it again", "D", modem_result=self._cause(call.hangup, "").modem_result
                           if call.hangup else None)

    def _ended(self, call: _Call, result: ResultCode, where: str) -> HangupCause:
        if call.hangup is not None:
            return self._cause(call.hangup, where)
        return HangupCause(HangupCode.MODEM_ERROR, f"{where}: {result.value}",
                           modem_result=result.value)

    def _cause(self, hangup: class2.HangUp, where: str) -> HangupCause:
        label = "+FHS" if self.fax_class is class2.FaxClass.CLASS_2_0 else "+FHNG"
        return HangupCause(hangup_code(hangup.code), f"{hangup.reason} ({where})",
                           modem_result=f"{label}:{hangup.code:02X}")

    def _abort(self, call: _Call) -> None:
        try:
            reply = self.channel.command(f"AT{self._names['abort']}", self._t(30) + 10)
            call.take(reply.lines, self.fax_class)
        except ModemTimeout:
            pass

    def _drain_unsolicited(self) -> list[str]:
        lines = []
        while self.channel.unsolicited:
            lines.append(self.channel.unsolicited.popleft().text)
        return lines

    def _call(self, run: Callable[[], HangupCause]) -> HangupCause:
        """One call's commands; a local failure (port gone, modem mute) ends it as a cause, so
        a call record is always produced. The modem is put on hook either way."""
        try:
            cause = run()
        except PortGone as err:
            cause = HangupCause(HangupCode.MODEM_ERROR, f"port lost: {err}")
        except ChannelError as err:
            cause = HangupCause(HangupCode.MODEM_ERROR, str(err))
        try:
            self.channel.command("ATH0", 5)
        except ChannelError:
            pass
        return cause

    # ------------------------------------------------------------------ receiving

    def receive_fax(self, checker: PageChecker | None = None, *, store_dir: Path | None = None,
                    wait: float = 3600.0, call_id: str | None = None) -> FaxCall:
        """Wait for ``rings_before_answer`` RINGs, answer, take the pages; store them."""
        from . import t4

        checker = checker or t4.check_page
        self._await_rings(wait)
        call_id = call_id or uuid.uuid4().hex
        bound = log.bind(call_id=call_id, modem=self.config.name, role="receiver")
        call = _Call()
        received: list[ReceivedPage] = []
        cause = self._call(lambda: self._receive(call, checker, received, bound))
        # A page we answered RTN (+FPS=2) and the sender sent again is one page, as in Class 1.
        transmissions = received_transmissions(
            received, {i for i, copy in enumerate(received) if not copy.good})
        call.pages = list(received_page_results(transmissions))
        path = None
        if received and store_dir is not None:
            path = str(store_pages(Path(store_dir) / f"{call_id}.tif",
                                   [copies[-1] for copies in transmissions], call.remote_id,
                                   self.wall()))
        bound.info("fax_call", hangup=cause.code.value, reason=cause.reason, remote=call.remote_id,
                   pages=len(transmissions), copies=len(received))
        return self._record(call, cause, call_id, Direction.INCOMING,
                            number=self.config.own_number, document_path=path)

    def _receive(self, call: _Call, checker: PageChecker, received: list[ReceivedPage],
                 bound: structlog.BoundLogger) -> HangupCause:
        reply = self.channel.command("ATA", self._t(60) + 30)
        call.take(reply.lines, self.fax_class)
        if reply.result is not ResultCode.OK:
            return self._ended(call, reply.result, "answering")
        call.connected_at = self.wall()
        reverse = self.config.reversed_receive_data
        if reverse is None:
            reverse = self.fax_class is class2.FaxClass.CLASS_2
        while True:
            reply = self.channel.command("AT+FDR", self._t(90) + 30)
            call.take(reply.lines, self.fax_class)
            if reply.result is ResultCode.OK and call.hangup is not None:
                return self._cause(call.hangup, "end of call")
            if reply.result is not ResultCode.CONNECT:
                return self._ended(call, reply.result, f"page {len(received) + 1}: AT+FDR")
            if self.fax_class is class2.FaxClass.CLASS_2:
                self.channel.write(b"\x12")  # DC2: ready for the page (SP-2388)
            session = _session(call.session)
            data = self.channel.read_data(self._t(600) + 30, first_byte_timeout=self._t(60) + 30)
            if reverse:
                data = data.translate(_REVERSED)
            reply = self.channel.read_result(self._t(30) + 10)
            responses = call.take(reply.lines, self.fax_class)
            report = next((r for r in responses if isinstance(r, class2.PageResult)), None)
            quality = _with_modem_counts(checker(data, session), report)
            good = self.config.copy_quality.acceptable(quality)
            complete = any(isinstance(r, class2.PostPage) for r in responses)
            received.append(ReceivedPage(data, session, quality, good, complete=complete))
            bound.info("fax_page", copy=len(received), good=good, lines=quality.lines,
                       bad=quality.bad_lines, modem=report.status.name if report else None)
            # Our rule is the answer; the modem sends it when we ask for what follows (AT+FDR):
            # RTN (T.32 +FPS=2 / +FPTS=2) for a page we reject, MCF (=1) for one we take that
            # the modem's own check would have refused.
            page_cmd = "+FPS" if self.fax_class is class2.FaxClass.CLASS_2_0 else "+FPTS"
            if not good:
                self.channel.command(f"AT{page_cmd}=2", 5)
            elif report is not None and report.status is class2.PageStatus.RTN:
                self.channel.command(f"AT{page_cmd}=1", 5)
            if reply.result is not ResultCode.OK or call.hangup is not None:
                return self._ended(call, reply.result, f"page {len(received)}")

    # ------------------------------------------------------------------ the record

    def _record(self, call: _Call, cause: HangupCause, call_id: str, direction: Direction, *,
                number: str = "", dialled_at: datetime | None = None, pages_requested: int = 0,
                job_id: str | None = None, document_path: str | None = None) -> FaxCall:
        hung_up = self.wall()
        pages = tuple(call.pages)
        session = _session(call.session) if call.session else None
        status = call_status(pages, pages_requested or None)
        if direction is Direction.INCOMING and not pages:
            status = CallStatus.FAILED
        return FaxCall(
            device=self.config.name, occurred_at=hung_up, call_id=call_id, direction=direction,
            status=status, hangup=cause, number=number, remote_station_id=call.remote_id,
            dialled_at=dialled_at, connected_at=call.connected_at, hung_up_at=hung_up,
            duration_s=round((hung_up - call.connected_at).total_seconds(), 3)
            if call.connected_at else 0.0,
            bit_rate=session.speed.bit_rate if session else 0,
            resolution=session.resolution.value if session else "",
            ecm=bool(session and session.ecm),
            pages_requested=pages_requested, pages=pages, job_id=job_id,
            document_path=document_path,
        )


def _with_modem_counts(quality: PageQuality, report: class2.PageResult | None) -> PageQuality:
    """Our check of the page's data, and the modem's line counts in its +FPS report: a modem
    that decodes the line itself hands us its repaired rows (the lab's does, as many do), so
    only its counts show the rows the line spoiled."""
    if report is None or report.lines is None or report.bad_lines is None:
        return quality
    lines = max(quality.lines, report.lines)
    bad = max(quality.bad_lines, report.bad_lines)
    run = max(quality.longest_bad_run, report.consecutive_bad_lines or 0)
    return PageQuality(lines - bad, bad, run, quality.end_of_page)


_FLO = {FlowControl.NONE: 0, FlowControl.XONXOFF: 1, FlowControl.RTSCTS: 2}
_BR_CODES = (2400, 4800, 7200, 9600, 12000, 14400)  # T.32 BR 0-5
_REVERSED = bytes(int(f"{b:08b}"[::-1], 2) for b in range(256))
