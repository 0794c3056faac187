"""Error correction mode (T.30 Annex A, T.4 Annex A): the page in numbered HDLC frames, sans-IO.

The coded page is cut into *partial pages* (blocks) of at most 256 frames of 256 (or 64)
octets. Each frame is ``FF 03 06 <number> <data>`` (FCD, T.4 Annex A); three RCP frames
``FF 03 86`` end a block's transmission. The sender follows with PPS (page, block, frame count
and the post-page command, NULL inside a page), the receiver answers MCF, or PPR with a bitmap
of the frames it lacks, which the sender resends (T.30 Annex A).

spandsp 0.0.6's T.31 (and most real modems) offer ``+FTH/+FRH`` only at 300 bit/s, so these
frames are HDLC-framed here (``hdlc.py``) and go through ``+FTM``/``+FRM`` as plain data, as
HylaFAX does. Octets are on the line LSB first (as Class 1 carries them); frame numbers, page
and block counters and PPR's bitmap are plain binary in that order, as spandsp reads them
(``frame_no = msg[3]``; PPR bit ``j`` of octet ``i`` is frame ``8i + j``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from . import hdlc
from .frames import ADDRESS, CONTROL, FCF, FrameError

FRAMES_PER_BLOCK = 256  #: T.30 Annex A: a partial page is at most 256 frames
RCP_FRAMES = 3  #: RCP is sent three times at the end of each block (T.4 Annex A; spandsp does)
#: PPS's first FIF octet when the block is not the page's last (PPS-NULL).
NULL_PPM = 0x00
#: PPRs for one block before the sender must choose CTC (go on, slower) or EOR (give up on it).
PPR_LIMIT = 4
#: Flags before the first frame, in seconds of line time: the far end's HDLC receiver needs a
#: run of them to declare framing (spandsp counts several); 200 ms is ample at any rate.
PREAMBLE_SECONDS = 0.2


class EcmError(FrameError):
    """An ECM frame or signal we cannot use (a short PPS, a PPR map of the wrong size)."""


@dataclass(frozen=True)
class Block:
    """One partial page as the sender keeps it for retransmission."""

    page: int  #: 0-based page counter (modulo 256 on the line)
    number: int  #: 0-based block counter within the page
    frames: tuple[bytes, ...]  #: frame data, all ``frame_size`` long (the last one padded)
    last: bool  #: the page's final block: its PPS carries MPS/EOP/EOM

    @property
    def count(self) -> int:
        return len(self.frames)


def blocks(data: bytes, page: int, frame_size: int = 256) -> list[Block]:
    """Cut a coded page into blocks. The last frame is padded with zero octets to full size, as
    spandsp does ("most receivers expect that"); zeros after RTC or EOFB are fill."""
    if frame_size not in (64, 256):
        raise ValueError(f"ECM frames are 64 or 256 octets, not {frame_size}")
    if len(data) % frame_size:
        data += bytes(frame_size - len(data) % frame_size)
    frames = [data[i:i + frame_size] for i in range(0, len(data), frame_size)] or [bytes(frame_size)]
    out = []
    for n, start in enumerate(range(0, len(frames), FRAMES_PER_BLOCK)):
        chunk = tuple(frames[start:start + FRAMES_PER_BLOCK])
        out.append(Block(page, n, chunk, last=start + FRAMES_PER_BLOCK >= len(frames)))
    return out


def fcd(number: int, data: bytes) -> bytes:
    return bytes((ADDRESS, CONTROL, FCF.FCD, number)) + data


RCP = bytes((ADDRESS, CONTROL, FCF.RCP))


def encode_block(block: Block, numbers: Iterable[int], bit_rate: int) -> bytes:
    """The image-carrier data for the frames ``numbers`` of ``block`` and three RCPs: flags,
    frames with FCS and zero-bit insertion, octets as ``+FTM`` takes them."""
    frames = [fcd(n, block.frames[n]) for n in sorted(numbers)] + [RCP] * RCP_FRAMES
    preamble = max(1, int(bit_rate * PREAMBLE_SECONDS / 8))
    return hdlc.encode_frames(frames, preamble_flags=preamble, closing_flags=2)


# ---------------------------------------------------------------- PPS and PPR


@dataclass(frozen=True)
class PartialPageSignal:
    """PPS's FIF (T.30 Annex A): the post-page command, page and block counters, frame count."""

    ppm: int  #: FCF of MPS/EOP/EOM (X bit included as sent), or NULL_PPM inside a page
    page: int
    block: int
    frames: int  #: frames in the block (1-256); on the line as frames - 1

    def encode(self) -> bytes:
        return bytes((self.ppm, self.page & 0xFF, self.block & 0xFF, self.frames - 1))

    @classmethod
    def decode(cls, fif: bytes) -> PartialPageSignal:
        if len(fif) < 4:
            raise EcmError(f"PPS too short: {fif.hex()}")
        return cls(fif[0], fif[1], fif[2], fif[3] + 1)

    @property
    def command(self) -> FCF | None:
        """The post-page command without the X bit, or None for PPS-NULL."""
        if self.ppm & 0xFE == NULL_PPM:
            return None
        try:
            return FCF(self.ppm & 0xFE)
        except ValueError as err:
            raise EcmError(f"PPS names no post-page command: 0x{self.ppm:02x}") from err


def ppr_map(missing: Iterable[int]) -> bytes:
    """PPR's FIF: 256 bits, bit ``j`` of octet ``i`` set when frame ``8i + j`` must be resent."""
    out = bytearray(32)
    for n in missing:
        out[n // 8] |= 1 << (n % 8)
    return bytes(out)


def ppr_frames(fif: bytes) -> frozenset[int]:
    if len(fif) < 32:
        raise EcmError(f"PPR map is {len(fif)} octets, not 32")
    return frozenset(8 * i + j for i in range(32) for j in range(8) if fif[i] & (1 << j))


# ---------------------------------------------------------------- the receiver's side


@dataclass
class BlockCollector:
    """Frames of the block being received, kept across retransmissions until PPS says done."""

    frames: dict[int, bytes] = field(default_factory=dict)
    count: int = 0  #: frames in the block, as far as PPS has told
    rcp_seen: bool = False
    bad_frames: int = 0  #: frames with a bad FCS in the last burst (for the log)

    def feed(self, image: bytes) -> None:
        """One ``+FRM`` burst: keep every FCD frame whose FCS is good."""
        self.bad_frames = 0
        for frame in hdlc.HdlcDecoder().feed(image):
            data = frame.data
            if not frame.fcs_ok:
                self.bad_frames += 1
                continue
            if len(data) >= 3 and data[:2] == bytes((ADDRESS, CONTROL)) and data[2] == FCF.RCP:
                self.rcp_seen = True
            elif len(data) >= 5 and data[:3] == bytes((ADDRESS, CONTROL, FCF.FCD)):
                self.frames[data[3]] = data[4:]

    def missing(self, count: int) -> list[int]:
        return [n for n in range(count) if n not in self.frames]

    def data(self, count: int) -> bytes:
        """The block's image data in frame order (a frame still missing counts as empty)."""
        return b"".join(self.frames.get(n, b"") for n in range(count))

