"""Destination resolution: digits as staff type them -> E.164, calling code, region and class.

phonenumbers does not know the site's dial plan (measured with 9.0.43, region CN): it reads
``9 0085221234567`` as a wrong +86 number, ``0 01012345678`` as +1, raises on ``9,...``, calls a
local 8-digit number invalid, and counts CN carrier IP-dialling codes (17909, 12593...) as
international prefixes. So our own dial-plan step strips the outside line, splits off the
international or trunk prefix and adds the area code; phonenumbers then supplies what it is good
at: calling codes, possible lengths, number types (premium rate), regions of shared codes,
emergency numbers. Rating is by calling code, which holds even for numbers it calls invalid.

This runs for every quote and every call record, so the result is cached on the cleaned digits.
"""

from __future__ import annotations

import enum
import functools
import re
import unicodedata
from dataclasses import dataclass

import phonenumbers
from phonenumbers import (
    PhoneMetadata,
    PhoneNumber,
    PhoneNumberFormat,
    PhoneNumberType,
    shortnumberinfo,
)
from phonenumbers import ValidationResult as Length

from .errors import UndiallableNumber
from .site import DialPlan, Site


class CallClass(enum.Enum):
    LOCAL = "local"  #: a fixed line in the site's own area
    NATIONAL = "national"  #: the site's country outside its area, mobiles, 400/800 numbers
    INTERNATIONAL = "international"  #: another calling code, Hong Kong/Macau/Taiwan included


@dataclass(frozen=True, slots=True)
class Destination:
    e164: str  #: "+85221234567"
    calling_code: int  #: 852
    national_number: str  #: "21234567", leading zeros kept (Italy)
    region: str | None  #: ISO 3166 "HK"; None if a shared code's number fits no region
    call_class: CallClass

    def dial_string(self, site: Site) -> str:
        """What the modem dials (ATD): outside line and pause, then the digits the PSTN needs."""
        plan = site.dial_plan
        if self.call_class is CallClass.INTERNATIONAL:
            digits = f"{plan.international_prefix}{self.calling_code}{self.national_number}"
        elif self.call_class is CallClass.LOCAL:
            digits = self.national_number[len(plan.area_code) :]
        else:
            # phonenumbers knows which national numbers take the trunk prefix (not CN mobiles)
            national = phonenumbers.format_number(self.number(), PhoneNumberFormat.NATIONAL)
            digits = re.sub(r"\D", "", national)
        return f"{plan.outside_line},{digits}" if plan.outside_line else digits

    def number(self) -> PhoneNumber:
        return _phone_number(self.calling_code, self.national_number)


class _Refused(Exception):
    """Raised inside the cached core, turned into UndiallableNumber with the string as typed."""


def resolve(site: Site, dialed: str) -> Destination:
    """Resolve a dialed string through the site's dial plan; raises ``UndiallableNumber``."""
    try:
        return _resolve_typed(site, dialed)
    except _Refused as refusal:
        raise UndiallableNumber(dialed, str(refusal)) from None


# Two caches: the string exactly as typed (a redial is one lookup), then the cleaned digits
# (the same number typed "9,0085..." or "+852 ..." is resolved once).
@functools.lru_cache(maxsize=65536)
def _resolve_typed(site: Site, dialed: str) -> Destination:
    return _resolve_clean(site, _clean(site.dial_plan, dialed))


# Formatting staff type between digits; a full-width space comes from a Chinese input method.
_FORMATTING = str.maketrans("", "", " \t-.()/")
_ALLOWED = re.compile(r"[0-9+,\s\-.()/]*")


def _clean(plan: DialPlan, dialed: str) -> str:
    """Digits (with a leading '+' if typed) after the outside-line prefix, or ``_Refused``."""
    text = dialed.strip()
    if not text.isascii():  # full-width ０２１ and ＋ from a Chinese input method to ASCII
        text = unicodedata.normalize("NFKC", text).strip()
    if not text:
        raise _Refused("empty number")
    if not _ALLOWED.fullmatch(text):
        letters = "".join(ch for ch in text if ch.isalpha())
        if letters:
            raise _Refused(f"contains letters ({letters!r}); a fax line dials digits only")
        bad = next(ch for ch in text if not _ALLOWED.fullmatch(ch))
        raise _Refused(f"contains {bad!r}, which a fax number cannot have")
    outside = plan.outside_line
    if outside:
        # "9," and "9 " mean the outside line; "9" glued to digits is left as typed (it could
        # be a local number starting with 9), and a refusal will hint at the comma.
        match = re.match(rf"{re.escape(outside)}(\s*,[\s,]*|\s+)", text)
        if match:
            text = text[match.end() :]
            if not text:
                raise _Refused(f"nothing after the outside-line prefix {outside!r}")
    if "," in text:
        raise _Refused("',' (pause) is only allowed right after the outside-line prefix")
    digits = text.translate(_FORMATTING)
    if "+" in digits[1:]:
        raise _Refused("'+' may only start the number")
    if digits in ("", "+"):
        raise _Refused("no digits")
    return digits


@functools.lru_cache(maxsize=65536)
def _resolve_clean(site: Site, digits: str) -> Destination:
    plan = site.dial_plan
    home = site.calling_code
    if len(digits) <= 6 and shortnumberinfo.is_emergency_number(digits, site.country):
        raise _Refused(f"{digits} is an emergency number in {site.country}; never fax it")
    if digits.startswith("+"):
        return _international(site, digits[1:], home)
    if digits.startswith(plan.international_prefix):
        return _international(site, digits[len(plan.international_prefix) :], home)
    if plan.trunk_prefix and digits.startswith(plan.trunk_prefix):
        return _domestic(site, home, digits[len(plan.trunk_prefix) :], digits)
    # No prefix: mobiles, 400/800 and 168 numbers are dialled without an area code, so try the
    # digits as such a number first; otherwise they are a local one. A fixed-line number of
    # another area is never taken without its trunk prefix: 5551234 typed in Shanghai is a
    # local number a digit short, not Ma'anshan's 0555-1234 with a 0 nobody typed. (Where
    # local calls are dialled with the area code -- ten-digit NANP -- the digits are whole.)
    kind = phonenumbers.number_type(_phone_number(home, digits))
    own_area = kind is not PhoneNumberType.UNKNOWN and digits.startswith(plan.area_code)
    if kind not in _FIXED_OR_UNKNOWN or own_area:
        return _domestic(site, home, digits, digits)
    local = plan.area_code + digits
    try:
        return _domestic(site, home, local, digits)
    except _Refused:
        if not phonenumbers.is_valid_number(_phone_number(home, local + "0")):
            raise
    raise _Refused(f"too short for a local number in area {plan.trunk_prefix}{plan.area_code}: "
                   f"{digits}; a number in another city needs {plan.trunk_prefix} and its area code")


_FIXED_OR_UNKNOWN = (PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE, PhoneNumberType.UNKNOWN)


def _domestic(site: Site, home: int, nsn: str, typed: str) -> Destination:
    """A number in the site's own country: phonenumbers' metadata for it is complete enough to
    insist on a valid number, which catches a digit too few in a local number."""
    number = _phone_number(home, nsn)
    kind = phonenumbers.number_type(number)
    e164 = f"+{home}{nsn}"
    if kind is PhoneNumberType.UNKNOWN:
        reason = _length_reason(number, e164, site.country, typed, site.dial_plan)
        hint = _outside_hint(typed, site.dial_plan)
        raise _Refused(reason or f"{e164} is not a valid number in {site.country}; check the digits{hint}")
    if kind is PhoneNumberType.PREMIUM_RATE:
        raise _Refused(f"{e164} is a premium-rate number; those are never dialled for a fax")
    local = kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE) and (
        nsn.startswith(site.dial_plan.area_code)
    )
    call_class = CallClass.LOCAL if local else CallClass.NATIONAL
    return Destination(e164, home, nsn, site.country, call_class)


def _international(site: Site, rest: str, home: int) -> Destination:
    for size in (1, 2, 3):  # calling codes are prefix-free: the first that exists is the one
        code = int(rest[:size] or 0)
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE and not rest.startswith("0"):
            break
    else:
        raise _Refused(f"no country calling code starts {rest[:3]!r} after the international prefix")
    nsn = rest[size:]
    if code == home:  # 0086 21 ... typed from China is a domestic call
        return _domestic(site, home, nsn, rest)
    number = _phone_number(code, nsn)
    e164 = f"+{code}{nsn}"
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE[code]
    main_region = regions[0]
    trunk = _trunk_prefix(code)
    # Staff often copy "+44 (0)20 ..." with the 0 kept; the call would fail, so say why.
    if trunk and nsn.startswith(trunk) and not phonenumbers.is_valid_number(number):
        without = _phone_number(code, nsn[len(trunk) :])
        if phonenumbers.is_valid_number(without):
            raise _Refused(f"the {trunk} after +{code} is a trunk prefix used only inside "
                           f"{main_region}; dial +{code}{nsn[len(trunk):]}")
    reason = _length_reason(number, e164, main_region, rest, site.dial_plan)
    if reason:
        raise _Refused(reason)
    premium = _premium_pattern(code)
    if premium is not None and premium.fullmatch(nsn):
        raise _Refused(f"{e164} is a premium-rate number; those are never dialled for a fax")
    # Only shared codes (+1, +7, +44...) need the costly per-region validity test.
    region = phonenumbers.region_code_for_number(number) if len(regions) > 1 else main_region
    return Destination(e164, code, nsn, region, CallClass.INTERNATIONAL)


def _length_reason(number: PhoneNumber, e164: str, region: str, typed: str, plan: DialPlan) -> str:
    verdict = phonenumbers.is_possible_number_with_reason(number)
    hint = _outside_hint(typed, plan)
    if verdict in (Length.TOO_SHORT, Length.IS_POSSIBLE_LOCAL_ONLY):
        return f"too short for a number in {region}: {e164}"
    if verdict == Length.TOO_LONG:
        return f"too long for a number in {region}: {e164}{hint}"
    if verdict == Length.INVALID_LENGTH:
        return f"no number in {region} has as many digits as {e164}{hint}"
    return ""


def _outside_hint(typed: str, plan: DialPlan) -> str:
    if plan.outside_line and typed.startswith(plan.outside_line):
        return f" (if {plan.outside_line} is the outside line, type '{plan.outside_line},' first)"
    return ""


def _phone_number(code: int, nsn: str) -> PhoneNumber:
    """The PhoneNumber phonenumbers.parse would build for these digits, without re-parsing.

    Leading zeros are part of some national numbers (Italy); phonenumbers keeps them in two
    fields, set here by the same rule as its parser (all zeros but the last digit).
    """
    number = PhoneNumber(country_code=code, national_number=int(nsn or 0))
    if len(nsn) > 1 and nsn[0] == "0":
        number.italian_leading_zero = True
        zeros = 1
        while zeros < len(nsn) - 1 and nsn[zeros] == "0":
            zeros += 1
        if zeros != 1:
            number.number_of_leading_zeros = zeros
    return number


def _metadata(code: int) -> PhoneMetadata | None:
    region = phonenumbers.region_code_for_country_code(code)
    if region == "001":  # non-geographic entities: +800 freephone, +979 premium...
        return PhoneMetadata.metadata_for_nongeo_region(code)
    return PhoneMetadata.metadata_for_region(region)


@functools.cache
def _premium_pattern(code: int) -> re.Pattern[str] | None:
    """The main region's premium-rate pattern, compiled once per calling code."""
    metadata = _metadata(code)
    desc = metadata.premium_rate if metadata else None
    if desc is None or not desc.national_number_pattern:
        return None
    return re.compile(desc.national_number_pattern)


@functools.cache
def _trunk_prefix(code: int) -> str | None:
    metadata = _metadata(code)
    return metadata.national_prefix if metadata else None
