"""OCPP / OCPI date-times on the wire: UTC, second precision, "Z" (RFC 3339)."""

from datetime import UTC, datetime


def iso_utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_iso() -> str:
    """Now, with milliseconds: the currentTime chargers set their clocks from."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
