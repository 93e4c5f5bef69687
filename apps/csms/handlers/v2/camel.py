"""Back from the handlers' snake_case to the wire's camelCase.

The session hands `@on` handlers snake_case keyword arguments (the `ocpp` library's
camel_to_snake_case); we store profiles and schedules as on the wire so they can be
shown and resent verbatim. The library's reverse conversion is lossy for names such
as `limit_L2`, `limitAtSoC` or `priceScheduleID`, so the reverse map is built from the
property names of the library's own 2.0.1 and 2.1 schemas.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import ocpp
from ocpp.charge_point import camel_to_snake_case

_DIRS = ("v201", "v21")


def _property_names(node, out: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                out.update(value)
            _property_names(value, out)
    elif isinstance(node, list):
        for value in node:
            _property_names(value, out)


@functools.cache
def _camel_names() -> dict[str, str]:
    names: set[str] = set()
    base = Path(ocpp.__file__).parent
    for version in _DIRS:
        for path in (base / version / "schemas").glob("*.json"):
            _property_names(json.loads(path.read_text()), names)
    return {next(iter(camel_to_snake_case({n: 0}))): n for n in sorted(names)}


def _generic(key: str) -> str:
    parts = key.split("_")
    out = parts[0]
    for part in parts[1:]:
        out += "_" + part.upper() if re.fullmatch(r"l[123]", part) else part[:1].upper() + part[1:]
    return out


def to_wire(data):
    """snake_case dict/list (as handlers receive it) -> camelCase as the station sent it."""
    if isinstance(data, dict):
        names = _camel_names()
        return {names.get(k, _generic(k)) if isinstance(k, str) else k: to_wire(v) for k, v in data.items()}
    if isinstance(data, list):
        return [to_wire(v) for v in data]
    return data
