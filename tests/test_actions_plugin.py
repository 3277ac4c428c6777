"""The real action server (``python -m rasa_sdk --actions actions``) refuses calls without its token."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from assistant.launcher import Ports, child_environment
from assistant.settings import PROJECT_ROOT, Settings
from tests.actions_harness import action_store  # noqa: F401

CALL = {
    "next_action": "action_shipping_info",
    "sender_id": "plugin-test",
    "tracker": {"sender_id": "plugin-test", "slots": {}, "latest_message": {"text": "shipping?"}, "events": [],
                "paused": False, "followup_action": None, "active_loop": {}, "latest_action_name": "action_listen"},
    "domain": {},
    "version": "3.6.21",
}


@pytest.fixture
async def action_server(action_store: Settings, tmp_path: Path) -> AsyncIterator[str]:
    ports = Ports.free()
    env = {**child_environment(action_store, ports), "SANIC_HOST": "127.0.0.1"}
    log = (tmp_path / "actions.log").open("wb")
    command = [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(ports.action_server)]
    process = subprocess.Popen(
        command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{ports.action_server}"
    try:
        async with aiohttp.ClientSession() as client:
            for _ in range(600):
                if process.poll() is not None:
                    pytest.fail(f"action server exited: {(tmp_path / 'actions.log').read_text()[-2000:]}")
                try:
                    async with client.get(f"{url}/health") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
        yield url
    finally:
        stop_group(process)
        log.close()


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """Stop the server and its Sanic worker (its own process group), forcibly if it lingers."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_webhook_needs_the_token_and_health_stays_open(action_server: str, action_store: Settings) -> None:
    token = action_store.action_server_token
    async with aiohttp.ClientSession() as client:
        async with client.get(f"{action_server}/health") as response:
            assert response.status == 200
        async with client.post(f"{action_server}/webhook", json=CALL) as response:
            assert response.status == 401
        async with client.post(f"{action_server}/webhook", headers=bearer("wrong"), json=CALL) as response:
            assert response.status == 401
        async with client.post(f"{action_server}/webhook", params={"token": token}, json=CALL) as response:
            assert response.status == 401  # never in the URL, where access logs keep it
        async with client.get(f"{action_server}/actions") as response:
            assert response.status == 401
        async with client.post(f"{action_server}/webhook", headers=bearer(token), json=CALL) as response:
            assert response.status == 200
            body = await response.json()
    assert body["responses"][0]["text"].startswith("We ship to US, CA.")


async def test_a_failing_call_answers_a_bare_error_and_logs_no_request_data(
    action_server: str, action_store: Settings, tmp_path: Path
) -> None:
    secret_email, customer_token = "carol.private@example.com", "signed-customer-token-XYZ"
    broken = {**CALL, "tracker": {**CALL["tracker"], "latest_message": f"mail {secret_email}",
                                  "events": [{"event": "user", "metadata": {"customer_token": customer_token}}],
                                  "slots": [secret_email]}}
    async with aiohttp.ClientSession(headers=bearer(action_store.action_server_token)) as client:
        async with client.post(f"{action_server}/webhook", json=broken) as response:
            assert response.status == 500
            answer = await response.json()
        async with client.get(f"{action_server}/no-such-route") as response:
            assert response.status == 404
            assert await response.json() == {"error": "not found"}
    assert set(answer) == {"error", "request_id"} and answer["error"] == "internal error"
    log = (tmp_path / "actions.log").read_text()
    assert answer["request_id"] in log
    assert secret_email not in log and customer_token not in log
    assert secret_email not in json.dumps(answer)


async def test_the_catalog_loads_at_start_not_at_the_first_search(action_server: str, tmp_path: Path) -> None:
    """The index and encoder load in the background once the server is up (#15.5): the first search does not wait."""
    log_path = tmp_path / "actions.log"
    for _ in range(1200):
        if "catalog index and encoder loaded" in log_path.read_text(errors="replace"):
            break
        await asyncio.sleep(0.25)
    else:
        pytest.fail(f"the action server did not load the catalog: {log_path.read_text(errors='replace')[-2000:]}")
