"""The compiled fast path of frame validation (fastjsonschema) must never accept what the
reference validator (the ocpp library's jsonschema Draft4Validator) rejects: a payload
it passes skips jsonschema entirely. Checked over every schema the library ships, with
payloads built to sit on the edges where JSON Schema implementations differ."""

from pathlib import Path

import ocpp
import ocpp.messages
import pytest
from ocpp.messages import get_validator

from apps.csms import protocol
from apps.csms.protocol import CALL, CALLRESULT, V2_ERRORS, V16_ERRORS, FrameError

SCHEMAS = Path(ocpp.__file__).parent
VERSIONS = {"1.6": "v16", "2.0.1": "v201", "2.1": "v21"}
ODD_VALUES = [True, False, 0, 1, 1.0, 1.5, -1, 10**12, "", "x", "x" * 2000, [], [{}], {}, None, "2026-01-01T00:00:00Z"]


@pytest.fixture(autouse=True, scope="module")
def _own_validator_cache():
    """The ocpp library caches one validator per schema whatever its parse_float. The
    float-parsed ones loaded here must not stay behind: the library's own validation of 1.6
    SetChargingProfile / RemoteStartTransaction / GetCompositeSchedule feeds them Decimals
    (TypeError in multipleOf), which broke later tests (tests/simulator) whenever no other
    test had cached the Decimal-parsed ones first."""
    saved = dict(ocpp.messages._validators)
    ocpp.messages._validators.clear()
    yield
    ocpp.messages._validators.clear()
    ocpp.messages._validators.update(saved)


def _all_schemas():
    for version, folder in VERSIONS.items():
        for path in sorted((SCHEMAS / folder / "schemas").glob("*.json")):
            name = path.stem
            if name.endswith("Response"):
                yield version, CALLRESULT, name[: -len("Response")]
            elif version == "1.6":
                yield version, CALL, name
            elif name.endswith("Request"):
                yield version, CALL, name[: -len("Request")]


def _example(schema: dict, root: dict, depth: int = 0):
    """A payload that fills every required property with a plausible value."""
    if "$ref" in schema:
        target = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            target = target[part]
        return _example(target, root, depth)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type", "object")
    if kind == "object":
        if depth > 6:
            return {}
        return {
            k: _example(v, root, depth + 1)
            for k, v in schema.get("properties", {}).items()
            if k in schema.get("required", ())
        }
    if kind == "array":
        return [_example(schema.get("items", {}), root, depth + 1) for _ in range(max(1, schema.get("minItems", 1)))]
    if kind == "integer":
        return max(schema.get("minimum", 1), 1) if "maximum" not in schema else schema["maximum"]
    if kind == "number":
        return schema.get("minimum", 0)
    if kind == "boolean":
        return True
    return "a" * max(1, schema.get("minLength", 1))


def _variants(schema: dict, example: dict):
    yield example
    yield {}
    yield {**example, "unexpectedProperty": 1}
    props = schema.get("properties", {})
    for name in props:
        for value in ODD_VALUES:
            yield {**example, name: value}
    for name in example:
        yield {k: v for k, v in example.items() if k != name}


CASES = list(_all_schemas())


@pytest.mark.parametrize(("version", "message_type", "action"), CASES, ids=[f"{v}-{t}-{a}" for v, t, a in CASES])
def test_fast_path_never_accepts_what_jsonschema_rejects(version, message_type, action):
    reference = get_validator(message_type, action, version)
    fast = protocol._compiled(version, message_type, action)
    assert fast is not None, "every shipped schema compiles"
    example = _example(reference.schema, reference.schema)
    agreed = 0
    for payload in _variants(reference.schema, example):
        try:
            fast(payload)
            fast_ok = True
        except protocol.fastjsonschema.JsonSchemaException:
            fast_ok = False
        ref_ok = reference.is_valid(payload)
        if fast_ok:
            assert ref_ok, f"fast path accepted {payload!r}, jsonschema rejects it"
        agreed += fast_ok == ref_ok
    assert agreed  # the generator produced payloads at all


def test_fast_path_leaves_payload_untouched_and_errors_keep_their_codes():
    payload = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
    protocol.validate(version="1.6", message_type=CALL, action="StatusNotification", payload=payload, errors=V16_ERRORS)
    assert payload == {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
    with pytest.raises(FrameError) as bad_enum:
        protocol.validate(
            version="1.6",
            message_type=CALL,
            action="StatusNotification",
            payload={**payload, "status": "Nope"},
            errors=V16_ERRORS,
        )
    assert bad_enum.value.code == "PropertyConstraintViolation"
    # 1.0 is not an integer under draft 4, which the library applies to 2.x schemas too.
    with pytest.raises(FrameError) as bad_type:
        protocol.validate(
            version="2.0.1",
            message_type=CALL,
            action="StatusNotification",
            payload={
                "timestamp": "2026-01-01T00:00:00Z",
                "connectorStatus": "Available",
                "evseId": 1.0,
                "connectorId": 1,
            },
            errors=V2_ERRORS,
        )
    assert bad_type.value.code == "TypeConstraintViolation"
