"""Check that the lock files still match what the project asks for (run by ``make test``).

``requirements.lock`` (the app's ``.venv``) must pin every dependency of ``pyproject.toml``
(and its ``test`` extra) at the pinned version, and ``requirements-rasa.lock`` every line
of ``requirements-rasa.txt``; every locked package must carry at least one sha256 hash,
since the Makefile installs with ``--require-hashes``. A mismatch means someone changed a
pin without regenerating the lock: the message gives the command (see the Makefile's
``lock`` target). Standard library only, so it runs before any environment exists.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def normalize(name: str) -> str:
    """PEP 503 name: case and runs of ``-_.`` do not matter."""
    return re.sub(r"[-_.]+", "-", name).lower()


def public(version: str) -> str:
    """The version without its local label (``2.13.0+cpu`` is what ``==2.13.0`` installs here)."""
    return version.split("+", 1)[0]


def locked(lock: Path) -> tuple[dict[str, str], list[str]]:
    """Pinned versions in a pip-compile lock, and the packages that have no hash."""
    pins: dict[str, str] = {}
    hashed: set[str] = set()
    current: str | None = None
    for line in lock.read_text().splitlines():
        if match := PIN.match(line):
            current = normalize(match.group(1))
            pins[current] = match.group(2)
        if current and "--hash=sha256:" in line:
            hashed.add(current)
    return pins, sorted(set(pins) - hashed)


def wanted_app() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = [*project["dependencies"], *project.get("optional-dependencies", {}).get("test", [])]
    return {normalize(m.group(1)): m.group(2) for line in lines if (m := PIN.match(line.replace(" ", "")))}


def wanted_rasa() -> dict[str, str]:
    lines = (ROOT / "requirements-rasa.txt").read_text().splitlines()
    return {normalize(m.group(1)): m.group(2) for line in lines if (m := PIN.match(line.strip()))}


def problems(wanted: dict[str, str], lock: Path) -> list[str]:
    if not lock.exists():
        return [f"{lock.name} is missing"]
    pins, unhashed = locked(lock)
    found = [f"{lock.name}: {name} has no hash" for name in unhashed]
    for name, version in sorted(wanted.items()):
        if name not in pins:
            found.append(f"{lock.name}: {name}=={version} is not locked")
        elif public(pins[name]) != public(version):
            found.append(f"{lock.name}: {name} is locked at {pins[name]}, but {version} is asked for")
    return found


def main() -> int:
    found = problems(wanted_app(), ROOT / "requirements.lock") + problems(wanted_rasa(), ROOT / "requirements-rasa.lock")
    for problem in found:
        print(problem, file=sys.stderr)
    if found:
        print("The lock files are stale: regenerate them with `make lock` (pip-tools, see the Makefile).", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
