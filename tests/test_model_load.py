"""Rasa's model loaded for prediction without the one-example training step predicts exactly as Rasa's own load.

Both loads run inside Rasa's runtime (``.venv-rasa``) in one subprocess, on the trained model:
first Rasa's ``RasaModel.load`` (which trains one step, then reads the weights), then ours
(:mod:`rasa_addons.model_load`, which reads the weights as the prediction pass creates them).
Every message of a shopping mix must get the same intent ranking, confidences included, and
the same entities.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from assistant.launcher import RASA_BIN
from assistant.settings import PROJECT_ROOT

MODEL = PROJECT_ROOT / "models" / "current.tar.gz"
COMPARE = """
import asyncio, json, sys
from rasa.core.agent import load_agent
from rasa_addons.model_load import install

texts = json.loads(sys.argv[2])

async def parses():
    agent = await load_agent(model_path=sys.argv[1])
    found = []
    for text in texts:
        parsed = await agent.parse_message(text)
        found.append({"ranking": [(r["name"], r["confidence"]) for r in parsed.get("intent_ranking", [])],
                      "entities": [(e["entity"], e["start"], e["end"], e["value"], e["extractor"]) for e in parsed["entities"]]})
    return found

rasa_own = asyncio.run(parses())
install()
ours = asyncio.run(parses())
print(json.dumps({"rasa": rasa_own, "ours": ours}))
"""
MESSAGES = [
    "hi", "red running shoes under $80", "cheaper", "show more", "tell me about the second one", "add it to my cart",
    "what should I get?", "a gift for my dad under $50", "where is my order", "order 12345, email ana@example.com",
    "i want to talk to a person", "thanks!", "asdkjh qwe",
    "do you have a waterproof black hiking jacket in size large from northpeak for less than 120 dollars please",
]


def test_prediction_load_predicts_exactly_as_rasas_own() -> None:
    python = RASA_BIN.parent / "python"
    if not python.exists():
        pytest.skip(f"Rasa runtime not installed at {python}")
    if not MODEL.is_file():
        pytest.skip(f"no trained model at {MODEL}: run `make model` first")
    done = subprocess.run([str(python), "-c", COMPARE, str(MODEL), json.dumps(MESSAGES)], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(result["rasa"]) == len(MESSAGES)
    assert all(parse["ranking"] for parse in result["rasa"])
    assert result["ours"] == result["rasa"]
