"""Environment variables are read only in config/ (config/settings/base.py through
django-environ): apps read `settings.X`. One place lists every knob, tests override settings
instead of the process environment, and a typo fails at start-up rather than silently
falling back to a default deep in an app."""

import re
from pathlib import Path

APPS = Path(__file__).resolve().parents[2] / "apps"
PATTERN = re.compile(
    r"\bos\.environ\b|\bos\.getenv\b|\bgetenv\(|from os import [^\n]*\b(environ|getenv)\b|\benviron\.Env\("
)
# Path under apps/ -> why it may read the environment itself.
ALLOWED = {
    # A management command's default for its --password option, for demo installs only.
    "tenants/management/commands/seed_demo.py": "CLI default (DEMO_PASSWORD)",
}


def _offenders() -> dict[str, list[int]]:
    found = {}
    for path in sorted(APPS.rglob("*.py")):
        rel = path.relative_to(APPS).as_posix()
        # The simulator imports no Django on purpose (a load generator with its own CLI);
        # migrations are history.
        if rel.startswith("simulator/") or "/migrations/" in rel or rel in ALLOWED:
            continue
        lines = [n for n, line in enumerate(path.read_text().splitlines(), 1) if PATTERN.search(line)]
        if lines:
            found[rel] = lines
    return found


def test_apps_read_settings_not_the_environment():
    assert _offenders() == {}, "read these through config/settings/base.py and settings.X"


def test_the_allow_list_is_still_needed():
    for rel in ALLOWED:
        assert PATTERN.search((APPS / rel).read_text()), f"{rel} no longer reads the environment: drop it"
