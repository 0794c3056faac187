"""The fax lab: ``faxmodem`` (C, spandsp) and its Python controller ``peer``."""
