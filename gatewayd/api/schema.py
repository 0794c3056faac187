"""Request bodies and query strings checked against the same JSON Schema the OpenAPI document shows.

A small subset of JSON Schema is enough here (object, array, string, integer, boolean, enum,
pattern, lengths, minimum, and ``format: decimal`` / ``date-time``); supporting just that keeps the error
messages ours: an unknown field is a 400, a wrong or missing value a 422, each naming the field.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from gatewayd.errors import InvalidValue, LedgerError


class UnknownField(LedgerError):
    status = 400
    title = "Unknown field"


LARGEST = Decimal(10) ** 12  # no front-desk amount or count comes near; beyond is a typo or an attack
LARGEST_INT = 2**63 - 1  # what the database's BIGINT holds
MAX_DEPTH = 32  # objects and arrays within each other; no route needs more than a few


class MalformedJson(LedgerError):
    status = 400
    title = "Malformed JSON"


def decode(body: bytes) -> Any:
    """A request body as JSON with exact decimals; anything Python's decoder chokes on, nested
    past MAX_DEPTH, or holding a lone surrogate (which no UTF-8 can carry on) is a 400."""
    try:
        value = json.loads(body or b"{}", parse_float=Decimal)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise MalformedJson(f"the body is not valid JSON: {err}") from err
    except RecursionError as err:
        raise MalformedJson(f"the body is nested deeper than {MAX_DEPTH} levels") from err
    except ValueError as err:  # an integer past Python's 4,300-digit conversion limit
        raise MalformedJson(f"the body is not usable JSON: {err}") from err
    level = [value]
    for depth in range(MAX_DEPTH + 1):
        deeper: list[Any] = []
        for item in level:
            if isinstance(item, dict):
                deeper += item.values()
                strings = item.keys()
            elif isinstance(item, list):
                deeper += item
                continue
            else:
                strings = [item] if isinstance(item, str) else []
            for text in strings:
                try:
                    text.encode("utf-8")
                except UnicodeEncodeError as err:
                    raise MalformedJson(f"the body holds a lone surrogate ({text[err.start]!a}); "
                                        "send text as UTF-8") from err
        if not deeper:
            return value
        level = deeper
    raise MalformedJson(f"the body is nested deeper than {MAX_DEPTH} levels")


#: A customer's file name: shown and used for a suffix, so no NUL or other control characters.
FILENAME = {"type": "string", "maxLength": 255, "pattern": r"[^\x00-\x1f\x7f]*",
            "description": "a file name without control characters (NUL, newline...)"}
_JSON_TYPES = {"string": str, "integer": int, "boolean": bool, "object": dict, "number": (int, Decimal),
               "array": list}


def _describe(value: Any) -> str:
    names = {str: "a string", bool: "a boolean", int: "an integer", Decimal: "a number", dict: "an object",
             list: "an array", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _convert(name: str, value: Any, spec: dict[str, Any]) -> Any:
    fmt = spec.get("format")
    if fmt == "decimal":
        # Money arrives as "12.50" (or a JSON number, parsed exactly): never through float.
        if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
            raise InvalidValue(f"{name} must be a decimal amount like \"12.50\", got {_describe(value)}")
        try:
            number = Decimal(str(value))
        except InvalidOperation as err:
            raise InvalidValue(f"{name} must be a decimal amount like \"12.50\", got {value!r}") from err
        if not number.is_finite() or abs(number) >= LARGEST or number.as_tuple().exponent < -4:  # type: ignore[operator]
            raise InvalidValue(
                f"{name} must be a finite amount below {LARGEST:,} with at most 4 decimal places, got {value!r}"
            )
        if "minimum" in spec and number < Decimal(str(spec["minimum"])):
            raise InvalidValue(f"{name} must be at least {spec['minimum']}, got {value}")
        return number
    expected = spec["type"]
    python_type = _JSON_TYPES[expected]
    if not isinstance(value, python_type) or (isinstance(value, bool) and expected != "boolean"):
        raise InvalidValue(f"{name} must be {expected}, got {_describe(value)}")
    if expected == "string":
        if "enum" in spec and value not in spec["enum"]:
            raise InvalidValue(f"{name} must be one of {', '.join(spec['enum'])}, got {value!r}")
        if len(value) > spec.get("maxLength", 10_000):
            raise InvalidValue(f"{name} is longer than {spec.get('maxLength', 10_000)} characters")
        if len(value) < spec.get("minLength", 0):
            raise InvalidValue(f"{name} must not be empty")
        if "pattern" in spec and not re.fullmatch(spec["pattern"], value):
            raise InvalidValue(f"{name} {value!r} does not look like {spec.get('description', spec['pattern'])}")
        if fmt == "date-time":
            try:
                moment = datetime.fromisoformat(value)
            except ValueError as err:
                raise InvalidValue(f"{name} must be an ISO 8601 time like 2026-11-26T09:30:00+08:00, got {value!r}") from err
            if moment.tzinfo is None:
                raise InvalidValue(f"{name} must include a UTC offset (e.g. +08:00), got {value!r}")
            return moment
    if expected == "integer":
        if not -LARGEST_INT <= value <= LARGEST_INT:
            raise InvalidValue(f"{name} is out of range (at most {LARGEST_INT} either way)")
        if "minimum" in spec and value < spec["minimum"]:
            raise InvalidValue(f"{name} must be at least {spec['minimum']}, got {value}")
        if "maximum" in spec and value > spec["maximum"]:
            raise InvalidValue(f"{name} must be at most {spec['maximum']}, got {value}")
    if expected == "array":
        if not spec.get("minItems", 0) <= len(value) <= spec.get("maxItems", 1000):
            raise InvalidValue(f"{name} must have {spec.get('minItems', 0)} to {spec.get('maxItems', 1000)} items")
        return [_convert(f"{name}[{i}]", item, spec["items"]) for i, item in enumerate(value)]
    if expected == "object":
        return check_object(value, spec, prefix=f"{name}.") if "properties" in spec else _free_form(value)
    return value


def _free_form(value: Any) -> Any:
    """Free-form objects (ticket params, event payloads) are stored as JSON: exact numbers as text."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _free_form(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_free_form(v) for v in value]
    return value


def check_object(value: Any, schema: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Validate a decoded JSON object; return it with decimals and times converted."""
    if not isinstance(value, dict):
        raise InvalidValue(f"{prefix.rstrip('.') or 'the body'} must be a JSON object, got {_describe(value)}")
    properties: dict[str, Any] = schema.get("properties", {})
    if schema.get("additionalProperties") is not True:
        unknown = sorted(set(value) - set(properties))
        if unknown:
            raise UnknownField(
                f"unknown field {prefix}{unknown[0]!s} (allowed: {', '.join(properties) or 'none'})"
            )
    for required in schema.get("required", []):
        if required not in value or value[required] is None:
            raise InvalidValue(f"{prefix}{required} is required")
    return {
        key: _convert(f"{prefix}{key}", item, properties[key]) if key in properties else item
        for key, item in value.items()
        if item is not None
    }


def check_query(query: dict[str, str], params: dict[str, Any]) -> dict[str, Any]:
    """Query strings are text: convert what the schema says is a boolean, integer or time."""
    typed: dict[str, Any] = {}
    for key, text in query.items():
        spec = params.get(key)
        if spec is None:
            raise UnknownField(f"unknown query parameter {key} (allowed: {', '.join(params) or 'none'})")
        if spec["type"] == "boolean":
            if text not in ("true", "false"):
                raise InvalidValue(f"{key} must be true or false, got {text!r}")
            typed[key] = text == "true"
        elif spec["type"] == "integer":
            try:
                typed[key] = _convert(key, int(text), spec)
            except ValueError as err:
                raise InvalidValue(f"{key} must be an integer, got {text!r}") from err
        else:
            typed[key] = _convert(key, text, spec)
    return typed
