"""Hardware drivers: they turn devices into typed events and know nothing of tickets or money.

The contract every driver keeps (gatewayd's supervisor and ledger rely on nothing else):

* An event is a frozen dataclass with
    - ``kind: ClassVar[str]`` -- ``"fax_call"``, ``"print_job"``, ``"meter_reading"``...
    - ``device: str`` -- the device's configured name,
    - ``occurred_at: datetime`` -- timezone-aware UTC,
    - ``natural_key: str`` (a property) -- unique for that kind, stable across re-reads, so
      recording the same event twice is a no-op (e.g. ``queue/job-id/completed-at``).
  Field values are plain data (str, int, bool, Decimal, datetime, enums, tuples, nested frozen
  dataclasses), so the ledger can store ``dataclasses.asdict(event)`` as JSON.
* A driver is an object with ``name: str``, ``async run(emit)`` -- where ``await emit(event)``
  stores the event durably before returning -- and ``status() -> dict`` (JSON-able) for
  ``GET /status`` and ``gatewayctl devices``. ``run`` raises on failure; the supervisor restarts it
  with back-off and records the error in device status.
* Drivers never import ``gatewayd``; optional libraries (pycups, pysnmp, pyserial) are imported by
  the driver's own modules, so ``import drivers`` alone needs none of them.
"""


class ConfigProblems(Exception):
    """A config section a driver (or billing) parsed is invalid.

    ``problems`` lists ``(dotted_key, reason)`` pairs relative to the section, e.g.
    ``("devices[2].port", "must be an integer 1-65535, got 'abc'")``; gatewayd's config loader
    prefixes the section and the file name and prints one line per problem.
    """

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{key}: {reason}" for key, reason in problems))
