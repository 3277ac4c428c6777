"""Analytics, CSAT, the dashboard, metrics and readiness through the real stack (issue #14).

This module runs its own action server, Rasa and web app on a customer store of its own,
so its counts are exact whatever else the suite does, and it may stop its Rasa at the end
(``/readyz`` must then answer 503). Conversations are held through ``/api/chat`` as the
widget holds them; the figures are read as an operator reads them, from
``shop-assistant analytics ingest`` and ``analytics report --json``, and on the admins'
dashboard in headless Chromium (screenshot under ``tests/artifacts/``). It lives beside
the browser tests for their Chromium fixtures.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.identity import sign_customer_token
from assistant.launcher import Ports, child_environment, running_stack
from assistant.observe.report import DEFINITIONS
from assistant.settings import PROJECT_ROOT, Settings, load_settings
from assistant.store.db import make_engine
from assistant.store.models import AnalyticsEvent, Product
from tests.agent_console import AgentClient, ShopperClient, create_agent
from tests.conftest import MODEL_PATH, TEST_STORE, always_staffed_policy

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
# Made-up words, no product word to search: the module asks the running model which one it is
# unsure of (nlu_fallback), since which made-up word a retrained model doubts is not fixed.
NONSENSE = ("blorb", "florp", "snorf", "gliv", "wubzy", "plonk", "quib", "zarn", "vosh", "trindle")
NOTHING_MATCHES = "hiking boots under $1"


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from assistant.demo_setup import set_up_demo_store

    if not MODEL_PATH.exists():
        pytest.fail(f"no trained model at {MODEL_PATH}; `make test` trains it first")
    directory = tmp_path_factory.mktemp("observe-store")
    settings = load_settings(TEST_STORE, env={"SHOP_DATABASE_URL": f"sqlite:///{directory / 'customers.db'}",
                                              "SHOP_POLICY_FILE": str(always_staffed_policy(directory))})
    set_up_demo_store(settings, progress=False)
    ports, logs = Ports.free(), tmp_path_factory.mktemp("observe-logs")
    with running_stack(settings, MODEL_PATH, ports, log_dir=logs, demo_mode=True) as services:
        warm_up(f"http://127.0.0.1:{ports.action_server}", settings.action_server_token)
        yield {"settings": settings, "ports": ports, "services": services, "logs": logs,
               "gibberish": unsure_of(f"http://127.0.0.1:{ports.rasa}", settings.rasa_token),
               "web": f"http://127.0.0.1:{ports.web}", "actions": f"http://127.0.0.1:{ports.action_server}"}


def warm_up(actions: str, token: str) -> None:
    """One search straight to the action server before the tests (no conversation anywhere):
    it loads its index and encoder on first use, which on a loaded machine can outlast the
    gateway's time-out for a shopper's first search."""
    import urllib.request

    call = {"next_action": "action_search_products", "sender_id": "warm-up", "version": "3.6.21", "domain": {},
            "tracker": {"sender_id": "warm-up", "slots": {}, "latest_message": {"text": "hiking boots", "entities": [],
                        "intent": {"name": "search_products"}}, "events": [], "paused": False, "followup_action": None,
                        "active_loop": {}, "latest_action_name": "action_listen"}}
    request = urllib.request.Request(f"{actions}/webhook", data=json.dumps(call).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=600) as response:
        assert response.status == 200


def unsure_of(rasa: str, token: str) -> str:
    """The first of :data:`NONSENSE` the model's NLU falls back on (Rasa's own parse endpoint)."""
    import urllib.request

    for word in NONSENSE:
        request = urllib.request.Request(f"{rasa}/model/parse?token={token}", data=json.dumps({"text": word}).encode(),
                                         method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=600) as response:
            if json.load(response)["intent"]["name"] == "nlu_fallback":
                return word
    pytest.fail(f"the model is sure of every one of {NONSENSE}: add made-up words it doubts")


def cli(own: dict[str, Any], *args: str) -> str:
    """Run ``shop-assistant`` as an operator would, against this module's store and Rasa."""
    env = child_environment(own["settings"], own["ports"])
    done = subprocess.run([sys.executable, "-m", "assistant.cli", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def report(own: dict[str, Any], since: datetime) -> dict[str, Any]:
    cli(own, "analytics", "ingest")
    return dict(json.loads(cli(own, "analytics", "report", "--since", since.isoformat(), "--json")))


async def counters(url: str) -> dict[str, float]:
    """``{"name{label=value}": value}`` of a ``/metrics`` page."""
    async with aiohttp.ClientSession() as client, client.get(f"{url}/metrics") as response:
        assert response.status == 200
        page = await response.text()
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(page):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            found[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return found


async def say(shopper: ShopperClient, message: str, **extra: Any) -> list[dict[str, Any]]:
    async with shopper.http.post("/api/chat", json={"message": message, **extra}) as response:
        assert response.status == 200, await response.text()
        return list((await response.json())["messages"])


async def press(shopper: ShopperClient, payload: str) -> list[dict[str, Any]]:
    async with shopper.http.post("/api/chat", json={"payload": payload}) as response:
        assert response.status == 200, await response.text()
        return list((await response.json())["messages"])


async def test_ready_when_every_part_is(own: dict[str, Any]) -> None:
    """Readiness follows the parts: the launcher waits only for liveness, so the web app may still
    be loading its index (#15.7: the action server's, which ``/readyz`` asks) or a probe may time out on
    a loaded machine when the first call comes;
    like a load balancer, the test asks again until the answer settles."""
    deadline = asyncio.get_running_loop().time() + 300
    async with aiohttp.ClientSession() as client:
        while True:
            async with client.get(f"{own['web']}/readyz") as response:
                status, body = response.status, await response.json()
            if status == 200 or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(1)
    assert status == 200, body
    assert body == {"ready": True, "parts": {"rasa": True, "action_server": True, "index": True, "store": True}}


async def test_three_conversations_give_exactly_their_counts(
    own: dict[str, Any], new_page: Any, screenshot: Any,
) -> None:
    since = datetime.now(UTC)
    settings: Settings = own["settings"]
    contained, lost, helped = ShopperClient(own["web"]), ShopperClient(own["web"]), ShopperClient(own["web"])
    agent = AgentClient(own["web"])
    try:
        await say(contained, "hi")
        assert any(reply.get("custom", {}).get("type") == "products" for reply in await say(contained, "waterproof hiking boots"))
        await say(contained, "thanks")

        await say(lost, "hi")
        await say(lost, own["gibberish"])

        await say(helped, "i want to talk to a person")
        await agent.login(*create_agent(settings))
        item = await agent.queue_item(helped.sender(settings.web_secret))
        assert (await agent.call("POST", f"/conversations/{item['id']}/claim"))[0] == 200
        assert (await agent.call("POST", f"/conversations/{item['id']}/close"))[0] == 200
        question = (await helped.history())[-1]
        assert question["text"].startswith("How did we do?") and len(question["buttons"]) == 5
        thanks = await press(helped, question["buttons"][3]["payload"])
        assert thanks[0]["text"].startswith("Thank you for rating us 4 out of 5")
        status, details = await agent.call("GET", f"/conversations/{item['id']}")
        assert status == 200 and [r["rating"] for r in details["csat"]] == [4]  # beside the conversation
    finally:
        for client in (contained, lost, helped, agent):
            await client.close()

    figures = report(own, since)
    assert figures["conversations"] == figures["shopper_started_conversations"] == 3
    assert (figures["contained_conversations"], figures["fallback_ended_conversations"],
            figures["handed_off_conversations"]) == (1, 1, 1)
    assert figures["containment_rate"] == figures["handoff_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert figures["csat"]["count"] == 1 and figures["csat"]["average"] == 4.0
    assert figures["handoffs_by_reason"] == {"talk_to_human": 1} and figures["handoffs_by_channel"] == {"web": 1}
    assert figures["top_unanswered"][0]["example"] == own["gibberish"]
    again = report(own, since)  # a second reading of the same trackers counts nothing twice
    assert {k: v for k, v in again.items() if k != "until"} == {k: v for k, v in figures.items() if k != "until"}

    admin, password = create_agent(settings, role="admin")
    page = await new_page("dashboard", base_url=own["web"], viewport={"width": 1400, "height": 1000})
    await page.goto("/agent/login")
    await page.get_by_test_id("login-username").fill(admin)
    await page.get_by_test_id("login-password").fill(password)
    await page.get_by_test_id("login-submit").click()
    await page.wait_for_url("**/agent")
    await page.goto("/agent/dashboard?since=1d")
    shown = {key: (await page.get_by_test_id(f"value-{key}").inner_text()).strip() for key in (
        "conversations", "shopper_started_conversations", "proactive_conversations", "containment_rate",
        "handoff_rate", "csat")}
    assert shown == {"conversations": "3", "shopper_started_conversations": "3", "proactive_conversations": "0",
                     "containment_rate": "33.3%", "handoff_rate": "33.3%", "csat": "4.00 / 5 (1)"}
    outcomes = page.get_by_test_id("chart-outcomes")
    for label in ("Contained: 1", "Ended on a fallback: 1", "Handed to a person: 1"):
        assert await outcomes.locator("title", has_text=label).count() == 1
    how = await page.get_by_test_id("figure-containment_rate").locator(".db-how").inner_text()
    assert how == DEFINITIONS["containment_rate"]  # each figure says how it is computed
    await screenshot(page, "dashboard")


async def logged(log: Path, text: str, attempts: int = 100) -> bool:
    """Whether ``text`` reaches ``log``: aiohttp writes its access line after the response is sent, so it may trail the reply."""
    for _ in range(attempts):
        if text in log.read_text():
            return True
        await asyncio.sleep(0.1)
    return False


async def test_metrics_count_a_fallback_and_a_zero_result_search(own: dict[str, Any]) -> None:
    before, web_before = await counters(own["actions"]), await counters(own["web"])
    shopper = ShopperClient(own["web"])
    trace = f"obs-trace-{os.getpid()}-{int(datetime.now(UTC).timestamp())}"
    try:
        await say(shopper, own["gibberish"])
        async with shopper.http.post("/api/chat", json={"message": NOTHING_MATCHES},
                                     headers={"X-Request-ID": trace}) as response:
            assert response.status == 200 and response.headers["X-Request-ID"] == trace
            replies = (await response.json())["messages"]
    finally:
        await shopper.close()
    # The request id travelled web app -> Rasa (message metadata) -> action server, into both logs as JSON.
    traced = [json.loads(line) for line in (own["logs"] / "actions.log").read_text().splitlines()
              if trace in line and line.startswith("{")]
    assert any(line["msg"].startswith("action_search_products answered") for line in traced)
    assert await logged(own["logs"] / "web.log", trace)
    assert any("couldn't find anything" in (reply.get("text") or "") for reply in replies), replies
    after, web_after = await counters(own["actions"]), await counters(own["web"])
    assert after["shop_nlu_fallback_total"] - before["shop_nlu_fallback_total"] == 1
    assert after["shop_search_zero_results_total"] - before["shop_search_zero_results_total"] == 1
    assert after["shop_search_requests_total"] - before["shop_search_requests_total"] == 1
    assert web_after["shop_chat_messages_total{channel=web}"] - web_before.get("shop_chat_messages_total{channel=web}", 0) == 2
    assert web_after["shop_chat_reply_seconds_count"] - web_before.get("shop_chat_reply_seconds_count", 0) == 2


async def test_orders_after_a_chat_count_as_chat_assisted_within_seven_days(own: dict[str, Any]) -> None:
    settings: Settings = own["settings"]
    since = datetime.now(UTC)
    shown: dict[str, list[str]] = {}
    for customer in ("OBS-2DAYS", "OBS-9DAYS", "OBS-NEVER"):
        shopper = ShopperClient(own["web"])
        try:
            replies = await say(shopper, "waterproof hiking boots",
                                customer_token=sign_customer_token(customer, settings.store_secret))
        finally:
            await shopper.close()
        [products] = [reply["custom"]["products"] for reply in replies if reply.get("custom", {}).get("type") == "products"]
        shown[customer] = [product["id"] for product in products]
    cli(own, "analytics", "ingest")
    # The chats happened "2 days" and "9 days" before the orders placed now: move their facts back.
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session, session.begin():
            for customer, days in (("OBS-2DAYS", 2), ("OBS-9DAYS", 9), ("OBS-NEVER", 2)):
                for fact in session.scalars(select(AnalyticsEvent).where(AnalyticsEvent.customer_id == customer)):
                    fact.at -= timedelta(days=days)
            unseen = next(pid for pid in session.scalars(select(Product.id).order_by(Product.id))
                          if pid not in shown["OBS-NEVER"])
    finally:
        engine.dispose()
    orders = [{"type": "order", "customer_id": "OBS-2DAYS", "product_id": shown["OBS-2DAYS"][0]},
              {"type": "order", "customer_id": "OBS-9DAYS", "product_id": shown["OBS-9DAYS"][0]},
              {"type": "order", "customer_id": "OBS-NEVER", "product_id": unseen}]
    async with aiohttp.ClientSession() as client, client.post(
        f"{own['web']}/api/events", json=orders, headers={"Authorization": f"Bearer {settings.storefront_key}"}
    ) as response:
        assert response.status in (200, 201, 202), await response.text()
    figures = json.loads(cli(own, "analytics", "report", "--since", since.isoformat(), "--json", "--exact-wording"))
    assert figures["chat_assisted_orders"] == 1
    prices = {p["id"]: p["price"] for p in map(json.loads, settings.catalog_path.read_text().splitlines())}
    assert figures["chat_assisted_revenue"] == pytest.approx(prices[shown["OBS-2DAYS"][0]])


async def test_not_ready_with_rasa_stopped(own: dict[str, Any]) -> None:
    rasa = next(service for service in own["services"] if service.name == "rasa server")
    os.killpg(rasa.process.pid, signal.SIGTERM)
    rasa.process.wait(timeout=60)
    async with aiohttp.ClientSession() as client:
        async with client.get(f"{own['web']}/readyz") as response:
            assert response.status == 503
            body = await response.json()
        async with client.get(f"{own['web']}/healthz") as response:
            assert response.status == 200  # alive, just not ready
    assert body["not_ready"] == ["rasa"] and "rasa" in body["error"]
