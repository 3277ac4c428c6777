"""``/metrics`` on the web app and the action server, ``/readyz`` on the web app (issue #14).

The counts made through the whole stack (a fallback, a zero-result search) and ``/readyz``
with Rasa stopped are in :mod:`tests.test_observe_stack`; here: who may scrape, the text
format, and readiness naming what is down.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from assistant.launcher import free_port
from assistant.observe.metrics import handoff_reason, scrape_allowed
from assistant.settings import Settings
from assistant.web.views_observe import action_server_health_url
from tests.actions_harness import action_store  # noqa: F401
from tests.test_actions_plugin import action_server  # noqa: F401
from tests.test_web_gateway import gateway, web_settings

ACTION_SERVER_METRICS = {
    "shop_nlu_fallback", "shop_handoffs", "shop_search_requests", "shop_search_zero_results",
    "shop_action_errors", "shop_recommendations",
}


@pytest.mark.parametrize(
    ("remote", "header", "token", "allowed"),
    [
        ("127.0.0.1", "", "", True),
        ("::1", "", "", True),
        ("10.0.0.5", "", "", False),
        ("10.0.0.5", "Bearer s3cret", "s3cret", True),
        ("10.0.0.5", "Bearer wrong", "s3cret", False),
        ("10.0.0.5", "Bearer ", "", False),  # no token configured: nothing opens it beyond loopback
        ("10.0.0.5", "s3cret", "s3cret", False),  # not a bearer header
        (None, "", "", False),
        ("not-an-address", "", "", False),
    ],
)
def test_who_may_scrape(remote: str | None, header: str, token: str, allowed: bool) -> None:
    assert scrape_allowed(remote, header, token) is allowed


def test_handoff_reason_labels_stay_few() -> None:
    assert handoff_reason(None) == "unspecified"
    assert handoff_reason("talk_to_human") == "talk_to_human"
    assert handoff_reason("x" * 200) == "other"


def test_action_server_health_sits_beside_its_webhook() -> None:
    assert str(action_server_health_url("http://10.1.2.3:5055/webhook")) == "http://10.1.2.3:5055/health"


async def test_action_server_serves_its_metrics_to_loopback(action_server: str) -> None:
    async with aiohttp.ClientSession() as client, client.get(f"{action_server}/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = await response.text()
    names = {family.name for family in text_string_to_metric_families(text)}
    assert ACTION_SERVER_METRICS <= names


async def test_web_metrics_and_readiness_with_nothing_behind_it(tmp_path: Path) -> None:
    settings: Settings = web_settings(tmp_path, f"http://127.0.0.1:{free_port()}")
    client = await gateway(settings)
    try:
        metrics = await client.get("/metrics")
        assert metrics.status == 200
        names = {family.name for family in text_string_to_metric_families(await metrics.text())}
        assert {"shop_chat_messages", "shop_chat_reply_seconds"} <= names
        ready = await client.get("/readyz")
        assert ready.status == 503
        body = await ready.json()
        assert body["ready"] is False and body["parts"]["store"] is True
        assert {"rasa", "action_server", "index"} <= set(body["not_ready"])
        assert "rasa" in body["error"]
        assert (await client.get("/healthz")).status == 200  # liveness: this process serves
    finally:
        await client.close()
