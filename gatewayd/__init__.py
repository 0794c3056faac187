"""gatewayd: the business-centre gateway daemon."""

__version__ = "0.1.0"
