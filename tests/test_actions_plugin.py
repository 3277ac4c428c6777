"""The real action server (``python -m rasa_sdk --actions actions``) refuses calls without its token."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from assistant.identity import sign_customer_token
from assistant.settings import Settings
from tests.action_server import running_action_server
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
def action_server(action_store: Settings, tmp_path: Path) -> Iterator[str]:
    with running_action_server(action_store, tmp_path / "actions.log") as url:
        yield url


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


async def test_the_web_apps_search_routes_need_the_token_and_search_the_index(action_server: str, action_store: Settings) -> None:
    """``POST /search`` and ``POST /embed`` serve the web app the action server's index (#15.7), only with the token."""
    call = {"q": "waterproof hiking boots under $150", "k": 3}
    async with aiohttp.ClientSession() as anonymous:
        for path, body in (("/search", call), ("/embed", {"texts": ["boots"]})):
            async with anonymous.post(f"{action_server}{path}", json=body) as response:
                assert response.status == 401
        async with anonymous.get(f"{action_server}/search/status") as response:
            assert response.status == 401
    async with aiohttp.ClientSession(headers=bearer(action_store.action_server_token)) as client:
        async with client.post(f"{action_server}/search", json=call) as response:
            assert response.status == 200
            result = await response.json()
        async with client.get(f"{action_server}/search/status") as response:
            assert await response.json() == {"search": "ready"}
        async with client.post(f"{action_server}/search", json={**call, "k": 0}) as response:
            assert response.status == 400 and "k must be between" in (await response.json())["error"]
        forged = {**call, "customer_token": "forged.token"}
        async with client.post(f"{action_server}/search", json=forged) as response:
            assert response.status == 403 and "customer token" in (await response.json())["error"]
        signed = {**call, "customer_token": sign_customer_token("alice", action_store.store_secret, 600)}
        async with client.post(f"{action_server}/search", json=signed) as response:
            assert response.status == 200
            personal = await response.json()
        async with client.post(f"{action_server}/embed", json={"texts": ["hiking boots", "boots for hiking", "a kettle"]}) as response:
            assert response.status == 200
            vectors = (await response.json())["vectors"]
    assert result["hits"] and all(hit["price"] <= 150 for hit in result["hits"]) and result["applied_filters"]
    assert sorted(hit["id"] for hit in personal["hits"]) == sorted(hit["id"] for hit in result["hits"])
    assert len(vectors) == 3 and all(abs(sum(x * x for x in vector) - 1) < 1e-3 for vector in vectors)
    same = sum(a * b for a, b in zip(vectors[0], vectors[1], strict=True))
    other = sum(a * b for a, b in zip(vectors[0], vectors[2], strict=True))
    assert same > other
