"""SNMP copier driver: meter readings from page counters, for copy tickets and reconciliation.

Read in this order:

* ``reading.py`` -- the ``MeterReading`` event and its value types;
* ``profiles.py`` + ``profiles/*.toml`` -- which OIDs hold each model's counters (data, not code);
* ``config.py`` -- the ``[snmp]`` config section;
* ``values.py``, ``reader.py`` -- SNMP answers to readings (pure);
* ``anomalies.py`` -- resets, swaps, wraps, reboots, jumps; billable deltas (pure);
* ``stability.py`` -- when a billing read may be trusted (pure, PyKota's method);
* ``session.py``, ``driver.py`` -- the thin pysnmp I/O and the ``SnmpDriver``.

Only ``session.py`` and ``driver.py`` import pysnmp; everything else imports without it.
"""
