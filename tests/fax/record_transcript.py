"""Record a golden AT transcript: one send from our FaxModem to the lab's spandsp peer.

    .venv/bin/python -m tests.fax.record_transcript tests/data/fax/transcripts/NAME.txt [--ecm]

Writes the '>'/'<' table ``test_t30_transcripts.py`` replays (consecutive reads of one reply
are joined). Re-record when the engine's choices change on purpose (a new coding, ECM).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from drivers.fax.channel import FlowControl, ModemChannel
from drivers.fax.config import ModemConfig
from drivers.fax.modem import FaxModem
from lab.faxmodem.peer import FaxPeer, PeerOptions

from .helpers import bar_page

STATION = "+86 10 5550100"
PAGE_ROWS, BAR_EVERY = 60, 10


def record(out: Path, ecm: bool) -> None:
    steps: list[tuple[str, bytes]] = []

    def trace(direction: str, data: bytes) -> None:
        side = ">" if direction == "<--" else "<"
        if steps and steps[-1][0] == side:
            steps[-1] = (side, steps[-1][1] + data)
        else:
            steps.append((side, data))

    with tempfile.TemporaryDirectory(prefix="transcript-") as scratch:
        peer = FaxPeer.start(Path(scratch), PeerOptions(speed=3.0))
        try:
            cfg = ModemConfig(name="t", port=str(peer.pty), flow_control=FlowControl.NONE,
                              lock_dir=scratch, station_id=STATION, timer_scale=1 / 3, ecm=ecm)
            channel = ModemChannel(cfg.port, flow=FlowControl.NONE, lock_dir=scratch)
            modem = FaxModem(cfg, channel=channel)
            modem.open()
            channel._trace = trace  # after open(): the transcript starts at ATD
            call = modem.send_fax([bar_page(PAGE_ROWS, BAR_EVERY)], "5550199")
            modem.close()
        finally:
            peer.stop()
    kind = "MMR under ECM" if ecm else "MR"
    lines = [(f"# One-page send ({kind}, {PAGE_ROWS} rows, V.17 14400) from gatewayd's FaxModem to "
              "the lab's spandsp"),
             "# 0.0.6 T.31 emulator, recorded by tests/fax/record_transcript.py through ModemChannel's",
             "# trace hook, in the spirit of spandsp's tests/t31_tests.c tables. '>' = DTE to modem,",
             "# '<' = modem to DTE; Python bytes. Starts after open()'s ATZ/init.",
             f"# Call: {call.hangup.code.value}, pages {[a.status.value for p in call.pages for a in p.attempts]}."]
    lines += [f"{side} {data!r}" for side, data in steps]
    out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--ecm", action="store_true")
    args = parser.parse_args()
    record(args.out, args.ecm)
