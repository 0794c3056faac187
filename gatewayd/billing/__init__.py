"""Billing: price lists, destinations, rating, charge lines and receipts. Pure: no I/O, no store.

The files tell the story in order:
  site.py          where the centre is and how its line dials out (``[site]``)
  money.py         Decimal amounts and the currency's rounding
  rates.py         the versioned price list (``RateBook`` / ``RateTable``) and its lookups
  rates_config.py  the ``rates`` config section, validated (``parse_rates``);
                   config.py is the hook gatewayd's config loader calls
  timebands.py     night / weekend / holiday rates by local time
  destinations.py  dialed digits -> E.164, calling code, region, class (``resolve``)
  usage.py         what is rated: call records, pages, sides, errands, manual lines
  charges.py       ``Charge`` lines and the ``Rating`` that sums them
  fax_out.py       rating an outgoing fax call
  pages.py         rating by the page and side: fax-in, typing, print jobs (the typing/proof/
                   sets policy), copies (splitting a copier's sides by colour and size)
  errands.py       rating errands, meeting rooms and manual lines
  rating.py        ``rate`` any usage, ``quote_fax``
  table_text.py    ``format_table`` for ``gatewayd rates check`` / ``gatewayctl rates show``
  receipts.py      temporary and formal receipts, as text
  receipt_pdf.py   ... and as a one-page PDF (imported on its own: fpdf2 is slow to import)
"""

from .charges import Charge, Rating
from .destinations import CallClass, Destination, resolve
from .errands import rate_manual
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
from .receipts import Payment, Receipt, ReceiptKind, render_text
from .site import DialPlan, Site, parse_site
from .table_text import format_table
from .usage import (
    Colour,
    ErrandUsage,
    FaxCallUsage,
    FaxInUsage,
    ManualLine,
    MeetingRoomUsage,
    PageOutcome,
    PageResult,
    PrintJobUsage,
    PrintUsage,
    Service,
    TypingUsage,
)

__all__ = [
    "BillingError", "CallClass", "Charge", "Colour", "Destination", "DialPlan", "ErrandUsage",
    "ErrorPagePolicy", "FailedCallPolicy", "FaxCallUsage", "FaxInUsage", "InvalidUsage",
    "ManualLine", "MeetingRoomUsage", "MoneyRule", "NoRateForDestination", "NoRateTableInForce", "NotPriced",
    "PageOutcome", "PageResult", "Payment", "PrintJobUsage", "PrintUsage", "RateBook", "RateTable", "Rating",
    "Receipt", "ReceiptKind", "Rounding", "Service",
    "Site", "TypingUsage", "UndiallableNumber", "Usage", "format_table", "parse_rates",
    "parse_site", "quote_fax", "rate", "rate_manual", "render_text", "resolve",
]
