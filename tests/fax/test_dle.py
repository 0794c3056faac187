from hypothesis import given
from hypothesis import strategies as st

from drivers.fax import dle


def test_stuff_doubles_dle():
    assert dle.stuff(b"\x01\x10\x02") == b"\x01\x10\x10\x02"


def test_unstuff_stops_at_dle_etx_and_leaves_the_rest():
    r = dle.unstuff(b"ab\x10\x10c\x10\x03\r\nOK\r\n")
    assert r == dle.Unstuffed(used=7, data=b"ab\x10c", ended=True)


def test_lone_trailing_dle_is_left_for_later():
    r = dle.unstuff(b"ab\x10")
    assert r == dle.Unstuffed(used=2, data=b"ab", ended=False)


def test_dle_sub_is_two_dles_and_other_pairs_carry_nothing():
    assert dle.unstuff(b"\x10\x1a\x10.x").data == b"\x10\x10x"


@given(st.binary(max_size=300), st.lists(st.integers(min_value=1, max_value=40), max_size=40),
       st.binary(max_size=20))
def test_any_chunking_gives_the_same_data(payload, cuts, trailer):
    wire = dle.stuff(payload) + dle.END_OF_DATA + trailer
    unstuffer = dle.Unstuffer()
    rest = b""
    pos = 0
    for size in cuts + [len(wire)]:
        rest += unstuffer.feed(wire[pos : pos + size])
        pos += size
    assert unstuffer.ended
    assert bytes(unstuffer.data) == payload
    assert rest == trailer
