import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.fax import frames, hdlc
from drivers.fax.frames import (
    FCF,
    Capabilities,
    Coding,
    Frame,
    FrameError,
    Length,
    Resolution,
    Session,
    Speed,
    Width,
)


def with_fcs(raw: bytes) -> bytes:
    return raw + frames.fcs(raw)


def test_fcs_is_crc16_x25():
    # CRC-16/X-25 check value for "123456789" is 0x906E, sent low octet first.
    assert frames.fcs(b"123456789") == bytes((0x6E, 0x90))


def test_encode_sets_x_bit_and_final_bit():
    assert frames.encode(Frame(FCF.DCS, b"\x00", final=False), x_bit=True) == b"\xff\x03\x83\x00"
    assert frames.encode(Frame(FCF.MCF), x_bit=False) == b"\xff\x13\x8c"
    # DIS/DTC and CSI/CIG are told apart by that bit, so it is never touched for them.
    assert frames.encode(Frame(FCF.DIS, b"\x00\x00\x00"), x_bit=True)[2] == 0x80


def test_decode_ignores_x_bit_but_keeps_dis_dtc_apart():
    assert frames.decode(with_fcs(b"\xff\x13\x83\x00\x00\x00")).fcf is FCF.DCS
    assert frames.decode(with_fcs(b"\xff\x13\x81\x00\x00\x00")).fcf is FCF.DTC
    assert frames.decode(with_fcs(b"\xff\x13\x80\x00\x00\x00")).fcf is FCF.DIS
    assert frames.decode(with_fcs(b"\xff\x03\x40abc")).final is False


@pytest.mark.parametrize("data", [b"", b"\xff\x13", b"\x00\x13\x80\x00\x00", b"\xff\x13\x02\x00\x00"])
def test_garbage_is_a_frame_error(data):
    with pytest.raises(FrameError):
        frames.decode(with_fcs(data) if data else data)


def test_bad_fcs_is_a_frame_error():
    data = bytearray(with_fcs(b"\xff\x13\x8c"))
    data[-1] ^= 1
    with pytest.raises(FrameError, match="FCS"):
        frames.decode(bytes(data))


def test_station_id_is_sent_backwards_padded_to_20():
    fif = frames.encode_station_id("+86 10 1234")
    assert len(fif) == 20 and fif.endswith(b"+86 10 1234"[::-1])
    assert frames.decode_station_id(fif) == "+86 10 1234"


def test_dis_bits_match_t30_table_2():
    fif = Capabilities(families=frozenset({"V.27ter", "V.29", "V.17"}), fine=True, mr=False,
                       width=Width.A4, length=Length.UNLIMITED, min_scan_ms=0, ecm=True).encode()
    # octet 1: bit 10 receive, bits 11,12,14 = V.17+V.29+V.27ter, bit 15 fine
    assert fif[1] == 0x02 | 0x04 | 0x08 | 0x20 | 0x40
    # octet 2: bit 20 unlimited, bits 21-23 = 111 (0 ms), bit 24 extend
    assert fif[2] == 0x08 | 0x70 | 0x80
    assert fif[3] & 0x04  # bit 27 ECM
    assert Capabilities.decode(fif).ecm


def test_spandsp_like_dis_decodes():
    # FIF of a DIS as spandsp sends it (V.17, fine, A4, unlimited, 0 ms? No: 20 ms default).
    caps = Capabilities.decode(bytes((0x00, 0xEE, 0x80 | 0x08)))
    assert caps.families == {"V.27ter", "V.29", "V.17"} and caps.fine and caps.mr
    assert caps.min_scan_ms == 20 and caps.length is Length.UNLIMITED


@pytest.mark.parametrize("speed,bits", [(Speed.V17_14400, 0x20), (Speed.V17_12000, 0x28),
                                        (Speed.V29_9600, 0x04), (Speed.V29_7200, 0x0C),
                                        (Speed.V27_4800, 0x08), (Speed.V27_2400, 0x00)])
def test_dcs_rate_bits(speed, bits):
    fif = Session(speed=speed).encode()
    assert fif[1] & 0x3C == bits
    assert Session.decode(fif).speed is speed


def test_fallback_order_and_families():
    everything = frozenset({"V.17", "V.29", "V.27ter"})
    chain = [Speed.V17_14400]
    while (nxt := chain[-1].fallback(everything)) is not None:
        chain.append(nxt)
    assert [s.bit_rate for s in chain] == [14400, 12000, 9600, 7200, 9600, 7200, 4800, 2400]
    assert Speed.V17_14400.fallback(frozenset({"V.29", "V.27ter"})) is Speed.V29_9600


@given(st.sampled_from(list(Speed)), st.sampled_from(list(Resolution)),
       st.sampled_from([Coding.MH, Coding.MR]), st.sampled_from(list(Width)),
       st.sampled_from(list(Length)), st.sampled_from([0, 5, 10, 20, 40]), st.booleans())
def test_dcs_round_trip(speed, res, coding, width, length, scan, ecm):
    s = Session(speed, res, coding, width, length, scan, ecm)
    assert Session.decode(s.encode()) == s


@given(st.lists(st.binary(min_size=3, max_size=260), min_size=1, max_size=5))
def test_hdlc_bit_framing_round_trip(payloads):
    wire = hdlc.encode_frames(payloads, preamble_flags=2)
    decoded = hdlc.HdlcDecoder().feed(wire)
    assert [f.data for f in decoded] == payloads
    assert all(f.fcs_ok for f in decoded)


def test_hdlc_corrupted_bit_fails_fcs():
    wire = bytearray(hdlc.encode_frames([b"\xff\x03\x06" + bytes(64)]))
    wire[20] ^= 0x01
    decoded = hdlc.HdlcDecoder().feed(bytes(wire))
    assert decoded and not decoded[0].fcs_ok
