"""Billing: price lists, destinations, rating, charge lines and receipts. Pure: no I/O, no store.

The files tell the story in order:
  site.py          where the centre is and how its line dials out (``[site]``)
  money.py         Decimal amounts and the currency's rounding
  rates.py         the versioned price list (``RateBook`` / ``RateTable``) and its lookups
  rates_config.py  the ``rates`` config section, validated (``parse_rates``)
  timebands.py     night / weekend / holiday rates by local time
  destinations.py  dialed digits -> E.164, calling code, region, class (``resolve``)
  usage.py         what is rated: call records, pages, sides, errands, manual lines
  charges.py       ``Charge`` lines and the ``Rating`` that sums them
  fax_out.py       rating an outgoing fax call
  services.py      rating fax-in, print, copy, typing, errands, manual lines
  rating.py        ``rate`` any usage, ``quote_fax``
  table_text.py    ``format_table`` for ``gatewayd rates check`` / ``gatewayctl rates show``
  textwidth.py     CJK-aware column widths
  receipts.py      temporary and formal receipts as text and a one-page PDF
"""

from .charges import Charge, Rating
from .destinations import CallClass, Destination, resolve
from .errors import (
    BillingError,
    InvalidUsage,
    NoRateForDestination,
    NoRateTableInForce,
    NotPriced,
    UndiallableNumber,
)
from .money import MoneyRule, Rounding
from .rates import ErrorPagePolicy, FailedCallPolicy, RateBook, RateTable
from .rates_config import parse_rates
from .rating import Usage, quote_fax, rate
from .site import DialPlan, Site, parse_site
from .usage import (
    Colour,
    ErrandUsage,
    FaxCallUsage,
    FaxInUsage,
    ManualLine,
    PageOutcome,
    PageResult,
    PrintUsage,
    Service,
    TypingUsage,
)

__all__ = [
    "BillingError", "CallClass", "Charge", "Colour", "Destination", "DialPlan", "ErrandUsage",
    "ErrorPagePolicy", "FailedCallPolicy", "FaxCallUsage", "FaxInUsage", "InvalidUsage",
    "ManualLine", "MoneyRule", "NoRateForDestination", "NoRateTableInForce", "NotPriced",
    "PageOutcome", "PageResult", "PrintUsage", "RateBook", "RateTable", "Rating", "Rounding",
    "Service", "Site", "TypingUsage", "UndiallableNumber", "Usage", "parse_rates", "parse_site",
    "quote_fax", "rate", "resolve",
]
