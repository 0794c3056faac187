"""Destination resolution, table-driven, with numbers as staff type them at a Shanghai desk."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gatewayd.billing import CallClass, DialPlan, Site, UndiallableNumber, resolve
from gatewayd.billing.destinations import _phone_number

from .conftest import SITE

L, N, I = CallClass.LOCAL, CallClass.NATIONAL, CallClass.INTERNATIONAL

RESOLVED = [
    # typed                      e164              region class  what it is
    ("0085221234567",            "+85221234567",   "HK", I),   # Hong Kong fixed line
    ("9,0085221234567",          "+85221234567",   "HK", I),   # outside line and pause
    ("9 00852 2123 4567",        "+85221234567",   "HK", I),   # outside line and a space
    ("9,,00852-2123-4567",       "+85221234567",   "HK", I),   # two pauses, dashes
    ("+852 9123 4567",           "+85291234567",   "HK", I),   # HK mobile, '+' form
    ("00853 2821 2345",          "+85328212345",   "MO", I),   # Macau
    ("00886 2 2345 6789",        "+886223456789",  "TW", I),   # Taipei
    ("001 212 555 1234",         "+12125551234",   "US", I),   # New York
    ("001-416-555-0123",         "+14165550123",   "CA", I),   # Toronto: same +1, region CA
    ("001 613 555 0123",         "+16135550123",   "CA", I),   # Ottawa
    ("001 264 235 1234",         "+12642351234",   "AI", I),   # Anguilla, inside +1
    ("0044 20 7946 0000",        "+442079460000",  "GB", I),   # London
    ("0081 3 1234 5678",         "+81312345678",   "JP", I),   # Tokyo
    ("0049 30 12345678",         "+493012345678",  "DE", I),   # Berlin
    ("0065 6123 4567",           "+6561234567",    "SG", I),   # Singapore
    ("0039 06 1234 5678",        "+390612345678",  "IT", I),   # Rome: the 0 is part of it
    ("010 1234 5678",            "+861012345678",  "CN", N),   # Beijing from Shanghai
    ("020-8765-4321",            "+862087654321",  "CN", N),   # Guangzhou
    ("9,010-12345678",           "+861012345678",  "CN", N),
    ("6123 4567",                "+862161234567",  "CN", L),   # local 8 digits
    ("9,61234567",               "+862161234567",  "CN", L),
    ("021 6123 4567",            "+862161234567",  "CN", L),   # own area code with trunk
    ("0086 21 6123 4567",        "+862161234567",  "CN", L),   # own country, abroad style
    ("+86 21 6123 4567",         "+862161234567",  "CN", L),
    ("138 1234 5678",            "+8613812345678", "CN", N),   # mobile: no area code
    ("9,13812345678",            "+8613812345678", "CN", N),
    ("013812345678",             "+8613812345678", "CN", N),   # mobile with trunk prefix
    ("400 812 3456",             "+864008123456",  "CN", N),   # 400 service number
    ("００８５２ ２１２３ ４５６７", "+85221234567",   "HK", I),   # full-width, from an IME
]


@pytest.mark.parametrize("typed, e164, region, call_class", RESOLVED)
def test_resolves(typed: str, e164: str, region: str, call_class: CallClass) -> None:
    destination = resolve(SITE, typed)
    assert (destination.e164, destination.region, destination.call_class) == (e164, region, call_class)
    assert destination.calling_code == phonenumbers.parse(e164).country_code


REFUSED = [
    ("",                     "empty number"),
    ("   ",                  "empty number"),
    ("9,",                   "nothing after the outside-line prefix '9'"),
    ("1234",                 "too short for a local number in area 021: 1234; a number in another city needs 0 "
                             "and its area code"),
    ("9,1234",               "too short for a local number in area 021: 1234; a number in another city needs 0 "
                             "and its area code"),
    # Seven digits typed in Shanghai (eight-digit numbers) are a local number a digit short, not
    # 0555-1234 in Ma'anshan with a trunk 0 nobody typed.
    ("9,5551234",            "too short for a local number in area 021: 5551234; a number in another city "
                             "needs 0 and its area code"),
    ("123456",               "+8621123456 is not a valid number in CN; check the digits"),
    ("00852 123",            "too short for a number in HK: +852123"),
    ("0085221234567890123",  "too long for a number in HK: +85221234567890123"),
    ("90085221234567",       ("too long for a number in CN: +862190085221234567 "
                             "(if 9 is the outside line, type '9,' first)")),
    ("FAX-HOTEL",            "contains letters ('FAXHOTEL'); a fax line dials digits only"),
    ("0085221234abc",        "contains letters ('abc'); a fax line dials digits only"),
    ("*21#",                 "contains '*', which a fax number cannot have"),
    ("00852,21234567",       "',' (pause) is only allowed right after the outside-line prefix"),
    ("00+85221234567",       "'+' may only start the number"),
    ("110",                  "110 is an emergency number in CN; never fax it"),
    ("9,119",                "119 is an emergency number in CN; never fax it"),
    ("120",                  "120 is an emergency number in CN; never fax it"),
    # 112 is no emergency number on a CN fixed line (phonenumbers' CN metadata): just too short
    ("112",                  "too short for a number in CN: +8621112"),
    ("16812345",             "+8616812345 is a premium-rate number; those are never dialled for a fax"),
    ("001 900 234 5678",     "+19002345678 is a premium-rate number; those are never dialled for a fax"),
    ("0044 909 879 0000",    "+449098790000 is a premium-rate number; those are never dialled for a fax"),
    ("0044 020 7946 0000",   "the 0 after +44 is a trunk prefix used only inside GB; dial +442079460000"),
    ("00999 1234 5678",      "no country calling code starts '999' after the international prefix"),
]


@pytest.mark.parametrize("typed, reason", REFUSED)
def test_refused_with_reason(typed: str, reason: str) -> None:
    with pytest.raises(UndiallableNumber) as refused:
        resolve(SITE, typed)
    assert refused.value.reason == reason
    assert refused.value.dialed == typed


def test_112_is_an_emergency_number_on_a_german_line() -> None:
    berlin = Site(country="DE", timezone="Europe/Berlin", currency="EUR",
                  dial_plan=DialPlan(area_code="30", outside_line="0"))
    with pytest.raises(UndiallableNumber, match="112 is an emergency number in DE"):
        resolve(berlin, "0,112")


def test_outside_line_zero_and_nanp_dial_plan() -> None:
    """The pitfall phonenumbers has with '0 01012345678' (it reads +1): our dial plan does not."""
    zero = Site(dial_plan=DialPlan(area_code="21", outside_line="0"))
    assert resolve(zero, "0 01012345678").e164 == "+861012345678"
    assert resolve(zero, "0,0085221234567").e164 == "+85221234567"
    toronto = Site(country="CA", timezone="America/Toronto", currency="CAD",
                   dial_plan=DialPlan(area_code="416", international_prefix="011", trunk_prefix="1"))
    assert resolve(toronto, "011 852 2123 4567").e164 == "+85221234567"
    assert resolve(toronto, "1 613 555 0123").call_class is N
    assert resolve(toronto, "416 555 0123").call_class is L


def test_dial_string_is_what_the_modem_dials() -> None:
    assert resolve(SITE, "+852 2123 4567").dial_string(SITE) == "9,0085221234567"
    assert resolve(SITE, "021 6123 4567").dial_string(SITE) == "9,61234567"
    assert resolve(SITE, "0086 10 1234 5678").dial_string(SITE) == "9,01012345678"
    # a CN mobile is dialled without the trunk prefix, whatever staff typed
    assert resolve(SITE, "013812345678").dial_string(SITE) == "9,13812345678"
    direct = Site(dial_plan=DialPlan(area_code="21"))
    assert resolve(direct, "+852 2123 4567").dial_string(direct) == "0085221234567"


@given(code=st.sampled_from(sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)),
       nsn=st.from_regex(r"[0-9]{2,14}", fullmatch=True))
def test_phone_number_built_as_phonenumbers_parses_it(code: int, nsn: str) -> None:
    """We skip phonenumbers.parse for speed; the number we build must be the one it builds."""
    try:
        parsed = phonenumbers.parse(f"+{code}{nsn}")
    except phonenumbers.NumberParseException:
        return
    if parsed.country_code != code or phonenumbers.national_significant_number(parsed) != nsn:
        return  # parse strips a national prefix after +cc; we refuse those instead
    assert _phone_number(code, nsn) == parsed
