"""Reading a TOML section while collecting every problem at once, each with its dotted key.

Every accessor records the key as known (so ``done`` can name typos) and, on a bad value, records
``(dotted_key, reason)`` and returns a harmless placeholder: the caller builds its objects anyway
and raises ``ConfigProblems`` at the end, so one run of ``gatewayd check-config`` lists them all.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from decimal import Decimal
from typing import Any, TypeVar

E = TypeVar("E", bound=enum.Enum)

_MISSING: Any = object()
_DECIMAL = re.compile(r"-?\d+(\.\d+)?")
_HHMM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


def describe(value: Any) -> str:
    """How a bad value is quoted back: strings as written, other types with their TOML-ish type."""
    if isinstance(value, str):
        return repr(value)
    kind = {dict: "table", list: "array"}.get(type(value), type(value).__name__)
    return f"{value!r} ({kind})"


class Reader:
    def __init__(self, data: Any, path: str, problems: list[tuple[str, str]], strict: bool = True):
        self.path = path
        self.problems = problems
        self.strict = strict
        self.data: dict[str, Any] = data if isinstance(data, dict) else {}
        self._seen: set[str] = set()

    def key(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def problem(self, key: str, reason: str) -> None:
        self.problems.append((self.key(key) if key else self.path, reason))

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str) -> Any:
        """The value as TOML gave it (None if absent), for a caller that checks it itself."""
        self._seen.add(key)
        return self.data.get(key)

    def _get(self, key: str, default: Any, expected: str) -> Any:
        self._seen.add(key)
        if key in self.data:
            return self.data[key]
        if default is _MISSING:
            self.problem(key, f"required: {expected}")
        return default

    def _bad(self, key: str, expected: str, value: Any) -> None:
        self.problem(key, f"must be {expected}, got {describe(value)}")

    def text(self, key: str, default: Any = _MISSING, choices: tuple[str, ...] = ()) -> Any:
        expected = "one of " + ", ".join(repr(c) for c in choices) if choices else "a string"
        value = self._get(key, default, expected)
        if value is default:
            return value
        if not isinstance(value, str) or (choices and value not in choices):
            self._bad(key, expected, value)
            return default if default is not _MISSING else None
        return value

    def digits(self, key: str, default: str, nonempty: bool = False) -> str:
        expected = "a string of digits like '00'" if nonempty else "a string of digits (or '')"
        value = self._get(key, default, expected)
        if not isinstance(value, str) or (not value.isdigit() and (nonempty or value != "")):
            self._bad(key, expected, value)
            return default
        return value

    def decimal(self, key: str, default: Any = _MISSING, example: str = "8.00") -> Decimal:
        """A non-negative Decimal written as a string: TOML floats are binary and would round."""
        expected = f"a decimal string like '{example}'"
        value = self._get(key, default, expected)
        if value is default:
            return Decimal(0) if value is _MISSING else value
        if not isinstance(value, str) or not _DECIMAL.fullmatch(value):
            self._bad(key, expected, value)
            return Decimal(0)
        number = Decimal(value)
        if number < 0:
            self.problem(key, f"must not be negative, got {value!r}")
            return Decimal(0)
        return number

    def whole(self, key: str, default: Any = _MISSING, minimum: int = 0, unit: str = "") -> int:
        expected = f"a whole number >= {minimum}" + (f" ({unit})" if unit else "")
        value = self._get(key, default, expected)
        # bool is an int in Python but `true` is never a count in TOML
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            if value is not _MISSING:
                self._bad(key, expected, value)
            return minimum
        return value

    def choice(self, key: str, kind: type[E], default: Any = _MISSING) -> E:
        values = tuple(str(m.value) for m in kind)
        expected = "one of " + ", ".join(repr(v) for v in values)
        value = self._get(key, default, expected)
        if isinstance(value, kind):
            return value
        if value not in values:
            if value is not _MISSING:
                self._bad(key, expected, value)
            return next(iter(kind))
        return kind(value)

    def date(self, key: str, value: Any) -> dt.date:
        """A TOML local date (``2025-10-01``); strings are refused so a typo cannot parse oddly."""
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        self._bad(key, "a date like 2025-10-01 (unquoted)", value)
        return dt.date.min

    def dates(self, key: str) -> frozenset[dt.date]:
        value = self._get(key, [], "an array of dates")
        if not isinstance(value, list):
            self._bad(key, "an array of dates like [2025-10-01, 2025-10-02]", value)
            return frozenset()
        return frozenset(self.date(f"{key}[{i}]", v) for i, v in enumerate(value))

    def time_of_day(self, key: str) -> dt.time | None:
        value = self._get(key, None, "a time like '22:00'")
        if value is None:
            return None
        match = _HHMM.fullmatch(value) if isinstance(value, str) else None
        if not match:
            self._bad(key, "a local time like '22:00'", value)
            return None
        return dt.time(int(match[1]), int(match[2]))

    def strings(self, key: str, choices: tuple[str, ...], default: tuple[str, ...]) -> tuple[str, ...]:
        expected = "an array of " + ", ".join(repr(c) for c in choices)
        value = self._get(key, list(default), expected)
        if not isinstance(value, list) or not value or any(v not in choices for v in value):
            self._bad(key, expected, value)
            return default
        return tuple(value)

    def table(self, key: str, required: bool = False) -> Reader | None:
        value = self._get(key, _MISSING if required else None, "a table")
        if value is None or value is _MISSING:
            return None
        if not isinstance(value, dict):
            self._bad(key, "a table", value)
            return None
        return Reader(value, self.key(key), self.problems)

    def tables(self, key: str, required: bool = False) -> list[Reader]:
        value = self._get(key, _MISSING if required else [], "an array of tables")
        if value is _MISSING:
            return []
        if not isinstance(value, list) or any(not isinstance(v, dict) for v in value):
            self._bad(key, "an array of tables ([[...]])", value)
            return []
        return [Reader(v, f"{self.key(key)}[{i}]", self.problems) for i, v in enumerate(value)]

    def done(self) -> None:
        """Name keys nobody asked for: a misspelt key would otherwise silently take its default."""
        if not self.strict:
            return
        for key in self.data.keys() - self._seen:
            known = ", ".join(sorted(self._seen))
            self.problem(key, f"unknown key; expected one of: {known}")
