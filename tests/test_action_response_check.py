"""The once-compiled check of action replies accepts and refuses exactly what Rasa's own does.

It runs inside Rasa's runtime (``.venv-rasa``) in a subprocess, on real replies of the
kinds our actions send and on malformed ones, beside ``jsonschema.validate`` as Rasa calls it.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from assistant.launcher import RASA_BIN
from assistant.settings import PROJECT_ROOT

COMPARE = """
import json, sys
from jsonschema import ValidationError, validate
from rasa.core.actions.action import RemoteAction
from rasa_addons.action_response_check import install

replies = json.loads(sys.argv[1])
def outcome(check):
    try:
        check()
        return "ok"
    except ValidationError as error:
        return "refused: " + error.message
rasa_own = [outcome(lambda r=r: validate(r, RemoteAction.action_response_format_spec())) for r in replies]
install()
action = RemoteAction("action_search_products", None)
ours = [outcome(lambda r=r: action._validate_action_result(r)) for r in replies]
print(json.dumps({"rasa": rasa_own, "ours": ours}))
"""

REPLIES = [
    {"events": [{"event": "slot", "name": "last_query", "value": "boots", "timestamp": None}],
     "responses": [{"text": "Here are 3 boots", "custom": {"type": "products", "items": []}}]},
    {"events": [], "responses": []},
    {"events": [{"event": "followup", "name": "action_listen"}, {"event": "action_execution_rejected", "name": "x"}]},
    {"events": [{"event": "not_an_event"}]},
    {"events": "slot"},
    {"responses": ["just a string"]},
]


def test_the_compiled_check_agrees_with_rasas_own() -> None:
    python = RASA_BIN.parent / "python"
    if not python.exists():
        pytest.skip(f"Rasa runtime not installed at {python}")
    done = subprocess.run([str(python), "-c", COMPARE, json.dumps(REPLIES)], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["rasa"][:3] == ["ok", "ok", "ok"]
    assert all(outcome.startswith("refused") for outcome in result["rasa"][3:])
    assert [outcome.split(". Failed to validate")[0] for outcome in result["ours"]] == result["rasa"]
    assert all("Failed to validate Action server response" in outcome for outcome in result["ours"][3:])
