"""Copy tickets billed by the copier's meter, and the copiers as the front desk sees them.

Read in this order:

* ``readings.py`` -- meter readings in the ledger: each stored once, with the anomalies it
  reveals against the device's previous reading (``device_anomalies``), and read back;
* ``metering.py`` -- a copy ticket's meter: the opening and closing readings, the delta of the
  copy counters (less the CUPS pages printed on a total-only device) rated into charge lines,
  ``awaiting_meter`` when the copier does not answer, manual and customer counts;
* ``copiers.py`` -- the SNMP driver as the daemon runs it: polled readings stored as above, and
  the retry of readings that copy tickets in ``awaiting_meter`` still miss.

The routes are in ``gatewayd/api/copying.py``: ``POST /tickets`` and ``POST /tickets/{id}/finish``
take the meter readings for copy tickets on a copier; ``/tickets/{id}/meter``, ``/customer-count``.
"""
