from apps.csms.throttle import FailureThrottle


def test_blocks_after_max_failures_within_window_and_forgets_after():
    throttle = FailureThrottle(max_failures=3, window=60)
    key = ("org_a", "CP-1", "10.0.0.1")
    for t in (0, 1, 2):
        assert not throttle.blocked(key, now=t)
        throttle.failed(key, now=t)
    assert throttle.blocked(key, now=3)
    assert not throttle.blocked(("org_a", "CP-1", "10.0.0.2"), now=3)  # another address
    assert not throttle.blocked(key, now=61)  # the first failure left the window


def test_success_resets_and_memory_is_bounded():
    throttle = FailureThrottle(max_failures=2, window=60, max_keys=2)
    key = ("org_a", "CP-1", "ip")
    throttle.failed(key, now=1)
    throttle.succeeded(key)
    throttle.failed(key, now=2)
    assert not throttle.blocked(key, now=3)
    for i in range(5):
        throttle.failed(("org_a", f"X{i}", "ip"), now=4)
    assert len(throttle._failures) == 2
