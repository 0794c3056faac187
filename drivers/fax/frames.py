"""T.30 control frames: facsimile control field codes, DIS/DTC/DCS bit fields, station ids, FCS.

Data, not code, comes from elsewhere, noted where it is used:
  * FCF values: ITU-T T.30 clause 5.3.6.1, in the bit-reversed byte form spandsp's
    ``t30_fcf.h`` also uses (the first transmitted bit is the byte's LSB).
  * DIS/DTC/DCS bits: T.30 Table 2; bit *n* is ``1 << ((n-1) % 8)`` of FIF octet ``(n-1)//8``.
  * Modulation codes for ``AT+FTM/+FRM``: T.31 Table 3.

A Class 1 modem adds and checks the FCS of frames it sends with ``+FTH``; it hands received
frames to the DTE with the two FCS octets still on. :func:`fcs` is also what the DTE needs for
the ECM image frames it frames itself (see ``hdlc.py``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .errors import FaxError

ADDRESS = 0xFF
CONTROL = 0x03  #: not the last frame of a burst
CONTROL_FINAL = 0x13  #: P/F bit set: last frame before the line turns around
X_BIT = 0x01  #: T.30 5.3.6.1: set in frames of the station that received a valid DIS


class FrameError(FaxError, ValueError):
    """Bytes that are not a T.30 frame we understand (the engine turns this into an event)."""


class FCF(enum.IntEnum):
    """Facsimile control field, X bit cleared."""

    DIS = 0x80  #: digital identification signal (called -> calling)
    CSI = 0x40  #: called subscriber identification
    NSF = 0x20  #: non-standard facilities
    DTC = 0x81  #: digital transmit command (polling)
    CIG = 0x41  #: calling subscriber identification
    NSC = 0x21  #: non-standard facilities command
    DCS = 0x82  #: digital command signal
    TSI = 0x42  #: transmitting subscriber identification
    NSS = 0x22  #: non-standard facilities set-up
    SUB = 0xC2  #: sub-address
    CTC = 0x12  #: continue to correct (ECM)
    CFR = 0x84  #: confirmation to receive
    FTT = 0x44  #: failure to train
    CTR = 0xC4  #: response to CTC
    EOM = 0x8E  #: end of message (back to phase B)
    MPS = 0x4E  #: multipage signal
    EOP = 0x2E  #: end of procedure
    PRI_EOM = 0x9E
    PRI_MPS = 0x5E
    PRI_EOP = 0x3E
    PPS = 0xBE  #: partial page signal (ECM)
    EOR = 0xCE  #: end of retransmission (ECM)
    RR = 0x6E  #: receive ready? -- asks the receiver for its status after RNR (ECM)
    MCF = 0x8C  #: message confirmation
    RTP = 0xCC  #: retrain positive
    RTN = 0x4C  #: retrain negative
    PIP = 0xAC  #: procedure interrupt positive
    PIN = 0x2C  #: procedure interrupt negative
    PPR = 0xBC  #: partial page request (ECM)
    RNR = 0xEC  #: receive not ready (ECM)
    ERR = 0x1C  #: response to EOR
    DCN = 0xFA  #: disconnect
    CRP = 0x1A  #: command repeat
    FCD = 0x06  #: T.4 Annex A facsimile coded data (ECM image frame)
    RCP = 0x86  #: T.4 Annex A return to control for partial page


# The initial identification signals differ from their command twins only in the bit that is
# the X bit everywhere else (T.30 5.3.6.1.1/.2), so they are matched exactly.
_EXACT = {FCF.DIS, FCF.DTC, FCF.CSI, FCF.CIG, FCF.NSF, FCF.NSC}
_BY_VALUE = {int(f): f for f in FCF}

#: Post-page commands (PPM) carrying their ECM "PPS-" twin's meaning in the FIF (T.30 A.4).
PPM = frozenset({FCF.MPS, FCF.EOP, FCF.EOM, FCF.PRI_MPS, FCF.PRI_EOP, FCF.PRI_EOM})


@dataclass(frozen=True)
class Frame:
    fcf: FCF
    fif: bytes = b""
    #: Set by the engine for what it sends; ignored by the modem framing of the address octet.
    final: bool = True


def encode(frame: Frame, x_bit: bool) -> bytes:
    """Address, control, FCF and FIF -- what the DTE writes after ``AT+FTH=3`` (no FCS)."""
    code = int(frame.fcf)
    if frame.fcf not in _EXACT and frame.fcf not in (FCF.FCD, FCF.RCP):
        code |= X_BIT if x_bit else 0
    control = CONTROL_FINAL if frame.final else CONTROL
    return bytes((ADDRESS, control, code)) + frame.fif


def decode(data: bytes, with_fcs: bool = True) -> Frame:
    """Parse one frame as a Class 1 modem delivers it (with FCS unless ``with_fcs`` is False)."""
    if with_fcs:
        if len(data) < 5:
            raise FrameError(f"frame too short: {data.hex()}")
        if fcs(data[:-2]) != data[-2:]:
            raise FrameError(f"bad FCS: {data.hex()}")
        data = data[:-2]
    if len(data) < 3 or data[0] != ADDRESS or data[1] & 0xEF != CONTROL:
        raise FrameError(f"not a T.30 HDLC frame: {data.hex()}")
    raw = data[2]
    fcf = _BY_VALUE.get(raw) if raw in _BY_VALUE and _BY_VALUE[raw] in _EXACT else None
    if fcf is None:
        fcf = _BY_VALUE.get(raw & ~X_BIT & 0xFF)
    if fcf is None or (fcf in _EXACT and raw != fcf):
        raise FrameError(f"unknown FCF 0x{raw:02x}")
    return Frame(fcf, bytes(data[3:]), final=bool(data[1] & 0x10))


# ---------------------------------------------------------------- FCS (CRC-16/CCITT, ITU-T V.42)


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC_TABLE = _crc_table()


def crc16(data: bytes | bytearray, crc: int = 0xFFFF) -> int:
    """The reflected CRC-16/CCITT of HDLC (poly x^16+x^12+x^5+1, init 0xFFFF), before inversion."""
    for byte in data:
        crc = (crc >> 8) ^ _CRC_TABLE[(crc ^ byte) & 0xFF]
    return crc


def fcs(data: bytes | bytearray) -> bytes:
    """The two FCS octets as sent on the line (ones' complement, low octet first)."""
    value = crc16(data) ^ 0xFFFF
    return bytes((value & 0xFF, value >> 8))


# ---------------------------------------------------------------- station identification


def encode_station_id(station_id: str) -> bytes:
    """CSI/TSI/CIG FIF: 20 characters, last character sent first (T.30 5.3.6.2.4)."""
    text = station_id[:20].ljust(20)
    return text[::-1].encode("ascii", errors="replace")


def decode_station_id(fif: bytes) -> str:
    return fif[::-1].decode("ascii", errors="replace").strip()


# ---------------------------------------------------------------- modulations and bit rates


class Speed(enum.Enum):
    """Image data rates in fall-back order; value = (bit/s, DCS bits 11-14 as FIF octet 1 mask,
    +FTM/+FRM code (T.31 Table 3), family)."""

    V17_14400 = (14400, 0x20, 145, "V.17")
    V17_12000 = (12000, 0x28, 121, "V.17")
    V17_9600 = (9600, 0x24, 97, "V.17")
    V17_7200 = (7200, 0x2C, 73, "V.17")
    V29_9600 = (9600, 0x04, 96, "V.29")
    V29_7200 = (7200, 0x0C, 72, "V.29")
    V27_4800 = (4800, 0x08, 48, "V.27ter")
    V27_2400 = (2400, 0x00, 24, "V.27ter")

    @property
    def bit_rate(self) -> int:
        return self.value[0]

    @property
    def dcs_bits(self) -> int:
        return self.value[1]

    @property
    def class1_code(self) -> int:
        return self.value[2]

    @property
    def family(self) -> str:
        return self.value[3]

    @property
    def short_train_code(self) -> int:
        """V.17 allows short training after a first long one (T.31 Table 3: code + 1)."""
        return self.class1_code + 1 if self.family == "V.17" else self.class1_code

    def fallback(self, allowed: frozenset[str]) -> Speed | None:
        """The next lower speed in the agreed order whose family both ends support."""
        order = list(Speed)
        for speed in order[order.index(self) + 1 :]:
            if speed.family in allowed:
                return speed
        return None


_RATE_MASK = 0x3C  # bits 11-14
_BY_DCS_BITS = {s.dcs_bits: s for s in Speed}


class Width(enum.Enum):
    """Scan line width in pels at 8 pels/mm (T.4 2.2): value = (pels, DCS bits 17-18)."""

    A4 = (1728, 0x00)
    B4 = (2048, 0x01)
    A3 = (2432, 0x02)


class Length(enum.Enum):
    A4 = 0x00
    B4 = 0x04
    UNLIMITED = 0x08


class Resolution(enum.Enum):
    """Vertical resolution (T.30 Table 2 bits 15 and 41)."""

    STANDARD = "3.85 l/mm"
    FINE = "7.7 l/mm"
    SUPERFINE = "15.4 l/mm"


class Coding(enum.Enum):
    MH = "MH"
    MR = "MR"
    MMR = "MMR"


# DIS minimum scan line time code (bits 21-23 as a 3-bit value, bit 21 lowest) ->
# (ms at 3.85 l/mm, fine resolution may use half of it). T.30 Table 2, note as in spandsp's
# build_dcs translation table.
_DIS_SCAN = {0: (20, False), 1: (5, False), 2: (10, False), 3: (20, True),
             4: (40, False), 5: (40, True), 6: (10, True), 7: (0, False)}
_DCS_SCAN = {20: 0, 5: 1, 10: 2, 40: 4, 0: 7}
_DCS_SCAN_MS = {v: k for k, v in _DCS_SCAN.items()}


def _bit(fif: bytes, n: int) -> bool:
    i = (n - 1) // 8
    return i < len(fif) and bool(fif[i] & (1 << ((n - 1) % 8)))


def _pack(bits: set[int], octets_min: int = 3) -> bytes:
    """Set FIF bits and the extension bits (24, 32, 40...) needed to reach the highest one."""
    top = max(bits | {octets_min * 8}) if bits else octets_min * 8
    octets = max(octets_min, (top + 7) // 8)
    out = bytearray(octets)
    for n in bits:
        out[(n - 1) // 8] |= 1 << ((n - 1) % 8)
    for i in range(2, octets - 1):  # octet 3 onwards carries an extend bit when more follow
        out[i] |= 0x80
    return bytes(out)


@dataclass(frozen=True)
class Capabilities:
    """What a DIS (or DTC) says its sender can do."""

    families: frozenset[str] = frozenset({"V.27ter", "V.29", "V.17"})
    can_receive: bool = True
    can_transmit: bool = False
    fine: bool = True
    superfine: bool = False
    mr: bool = False
    mmr: bool = False
    ecm: bool = False
    width: Width = Width.A4  #: widest page accepted
    length: Length = Length.UNLIMITED
    min_scan_ms: int = 0
    fine_half_scan: bool = False

    def encode(self) -> bytes:
        bits: set[int] = set()
        if self.can_transmit:
            bits.add(9)
        if self.can_receive:
            bits.add(10)
        rate = 0
        if "V.17" in self.families:
            rate = 0x2C  # T.30 Table 2: "V.27 ter, V.29 and V.17"
        else:
            rate |= 0x04 if "V.29" in self.families else 0
            rate |= 0x08 if "V.27ter" in self.families else 0
        bits |= {n for n in range(11, 15) if rate & (1 << (n - 9))}
        if self.fine:
            bits.add(15)
        if self.mr:
            bits.add(16)
        if self.width is Width.A3:
            bits.add(18)
        elif self.width is Width.B4:
            bits.add(17)
        if self.length is Length.UNLIMITED:
            bits.add(20)
        elif self.length is Length.B4:
            bits.add(19)
        code = next(k for k, v in _DIS_SCAN.items() if v == (self.min_scan_ms, self.fine_half_scan))
        bits |= {21 + i for i in range(3) if code & (1 << i)}
        if self.ecm:
            bits.add(27)
            if self.mmr:
                bits.add(31)
        if self.superfine:
            bits.add(41)
        return _pack(bits)

    @classmethod
    def decode(cls, fif: bytes) -> Capabilities:
        if len(fif) < 3:
            raise FrameError(f"DIS too short: {fif.hex()}")
        rate = fif[1] & _RATE_MASK
        families = set()
        if rate & 0x08 or rate == 0:
            families.add("V.27ter")
        if rate & 0x04:
            families.add("V.29")
        if rate & 0x20 and rate & 0x0C == 0x0C:
            families.add("V.17")
        wide = fif[2] & 0x03
        width = Width.A3 if wide & 0x02 else Width.B4 if wide & 0x01 else Width.A4
        long_ = fif[2] & 0x0C
        length = Length.UNLIMITED if long_ & 0x08 else Length.B4 if long_ & 0x04 else Length.A4
        scan_ms, half = _DIS_SCAN[(fif[2] >> 4) & 0x07]
        ecm = _bit(fif, 27)
        return cls(
            families=frozenset(families), can_receive=_bit(fif, 10), can_transmit=_bit(fif, 9),
            fine=_bit(fif, 15), superfine=_bit(fif, 41), mr=_bit(fif, 16),
            mmr=ecm and _bit(fif, 31), ecm=ecm, width=width, length=length,
            min_scan_ms=scan_ms, fine_half_scan=half,
        )

    def scan_ms_for(self, resolution: Resolution) -> int:
        """The minimum scan line time the sender must honour at ``resolution``."""
        if resolution is not Resolution.STANDARD and self.fine_half_scan:
            return self.min_scan_ms // 2
        return self.min_scan_ms


@dataclass(frozen=True)
class Session:
    """What a DCS commands: the parameters of the pages that follow."""

    speed: Speed = Speed.V27_2400
    resolution: Resolution = Resolution.STANDARD
    coding: Coding = Coding.MH
    width: Width = Width.A4
    length: Length = Length.UNLIMITED
    min_scan_ms: int = 0
    ecm: bool = False
    ecm_frame_size: int = 256

    def encode(self) -> bytes:
        bits: set[int] = {10}
        bits |= {n for n in range(11, 15) if self.speed.dcs_bits & (1 << (n - 9))}
        if self.resolution is Resolution.FINE:
            bits.add(15)
        if self.coding is Coding.MR:
            bits.add(16)
        bits |= {17} if self.width is Width.B4 else {18} if self.width is Width.A3 else set()
        bits |= {20} if self.length is Length.UNLIMITED else {19} if self.length is Length.B4 else set()
        code = _DCS_SCAN[self.min_scan_ms]
        bits |= {21 + i for i in range(3) if code & (1 << i)}
        if self.ecm:
            bits.add(27)
            if self.ecm_frame_size == 64:
                bits.add(28)
            if self.coding is Coding.MMR:
                bits.add(31)
        if self.resolution is Resolution.SUPERFINE:
            bits.add(41)
        return _pack(bits)

    @classmethod
    def decode(cls, fif: bytes) -> Session:
        if len(fif) < 3:
            raise FrameError(f"DCS too short: {fif.hex()}")
        speed = _BY_DCS_BITS.get(fif[1] & _RATE_MASK)
        if speed is None:
            raise FrameError(f"DCS names no data rate we know: {fif.hex()}")
        wide = fif[2] & 0x03
        long_ = fif[2] & 0x0C
        scan = _DCS_SCAN_MS.get((fif[2] >> 4) & 0x07)
        if scan is None:
            raise FrameError(f"DCS minimum scan time code invalid: {fif.hex()}")
        ecm = _bit(fif, 27)
        resolution = (Resolution.SUPERFINE if _bit(fif, 41) else
                      Resolution.FINE if _bit(fif, 15) else Resolution.STANDARD)
        coding = Coding.MMR if ecm and _bit(fif, 31) else Coding.MR if _bit(fif, 16) else Coding.MH
        return cls(
            speed=speed, resolution=resolution, coding=coding,
            width=Width.A3 if wide & 0x02 else Width.B4 if wide & 0x01 else Width.A4,
            length=Length.UNLIMITED if long_ & 0x08 else Length.B4 if long_ & 0x04 else Length.A4,
            min_scan_ms=scan, ecm=ecm, ecm_frame_size=64 if _bit(fif, 28) else 256,
        )
