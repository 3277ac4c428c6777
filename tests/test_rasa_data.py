"""The Rasa training data and domain are checked as data, with Rasa's own validator.

Runs ``rasa data validate`` from ``.venv-rasa`` (Rasa lives in its own Python 3.10
runtime, so it is called as a subprocess). The validator's only tolerated warnings are
the ones Rasa 3.6 raises for responses that are used outside stories and rules: the
form's ``utter_ask_<slot>`` questions (asked by the form itself) and ``utter_default``
(sent by the fallback action). Any other warning, such as an intent without a rule, an
unknown action or a story conflict, fails the test.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RASA = PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa"
RESPONSES_USED_OUTSIDE_DIALOGUES = {
    "utter_ask_order_number", "utter_ask_email", "utter_default",
    "utter_ask_return_items", "utter_ask_return_reason", "utter_ask_refund_method",  # return_form (store backend)
}
UNUSED_RESPONSE = re.compile(r"The utterance '(\w+)' is not used in any story or rule\.")
# Intents injected only through Rasa's trigger_intent API (the cart reminder): no NLU examples by design.
EXTERNAL_INTENTS = {"cart_reminder", "alert_fired", "store_update"}  # the reminder runner; the store's answers
INTENT_WITHOUT_NLU = re.compile(r"The intent '(\w+)' is listed in the domain file, but is not found in the NLU training data\.")


@pytest.fixture(scope="module")
def validation() -> subprocess.CompletedProcess[str]:
    """One run of the validator shared by the assertions below."""
    if not RASA.exists():
        pytest.skip(f"Rasa runtime not installed at {RASA}")
    return subprocess.run(
        [str(RASA), "data", "validate", "--domain", "domain", "--data", "data", "--config", "config.yml"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_validator_finds_no_errors(validation: subprocess.CompletedProcess[str]) -> None:
    assert validation.returncode == 0, validation.stdout + validation.stderr


def test_only_known_warnings(validation: subprocess.CompletedProcess[str]) -> None:
    output = validation.stdout + validation.stderr
    warnings = [line for line in output.splitlines() if "UserWarning:" in line]
    unexpected = [
        line
        for line in warnings
        if not ((m := UNUSED_RESPONSE.search(line)) and m.group(1) in RESPONSES_USED_OUTSIDE_DIALOGUES)
        and not ((m := INTENT_WITHOUT_NLU.search(line)) and m.group(1) in EXTERNAL_INTENTS)
    ]
    assert unexpected == []


def test_no_story_conflicts(validation: subprocess.CompletedProcess[str]) -> None:
    assert "No story structure conflicts found." in validation.stdout + validation.stderr


def test_dialogue_test_stories_pass(tmp_path: Path) -> None:
    """The trained model predicts every turn of ``tests/test_stories.yml`` (rasa-demo CI style)."""
    model = PROJECT_ROOT / "models" / "current.tar.gz"
    if not RASA.exists() or not model.exists():
        pytest.skip("needs the Rasa runtime and a trained model (`make model`)")
    result = subprocess.run(
        [
            str(RASA), "test", "core", "--model", str(model), "--stories", "tests/test_stories.yml",
            "--fail-on-prediction-errors", "--out", str(tmp_path),
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
