"""The T.30 engine's whole transition table, as data: (state, signal) -> the step to take and
the states it may leave the engine in; ``docs/T30.md`` is drawn from it
(``python -m drivers.fax.t30_table > docs/T30.md``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .class1 import Command, ModemEvent
from .t30_model import State, Signal
from .t30_ecm import EcmReceiverSteps, EcmSenderSteps
from .t30_receiver import ReceiverSteps
from .t30_sender import SenderSteps
from .t30_steps import Steps

#: A step: the engine, the event, now -> the next command (None: the call is over).
Handler = Callable[[Any, ModemEvent, float], Command | None]

S = State
G = Signal
_WAITING_NOISE = (G.TIMEOUT, G.BAD_FRAMES, G.OTHER_FRAMES, G.CARRIER_LOST)

#: The whole machine: (state, signal) -> handler. Anything not here goes to ``_ANY_STATE``,
#: then ``_unexpected`` (DCN and hang up as a protocol error).
_TABLE: dict[tuple[State, Signal], Handler] = {
    # --- sender, phase A/B
    (S.DIALLING, G.DIS): SenderSteps._on_dis,
    (S.DIALLING, G.CALL_FAILED): SenderSteps._on_call_failed,
    **{(S.DIALLING, g): SenderSteps._await_dis for g in _WAITING_NOISE},
    (S.S_WAIT_DIS, G.DIS): SenderSteps._on_dis,
    **{(S.S_WAIT_DIS, g): SenderSteps._await_dis for g in _WAITING_NOISE},
    (S.S_SEND_DCS, G.SENT): SenderSteps._send_tcf,
    (S.S_SEND_TCF, G.SENT): SenderSteps._await_cfr,
    (S.S_WAIT_CFR, G.CFR): SenderSteps._send_page,
    (S.S_WAIT_CFR, G.FTT): SenderSteps._on_ftt,
    (S.S_WAIT_CFR, G.DIS): SenderSteps._repeat_dcs,  # they missed our DCS and said DIS again
    **{(S.S_WAIT_CFR, g): SenderSteps._repeat_dcs for g in _WAITING_NOISE},
    # --- sender, phases C/D
    (S.S_SEND_PAGE, G.SENT): SenderSteps._send_ppm,
    (S.S_SEND_PPM, G.SENT): SenderSteps._await_mcf,
    **{(S.S_WAIT_MCF, g): SenderSteps._on_page_answer for g in (G.MCF, G.RTP, G.RTN, G.PIP, G.PIN)},
    (S.S_WAIT_MCF, G.CRP): SenderSteps._repeat_ppm,
    **{(S.S_WAIT_MCF, g): SenderSteps._repeat_ppm for g in _WAITING_NOISE},
    # --- sender, ECM (phases C/D)
    (S.S_SEND_BLOCK, G.SENT): EcmSenderSteps._send_pps,
    (S.S_SEND_PPS, G.SENT): EcmSenderSteps._await_pps_answer,
    **{(s, G.MCF): EcmSenderSteps._on_block_confirmed for s in (S.S_WAIT_PPS_ANSWER, S.S_WAIT_RR_ANSWER)},
    **{(s, G.PPR): EcmSenderSteps._on_ppr for s in (S.S_WAIT_PPS_ANSWER, S.S_WAIT_RR_ANSWER)},
    **{(s, G.RNR): EcmSenderSteps._on_rnr for s in (S.S_WAIT_PPS_ANSWER, S.S_WAIT_RR_ANSWER,
                                               S.S_WAIT_ERR)},
    (S.S_WAIT_PPS_ANSWER, G.CRP): EcmSenderSteps._repeat_pps,
    **{(S.S_WAIT_PPS_ANSWER, g): EcmSenderSteps._repeat_pps for g in _WAITING_NOISE},
    (S.S_SEND_RR, G.SENT): EcmSenderSteps._await_rr_answer,
    (S.S_WAIT_RR_ANSWER, G.CRP): EcmSenderSteps._repeat_rr,
    **{(S.S_WAIT_RR_ANSWER, g): EcmSenderSteps._repeat_rr for g in _WAITING_NOISE},
    (S.S_SEND_CTC, G.SENT): EcmSenderSteps._await_ctr,
    (S.S_WAIT_CTR, G.CTR): EcmSenderSteps._on_ctr,
    (S.S_WAIT_CTR, G.CRP): EcmSenderSteps._repeat_ctc,
    **{(S.S_WAIT_CTR, g): EcmSenderSteps._repeat_ctc for g in _WAITING_NOISE},
    (S.S_SEND_EOR, G.SENT): EcmSenderSteps._await_err,
    (S.S_WAIT_ERR, G.ERR): EcmSenderSteps._on_block_confirmed,
    (S.S_WAIT_ERR, G.CRP): EcmSenderSteps._repeat_eor,
    **{(S.S_WAIT_ERR, g): EcmSenderSteps._repeat_eor for g in _WAITING_NOISE},
    # --- receiver, phase B
    (S.R_ANSWER, G.SENT): ReceiverSteps._await_dcs,
    (S.R_ANSWER, G.CALL_FAILED): SenderSteps._on_call_failed,
    (S.R_SEND_DIS, G.SENT): ReceiverSteps._await_dcs,
    (S.R_WAIT_DCS, G.DCS): ReceiverSteps._on_dcs,
    **{(S.R_WAIT_DCS, g): ReceiverSteps._repeat_dis for g in _WAITING_NOISE},
    (S.R_WAIT_TCF, G.IMAGE): ReceiverSteps._on_tcf,
    (S.R_WAIT_TCF, G.WRONG_CARRIER): ReceiverSteps._await_command,  # DCS again: they missed CFR
    (S.R_WAIT_TCF, G.TIMEOUT): ReceiverSteps._send_ftt,
    (S.R_WAIT_TCF, G.CARRIER_LOST): ReceiverSteps._send_ftt,
    (S.R_SEND_CFR, G.SENT): ReceiverSteps._await_page,
    (S.R_SEND_FTT, G.SENT): ReceiverSteps._await_dcs,
    # --- receiver, phases C/D
    (S.R_WAIT_PAGE, G.IMAGE): ReceiverSteps._on_page,
    (S.R_WAIT_PAGE, G.WRONG_CARRIER): ReceiverSteps._await_command,
    (S.R_WAIT_PAGE, G.TIMEOUT): ReceiverSteps._page_lost,
    (S.R_WAIT_PAGE, G.CARRIER_LOST): ReceiverSteps._page_lost,
    **{(S.R_WAIT_PPM, g): ReceiverSteps._on_ppm for g in (G.MPS, G.EOP, G.EOM)},
    **{(S.R_WAIT_PPM, g): ReceiverSteps._await_ppm_again for g in _WAITING_NOISE},
    (S.R_WAIT_COMMAND, G.DCS): ReceiverSteps._on_dcs,
    **{(S.R_WAIT_COMMAND, g): ReceiverSteps._repeat_response for g in (G.MPS, G.EOP, G.EOM)},
    **{(S.R_WAIT_COMMAND, g): ReceiverSteps._await_ppm_again for g in _WAITING_NOISE},
    (S.R_SEND_RESPONSE, G.SENT): ReceiverSteps._after_response,
    **{(S.R_WAIT_DCN, g): ReceiverSteps._repeat_response for g in (G.MPS, G.EOP, G.EOM)},
    **{(S.R_WAIT_DCN, g): Steps._hang_up for g in _WAITING_NOISE},
    (S.R_WAIT_DCS, G.MPS): ReceiverSteps._repeat_response,  # RTN unheard: they repeat the PPM
    (S.R_WAIT_DCS, G.EOP): ReceiverSteps._repeat_response,
    # --- receiver, ECM (phases C/D)
    (S.R_WAIT_BLOCK, G.IMAGE): EcmReceiverSteps._on_block,
    (S.R_WAIT_BLOCK, G.WRONG_CARRIER): EcmReceiverSteps._await_ecm_command,  # PPS/RR/CTC/EOR instead
    (S.R_WAIT_BLOCK, G.TIMEOUT): ReceiverSteps._page_lost,
    (S.R_WAIT_BLOCK, G.CARRIER_LOST): ReceiverSteps._page_lost,
    (S.R_WAIT_PPS, G.PPS): EcmReceiverSteps._on_pps,
    (S.R_WAIT_PPS, G.EOR): EcmReceiverSteps._on_eor,
    (S.R_WAIT_PPS, G.CTC): EcmReceiverSteps._on_ctc,
    (S.R_WAIT_PPS, G.RR): EcmReceiverSteps._repeat_ecm_response,
    **{(S.R_WAIT_PPS, g): EcmReceiverSteps._await_ecm_command_again for g in _WAITING_NOISE},
    (S.R_SEND_ECM_RESPONSE, G.SENT): EcmReceiverSteps._after_ecm_response,
    **{(S.R_WAIT_DCN, g): EcmReceiverSteps._repeat_ecm_response for g in (G.PPS, G.EOR, G.RR)},
    # --- phase E
    (S.SEND_DCN, G.SENT): Steps._hang_up,
    **{(S.SEND_DCN, g): Steps._hang_up for g in _WAITING_NOISE},
    (S.HANGING_UP, G.SENT): Steps._done,
    (S.HANGING_UP, G.CARRIER_LOST): Steps._done,
    (S.HANGING_UP, G.MODEM_FAILED): Steps._done,
}

#: Signals handled the same way in every state not listed above.
_ANY_STATE: dict[Signal, Handler] = {
    G.DCN: Steps._on_dcn,
    G.CARRIER_LOST: Steps._on_carrier_lost,
    G.MODEM_FAILED: Steps._on_modem_failed,
}

#: Where each action may leave the engine, each target under its named guard (the condition in
#: the action that picks it: a policy, the tries left, the last page or not). ``STAY``: the state
#: it was in. The back-to-back tests check every step they make against this; ``docs/T30.md`` is
#: drawn from it (``diagram``).
STAY = None
_LAST, _MORE = "3 tries failed", "tries left"
_LEADS_TO: dict[Handler, dict[State | None, str]] = {
    SenderSteps._on_call_failed: {S.HANGING_UP: ""},
    SenderSteps._await_dis: {S.HANGING_UP: "T1 expired", S.S_WAIT_DIS: "within T1"},
    SenderSteps._on_dis: {S.SEND_DCN: "incompatible", S.S_SEND_DCS: "a modulation in common"},
    SenderSteps._send_tcf: {S.S_SEND_TCF: ""},
    SenderSteps._await_cfr: {S.S_WAIT_CFR: ""},
    SenderSteps._repeat_dcs: {S.SEND_DCN: _LAST, S.S_SEND_DCS: _MORE},
    SenderSteps._on_ftt: {S.SEND_DCN: "at the lowest speed", S.S_SEND_DCS: "a slower speed left"},
    SenderSteps._send_page: {S.S_SEND_PAGE: "no ECM", S.S_SEND_BLOCK: "ECM"},
    SenderSteps._send_ppm: {S.S_SEND_PPM: ""},
    SenderSteps._await_mcf: {S.S_WAIT_MCF: ""},
    SenderSteps._repeat_ppm: {S.SEND_DCN: _LAST, S.S_SEND_PPM: _MORE},
    SenderSteps._on_page_answer: {S.SEND_DCN: "last page, or RTN given up (policy, K resends)",
                                  S.S_SEND_DCS: "RTN to resend, or retrain (RTP, RTN ignored)",
                                  S.S_SEND_PAGE: "MCF, more pages"},
    EcmSenderSteps._send_pps: {S.S_SEND_PPS: ""},
    EcmSenderSteps._await_pps_answer: {S.S_WAIT_PPS_ANSWER: ""},
    EcmSenderSteps._repeat_pps: {S.SEND_DCN: _LAST, S.S_SEND_PPS: _MORE},
    EcmSenderSteps._on_block_confirmed: {S.S_SEND_BLOCK: "more blocks, or the next page",
                                         S.SEND_DCN: "last block of the last page"},
    EcmSenderSteps._on_ppr: {S.S_SEND_BLOCK: "PPR 1-3: the frames again",
                             S.S_SEND_CTC: "4th PPR, a slower speed left",
                             S.S_SEND_EOR: "4th PPR at the lowest speed"},
    EcmSenderSteps._await_ctr: {S.S_WAIT_CTR: ""},
    EcmSenderSteps._repeat_ctc: {S.SEND_DCN: _LAST, S.S_SEND_CTC: _MORE},
    EcmSenderSteps._on_ctr: {S.S_SEND_BLOCK: ""},
    EcmSenderSteps._await_err: {S.S_WAIT_ERR: ""},
    EcmSenderSteps._repeat_eor: {S.SEND_DCN: _LAST, S.S_SEND_EOR: _MORE},
    EcmSenderSteps._on_rnr: {S.SEND_DCN: "T5 expired", S.S_SEND_RR: "within T5"},
    EcmSenderSteps._await_rr_answer: {S.S_WAIT_RR_ANSWER: ""},
    EcmSenderSteps._repeat_rr: {S.SEND_DCN: _LAST, S.S_SEND_RR: _MORE},
    ReceiverSteps._await_dcs: {S.R_WAIT_DCS: ""},
    ReceiverSteps._repeat_dis: {S.SEND_DCN: "T1 expired", S.R_SEND_DIS: "within T1"},
    ReceiverSteps._on_dcs: {S.R_WAIT_TCF: ""},
    ReceiverSteps._on_tcf: {S.R_SEND_CFR: "zeros long enough", S.R_SEND_FTT: "training failed"},
    ReceiverSteps._send_ftt: {S.R_SEND_FTT: ""},
    ReceiverSteps._await_page: {S.R_WAIT_PAGE: "no ECM", S.R_WAIT_BLOCK: "ECM"},
    ReceiverSteps._await_command: {S.R_WAIT_COMMAND: ""},
    ReceiverSteps._on_page: {S.R_WAIT_PPM: ""},
    ReceiverSteps._on_ppm: {S.R_SEND_RESPONSE: "MCF, or RTN for a bad page"},
    ReceiverSteps._repeat_response: {S.R_WAIT_COMMAND: "nothing said yet", S.R_SEND_RESPONSE: "say it again"},
    ReceiverSteps._after_response: {S.R_WAIT_DCS: "after RTN", S.R_WAIT_PAGE: "MPS",
                                    S.R_WAIT_BLOCK: "MPS, ECM", S.R_SEND_DIS: "EOM",
                                    S.SEND_DCN: "EOM, T1 expired", S.R_WAIT_DCN: "EOP"},
    ReceiverSteps._await_ppm_again: {S.SEND_DCN: _LAST, STAY: _MORE},
    ReceiverSteps._page_lost: {S.SEND_DCN: ""},
    EcmReceiverSteps._on_block: {S.R_WAIT_PPS: ""},
    EcmReceiverSteps._await_ecm_command: {S.R_WAIT_PPS: ""},
    EcmReceiverSteps._await_ecm_command_again: {S.SEND_DCN: _LAST, S.R_WAIT_PPS: _MORE},
    EcmReceiverSteps._on_pps: {S.SEND_DCN: "unreadable, 3 tries failed", S.R_WAIT_PPS: "unreadable",
                               S.R_SEND_ECM_RESPONSE: "MCF, PPR for missing frames, or said again"},
    EcmReceiverSteps._on_eor: {S.R_SEND_ECM_RESPONSE: "ERR"},
    EcmReceiverSteps._on_ctc: {S.SEND_DCN: "unreadable, 3 tries failed", S.R_WAIT_PPS: "unreadable",
                               S.R_SEND_ECM_RESPONSE: "CTR"},
    EcmReceiverSteps._repeat_ecm_response: {S.R_WAIT_PPS: "nothing said yet",
                                            S.R_SEND_ECM_RESPONSE: "say it again"},
    EcmReceiverSteps._after_ecm_response: {S.R_WAIT_BLOCK: "PPR/CTR, the next block or page",
                                           S.R_SEND_DIS: "EOM", S.SEND_DCN: "EOM, T1 expired",
                                           S.R_WAIT_DCN: "EOP"},
    Steps._on_dcn: {S.HANGING_UP: ""},
    Steps._on_carrier_lost: {S.HANGING_UP: ""},
    Steps._on_modem_failed: {S.DONE: ""},
    Steps._unexpected: {S.SEND_DCN: "a protocol error", S.DONE: "already hanging up"},
    Steps._hang_up: {S.HANGING_UP: ""},
    Steps._done: {S.DONE: ""},
}


@dataclass(frozen=True)
class Transition:
    """One row of the machine: in ``state``, on ``signal``, ``action`` leaves it in one of
    ``to``'s states, the one whose guard holds."""

    state: State
    signal: Signal
    action: Handler
    to: dict[State, str]  #: next state -> its guard ("" when there is only one)


def transition(state: State, signal: Signal) -> Transition:
    """The row ``handle`` follows for (state, signal): the table, else the any-state rows, else
    ``_unexpected`` (DCN and hang up as a protocol error)."""
    action = _TABLE.get((state, signal)) or _ANY_STATE.get(signal) or Steps._unexpected
    return Transition(state, signal, action,
                      {state if t is STAY else t: guard for t, guard in _LEADS_TO[action].items()})


def transitions() -> list[Transition]:
    """Every row the engine can follow, ``_unexpected`` ones left out (they all end the call)."""
    return [transition(state, signal) for state in State if state is not State.DONE
            for signal in Signal
            if (state, signal) in _TABLE or signal in _ANY_STATE]


def diagram() -> str:
    """``docs/T30.md``: the machine as Mermaid state diagrams, sender and receiver apart."""
    parts = ["# The T.30 engine's states (generated from `drivers/fax/t30_table.py`; "
             "`python -m drivers.fax.t30_table > docs/T30.md`)\n",
             "Each edge is one row: `signal / action [guard]`. Any signal a state has no row for ends the "
             "call as a protocol error (DCN, hang up); DCN, carrier loss and a modem failure are "
             "handled the same in every state and drawn only where they lead somewhere else.\n"]
    for role, prefix, start in (("Sender", "S_", State.DIALLING), ("Receiver", "R_", State.R_ANSWER)):
        lines = [f"## {role}\n", "```mermaid", "stateDiagram-v2", f"    [*] --> {start.name}"]
        for row in transitions():
            if not (row.state.name.startswith(prefix) or row.state is start):
                continue
            if row.action in (Steps._on_dcn, Steps._on_carrier_lost,
                              Steps._on_modem_failed) and (row.state, row.signal) not in _TABLE:
                continue
            for target, guard in sorted(row.to.items(), key=lambda t: t[0].name):
                lines.append(f"    {row.state.name} --> {target.name} : {row.signal.name} "
                             f"/ {row.action.__name__.lstrip('_')}" + (f" [{guard}]" if guard else ""))
        lines += ["    SEND_DCN --> HANGING_UP : SENT / hang_up", "    HANGING_UP --> DONE : SENT / done",
                  "    DONE --> [*]", "```\n"]
        parts.append("\n".join(lines))
    return "\n".join(parts)


if __name__ == "__main__":
    print(diagram(), end="")
