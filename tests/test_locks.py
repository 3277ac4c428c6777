"""The lock files match pyproject.toml and requirements-rasa.txt, and every locked package has a hash."""

from __future__ import annotations

from pathlib import Path

from tools.check_locks import ROOT, problems, wanted_app, wanted_rasa


def test_the_committed_locks_match_the_pins() -> None:
    assert problems(wanted_app(), ROOT / "requirements.lock") == []
    assert problems(wanted_rasa(), ROOT / "requirements-rasa.lock") == []


def test_a_changed_pin_a_missing_package_or_a_missing_hash_is_reported(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text(
        "aiohttp==3.14.5 \\\n    --hash=sha256:" + "0" * 64 + "\n    # via shop-assistant\n"
        "torch==2.13.0+cpu \\\n    --hash=sha256:" + "1" * 64 + "\n"
        "numpy==2.4.6\n"
    )
    found = problems({"aiohttp": "3.14.6", "torch": "2.13.0", "numpy": "2.4.6", "faiss-cpu": "1.15.1"}, lock)
    assert found == [
        "requirements.lock: numpy has no hash",
        "requirements.lock: aiohttp is locked at 3.14.5, but 3.14.6 is asked for",
        "requirements.lock: faiss-cpu==1.15.1 is not locked",
    ]
