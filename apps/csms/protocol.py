"""OCPP-J framing and schema validation, with the error codes each version's
specification prescribes (the `ocpp` library's own mapping differs, see below)."""

from __future__ import annotations

import decimal
import functools
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

import fastjsonschema
import orjson
from django.conf import settings
from jsonschema.exceptions import best_match
from ocpp.messages import get_validator

CALL, CALLRESULT, CALLERROR = 2, 3, 4
# OCPP-J 2.1 adds CALLRESULTERROR (an answer to a CALLRESULT the receiver could not
# process) and SEND (an unconfirmed message, e.g. NotifyPeriodicEventStream).
CALLRESULTERROR, SEND = 5, 6
# OCPP-J: "The message ID ... maximum of 36 characters".
MAX_UNIQUE_ID = 36
# Unreadable message id: OCPP-J 2.0.1 section 4.2.3 answers with "-1"; 1.6 chargers accept it too.
UNKNOWN_ID = "-1"

SUBPROTOCOL_VERSIONS = {"ocpp1.6": "1.6", "ocpp2.0.1": "2.0.1", "ocpp2.1": "2.1"}

# Limits of one inbound frame (config/settings/base.py says why these defaults).
MAX_FRAME_BYTES: int = settings.OCPP_MAX_FRAME_BYTES
MAX_FRAME_DEPTH: int = settings.OCPP_MAX_FRAME_DEPTH
# An action name shown back to a charger (or in our logs) at most this long: the longest
# action of any version is 36 characters, and an unknown one is not worth echoing in full.
MAX_ACTION_SHOWN = 64


@dataclass
class ErrorCodes:
    """CALLERROR codes for the failures the framework detects, per protocol version."""

    not_valid_json: str
    bad_frame: str  # not a list, unreadable id, wrong element count
    unknown_message_type: str
    required: str
    occurrence: str
    type: str
    property: str
    structure: str  # additional properties, wrong object shape
    too_large: str  # over OCPP_MAX_FRAME_BYTES or OCPP_MAX_FRAME_DEPTH: syntactically unacceptable


# OCPP-J 1.6 section 4.2.3. It spells "FormationViolation" and "OccurenceConstraintViolation"
# (errata: known typos that will not be fixed); a missing required field makes the payload
# "incomplete", which is ProtocolError. There is no code for an unknown message type in 1.6;
# the frame does not conform to the PDU structure, so FormationViolation.
V16_ERRORS = ErrorCodes(
    not_valid_json="FormationViolation",
    bad_frame="FormationViolation",
    unknown_message_type="FormationViolation",
    required="ProtocolError",
    occurrence="OccurenceConstraintViolation",
    type="TypeConstraintViolation",
    property="PropertyConstraintViolation",
    structure="FormationViolation",
    too_large="FormationViolation",
)
# OCPP-J 2.0.1 section 4.3: RpcFrameworkError and MessageTypeNotSupported exist,
# FormatViolation replaces FormationViolation, missing fields violate occurrence constraints.
V2_ERRORS = ErrorCodes(
    not_valid_json="RpcFrameworkError",
    bad_frame="RpcFrameworkError",
    unknown_message_type="MessageTypeNotSupported",
    required="OccurrenceConstraintViolation",
    occurrence="OccurrenceConstraintViolation",
    type="TypeConstraintViolation",
    property="PropertyConstraintViolation",
    structure="FormatViolation",
    too_large="FormatViolation",
)

_TYPE_VALIDATORS = {"type", "maxLength", "minLength", "format", "pattern"}
_PROPERTY_VALIDATORS = {"enum", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}
_OCCURRENCE_VALIDATORS = {"minItems", "maxItems", "uniqueItems"}
# 1.6 schemas with decimals of one fraction digit: validate them as Decimal, not float
# (21.4 as a float fails "multipleOf": 0.1) -- the same trick the ocpp library uses. The
# library caches one validator per schema whatever parse_float it was loaded with, so these
# must never be loaded with floats first: only validate() asks for them, always with Decimal.
_DECIMAL_ACTIONS = {
    ("1.6", CALL, "SetChargingProfile"),
    ("1.6", CALL, "RemoteStartTransaction"),
    ("1.6", CALLRESULT, "GetCompositeSchedule"),
}


class FrameError(Exception):
    def __init__(
        self, code: str, description: str, unique_id: str = UNKNOWN_ID, details: dict | None = None, reply: bool = True
    ):
        super().__init__(description)
        self.code, self.description, self.unique_id, self.details = code, description, unique_id, details or {}
        # A broken CALLRESULT/CALLERROR is never answered: OCPP-J has no response to a response.
        self.reply = reply


@dataclass
class Frame:
    message_type: int
    unique_id: str
    action: str = ""
    payload: dict = field(default_factory=dict)
    error_code: str = ""
    error_description: str = ""
    error_details: dict = field(default_factory=dict)


def _reject_constant(name: str):
    # Python's json accepts NaN and Infinity; JSON (RFC 8259) and PostgreSQL do not.
    raise ValueError(f"{name} is not JSON")


# One decoder for every frame: json.loads with an option builds a new one per call. Not
# orjson here: it reads integers beyond 64 bits as floats, and a 2**70 meterStop must stay
# an integer to be reported as out of range (PropertyConstraintViolation), not as a type error.
_decode = json.JSONDecoder(parse_constant=_reject_constant).decode


# The start of a frame, read without parsing it: the message type and id of a frame refused
# for its size or depth, so a CALL still gets its answer under its own id.
_HEAD = re.compile(r'\s*\[\s*(\d{1,2})\s*,\s*"([^"\\]{1,36})"')


def shown(text: str, limit: int = MAX_ACTION_SHOWN) -> str:
    """A charger-supplied name cut for an answer or a log line."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def _over_limit(raw: str, msg, errors: ErrorCodes, description: str) -> FrameError:
    if isinstance(msg, list):
        kind = msg[0] if msg else None
        unique_id = msg[1] if len(msg) > 1 and isinstance(msg[1], str) else ""
    else:
        head = _HEAD.match(raw, 0, 128)
        kind, unique_id = (int(head[1]), head[2]) if head else (None, "")
    if not unique_id or len(unique_id) > MAX_UNIQUE_ID:
        unique_id = UNKNOWN_ID
    # No response to a response, nor to a SEND; anything else is answered.
    return FrameError(errors.too_large, description, unique_id, reply=kind not in (CALLRESULT, CALLERROR, 5, 6))


def _deeper_than(value, limit: int) -> bool:
    """Whether value nests more than `limit` arrays/objects (the frame's own array is level
    1). Iterative, one level at a time: a recursive walk is what a deep frame would break."""
    level, depth = [value], 1
    while level:
        if depth > limit:
            return True
        below = []
        for node in level:
            for child in node.values() if type(node) is dict else node:
                if type(child) is dict or type(child) is list:
                    below.append(child)
        level, depth = below, depth + 1
    return False


def parse_frame(raw: str, errors: ErrorCodes, *, rpc21: bool = False) -> Frame:
    # Size first, before any work on the text. len() is O(1); a str under a quarter of the
    # limit cannot be over it in UTF-8 (at most 4 bytes a character), and isascii() is O(1)
    # too, so the encode (a C copy) only happens for a non-ASCII frame near the limit.
    if len(raw) * 4 > MAX_FRAME_BYTES:
        size = len(raw) if raw.isascii() else len(raw.encode("utf-8", "surrogatepass"))
        if size > MAX_FRAME_BYTES:
            raise _over_limit(raw, None, errors, f"Message is {size} bytes; at most {MAX_FRAME_BYTES} are accepted.")
    deep = f"Message is nested deeper than {MAX_FRAME_DEPTH} levels."
    try:
        msg = _decode(raw)
    except RecursionError:
        # The C decoder recurses per level and gives up near Python's recursion limit.
        raise _over_limit(raw, None, errors, deep) from None
    except (ValueError, TypeError):
        raise FrameError(errors.not_valid_json, "Message is not valid JSON.") from None
    # Depth: a frame cannot nest deeper than it has brackets, and counting them is two C
    # scans of the text (str.count), so the walk of the parsed frame only runs for frames
    # with many containers (big MeterValues, NotifyReport), never for a Heartbeat.
    many = raw.count("[") + raw.count("{") > MAX_FRAME_DEPTH
    if many and isinstance(msg, list) and _deeper_than(msg, MAX_FRAME_DEPTH):
        raise _over_limit(raw, msg, errors, deep)
    if not isinstance(msg, list) or not msg:
        raise FrameError(errors.bad_frame, "A message is a JSON array [MessageTypeId, MessageId, ...].")
    unique_id = msg[1] if len(msg) > 1 and isinstance(msg[1], str) else None
    reply_id = unique_id if unique_id and len(unique_id) <= MAX_UNIQUE_ID else UNKNOWN_ID
    known = (CALL, CALLRESULT, CALLERROR, CALLRESULTERROR, SEND) if rpc21 else (CALL, CALLRESULT, CALLERROR)
    if msg[0] not in known or isinstance(msg[0], bool):
        raise FrameError(errors.unknown_message_type, f"MessageTypeId {msg[0]!r} is not supported.", reply_id)
    if unique_id is None or not unique_id or len(unique_id) > MAX_UNIQUE_ID:
        raise FrameError(errors.bad_frame, "MessageId must be a string of 1 to 36 characters.")
    if msg[0] in (CALL, SEND):
        if len(msg) != 4 or not isinstance(msg[2], str) or not isinstance(msg[3], dict):
            # A broken SEND is not answered either: SEND has no response by definition.
            raise FrameError(
                errors.bad_frame, "A CALL is [2, MessageId, Action, {Payload}].", unique_id, reply=msg[0] == CALL
            )
        return Frame(msg[0], unique_id, msg[2], msg[3])
    if msg[0] == CALLRESULT:
        if len(msg) != 3 or not isinstance(msg[2], dict):
            raise FrameError(errors.bad_frame, "A CALLRESULT is [3, MessageId, {Payload}].", unique_id, reply=False)
        return Frame(CALLRESULT, unique_id, payload=msg[2])
    if len(msg) != 5 or not isinstance(msg[2], str):
        raise FrameError(
            errors.bad_frame,
            "A CALLERROR is [4, MessageId, ErrorCode, Description, {Details}].",
            unique_id,
            reply=False,
        )
    return Frame(
        msg[0],
        unique_id,
        error_code=msg[2],
        error_description=str(msg[3] or ""),
        error_details=msg[4] if isinstance(msg[4], dict) else {},
    )


_DRAFT4 = "http://json-schema.org/draft-04/schema#"


@functools.cache
def _compiled(version: str, message_type: int, action: str):
    """The library's schema compiled to Python by fastjsonschema: ~20x cheaper than walking
    it with jsonschema (~200 µs for a MeterValues, 12% of the server's time under load).
    No defaults filled in (the payload stays as sent) and no format checks (jsonschema does
    none either; timestamps are parsed by the handlers). The library validates every
    version's schemas as draft 4 (Draft4Validator), so they are compiled as draft 4 too:
    under the 2.x schemas' own draft 6, 1.0 would pass as an integer."""
    try:
        schema = {**get_validator(message_type, action, version).schema, "$schema": _DRAFT4}
        return fastjsonschema.compile(schema, use_default=False, use_formats=False)
    except Exception:  # a schema it cannot compile is checked by jsonschema alone
        return None


def validate(*, version: str, message_type: int, action: str, payload: dict, errors: ErrorCodes) -> None:
    """Raise FrameError with the specification's code when payload does not match the schema."""
    key = (version, message_type, action)
    if key not in _DECIMAL_ACTIONS:
        fast = _compiled(version, message_type, action)
        if fast is not None:
            try:
                fast(payload)
                return
            except fastjsonschema.JsonSchemaException:
                # Invalid (or a case the two libraries judge differently): jsonschema has the
                # last word and finds the error the specification's code is chosen from.
                pass
    if key in _DECIMAL_ACTIONS:
        validator = get_validator(message_type, action, version, parse_float=decimal.Decimal)
        payload = json.loads(json.dumps(payload), parse_float=decimal.Decimal)
    else:
        validator = get_validator(message_type, action, version)
    error = best_match(validator.iter_errors(payload))
    if error is None:
        return
    where = "/".join(str(p) for p in error.absolute_path) or "payload"
    kind = error.validator
    if kind == "required":
        code = errors.required
    elif kind in _OCCURRENCE_VALIDATORS:
        code = errors.occurrence
    elif kind in _TYPE_VALIDATORS and error.absolute_path:
        code = errors.type
    elif kind in _PROPERTY_VALIDATORS:
        code = errors.property
    else:
        code = errors.structure
    raise FrameError(code, f"{where}: {error.message}"[:500])


def parse_timestamp(value: str, errors: ErrorCodes, name: str = "timestamp") -> datetime:
    """OCPP dateTime (RFC 3339). The JSON schemas say "format": "date-time" but the
    validator does not enforce formats, so a bad value would otherwise reach the database."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except (ValueError, AttributeError):
        raise FrameError(errors.type, f"{name}: {value!r} is not an RFC 3339 date-time.") from None
    if parsed.tzinfo is None:
        # Chargers without a time zone mean UTC (OCPP requires UTC anyway).
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def json_text(value) -> str:
    """Compact JSON text of a frame or payload (orjson, ~3x faster than json)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        # orjson refuses what json also refuses (Decimal, sets), but also integers beyond
        # 64 bits, which json writes: keep json's verdict for those.
        return json.dumps(value, separators=(",", ":"))


def call_frame(unique_id: str, action: str, payload: dict) -> str:
    return json_text([CALL, unique_id, action, payload])


def result_frame(unique_id: str, payload: dict) -> str:
    return json_text([CALLRESULT, unique_id, payload])


def error_frame(unique_id: str, code: str, description: str, details: dict | None = None) -> str:
    return json_text([CALLERROR, unique_id, code, description, details or {}])
