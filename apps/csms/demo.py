"""The central system's part of `seed_demo` (registered in CsmsConfig.ready)."""

from apps.csms.services import csms_settings_update


def seed_csms(*, organization, stdout) -> None:
    # The demo accepts chargers it does not know yet (e.g. more simulators).
    csms_settings_update(unknown_identity_policy="accept", heartbeat_interval=60)
