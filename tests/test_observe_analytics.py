"""Analytics facts from Rasa's events, their report, chat-assisted orders, erasure (issue #14).

Trackers here are Rasa 3.6 event JSON as its HTTP API and event broker hand them out;
the store is real (SQLite and PostgreSQL). The same figures through the running stack are
in :mod:`tests.test_observe_stack`.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from assistant.cli.analytics import csv_rows, parse_since
from assistant.identity import sign_customer_token
from assistant.observe.broker_feed import EventFolder, store_event
from assistant.observe.fold import fold_tracker
from assistant.observe.report import build_report
from assistant.observe.unanswered import group_by_meaning
from assistant.store.db import Store, UnitOfWork
from assistant.store.models import AnalyticsEvent, CsatRating, Customer, Event, HandoffRequest
from assistant.store.repositories.analytics import AnalyticsRepository
from assistant.store.repositories.privacy import PrivacyRepository
from tests.store_fixtures import (  # noqa: F401  (fixtures)
    T0,
    add_order,
    catalog_file,
    customer_store,
    engine,
    postgres_url,
    products,
    session_factory,
    store_url,
)

SECRET = "analytics-test-secret"
_clock = itertools.count()


def verify(token: str, sent_at: float | None) -> str | None:
    from assistant.identity import verify_customer_token

    return verify_customer_token(token, SECRET, now=sent_at)


class Chat:
    """Rasa tracker events for one conversation, timestamped from ``start`` a second apart."""

    def __init__(self, start: datetime, customer: str | None = None, channel: str = "web") -> None:
        self.at = start.timestamp()
        self.metadata: dict[str, Any] = {"channel": channel}
        if customer is not None:
            self.metadata["customer_token"] = sign_customer_token(customer, SECRET, ttl_seconds=600, now=self.at)
        self.events: list[dict[str, Any]] = []
        self._add({"event": "action", "name": "action_session_start"})
        self._add({"event": "session_started"})
        self._add({"event": "action", "name": "action_listen"})

    def _add(self, event: dict[str, Any]) -> Chat:
        self.at += 1 + next(_clock) * 1e-6  # distinct timestamps, as Rasa's are
        self.events.append({**event, "timestamp": self.at})
        return self

    def user(self, text: str, intent: str) -> Chat:
        return self._add({"event": "user", "text": text, "parse_data": {"intent": {"name": intent, "confidence": 0.9}},
                          "input_channel": "gateway", "metadata": self.metadata})

    def external(self, intent: str) -> Chat:
        return self._add({"event": "user", "text": f"EXTERNAL: {intent}", "parse_data": {"intent": {"name": intent}},
                          "metadata": {"is_external": True}})

    def action(self, name: str) -> Chat:
        return self._add({"event": "action", "name": name})

    def slot(self, name: str, value: Any) -> Chat:
        return self._add({"event": "slot", "name": name, "value": value})

    def bot(self, text: str, custom: dict[str, Any] | None = None) -> Chat:
        return self._add({"event": "bot", "text": text, "data": {"custom": custom} if custom else {}})

    def shows(self, *ids: str, source: str | None = None) -> Chat:
        payload: dict[str, Any] = {"type": "products", "products": [{"id": pid} for pid in ids]}
        if source:
            payload["source"] = source
        return self.action("action_search_products").bot("Here's what I found", payload).slot("last_results", list(ids))


def contained(start: datetime) -> Chat:
    return Chat(start).user("red running shoes", "search_products").shows("P00001", "P00002").user("thanks", "thanks") \
        .action("utter_thanks").bot("You're welcome!")


def ended_on_fallback(start: datetime) -> Chat:
    return Chat(start).user("hi", "greet").action("utter_greet").bot("Hello!") \
        .user("do you price match", "nlu_fallback").action("action_default_fallback").bot("Sorry, I didn't get that.")


def handed_off(start: datetime) -> Chat:
    return Chat(start, channel="telegram").user("I want a person", "talk_to_human").action("action_handoff") \
        .bot("I've asked a person").slot("handoff_requested", True)


def store(factory: sessionmaker[Session], sender: str, chat: Chat) -> int:
    with UnitOfWork(factory) as uow:
        added = AnalyticsRepository(uow.session).add(fold_tracker(sender, chat.events, verify))
        uow.commit()
    return added


def report(factory: sessionmaker[Session], since: datetime = T0 - timedelta(days=1), **kwargs: Any) -> dict[str, Any]:
    with UnitOfWork(factory) as uow:
        return build_report(uow.reports, since, T0 + timedelta(days=30), **kwargs)


def test_a_tracker_folds_into_facts_with_the_verified_customer() -> None:
    chat = Chat(T0, customer="C1").user("red shoes", "search_products").shows("P00001", source=None) \
        .user("add the first", "add_to_cart").action("action_add_to_cart") \
        .bot("Added", {"type": "cart", "items": [{"product_id": "P00001", "quantity": 1}]}) \
        .user("asdf qwer", "nlu_fallback").action("action_default_fallback")
    facts = fold_tracker("web-customer-C1", chat.events, verify)
    assert [f.kind for f in facts] == [
        "conversation_start", "message", "products_shown", "message", "add_to_cart", "cart_shown", "message", "fallback",
    ]
    assert {f.customer_id for f in facts[1:]} == {"C1"} and facts[0].customer_id is None
    assert facts[2].product_ids == ["P00001"] and facts[2].source == "search"
    assert facts[-1].text == "asdf qwer" and facts[1].text is None  # only the misunderstood words are kept
    forged = Chat(T0).user("hi", "greet")
    forged.events[-1]["metadata"] = {"customer_token": sign_customer_token("C1", "another secret", now=T0.timestamp())}
    assert all(f.customer_id is None for f in fold_tracker("x", forged.events, verify))


def test_three_conversations_give_exactly_their_counts_and_replays_add_nothing(
    session_factory: sessionmaker[Session],
) -> None:
    chats = {"a": contained(T0), "b": ended_on_fallback(T0), "c": handed_off(T0), "d": Chat(T0).external("cart_reminder")}
    first = sum(store(session_factory, sender, chat) for sender, chat in chats.items())
    assert first > 0
    assert sum(store(session_factory, sender, chat) for sender, chat in chats.items()) == 0  # a replay
    figures = report(session_factory)
    assert figures["conversations"] == 4
    assert figures["shopper_started_conversations"] == 3 and figures["proactive_conversations"] == 1
    assert (figures["contained_conversations"], figures["fallback_ended_conversations"],
            figures["handed_off_conversations"]) == (1, 1, 1)
    assert figures["containment_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert figures["handoff_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert figures["fallback_rate"] == pytest.approx(1 / 5, abs=1e-4)  # one of five shopper messages
    assert figures["conversations_by_channel"] == {"web": 2, "telegram": 1, "unknown": 1}  # a reminder names no input channel
    assert figures["top_unanswered"][0]["example"] == "do you price match"
    assert report(session_factory, channel="telegram")["conversations"] == 1


def test_a_broker_stream_gives_the_same_facts_as_the_tracker(
    session_factory: sessionmaker[Session], customer_store: Store,
) -> None:
    import json

    chat = ended_on_fallback(T0)
    folder = EventFolder(verify)
    added = sum(store_event(customer_store, folder, json.dumps({**e, "sender_id": "s1"}).encode()) for e in chat.events)
    assert added == len(fold_tracker("s1", chat.events, verify))
    assert store(session_factory, "s1", chat) == 0  # the tracker feed finds every key already there
    assert store_event(customer_store, folder, b"not json") == 0
    with session_factory() as session:
        fallback = session.scalars(select(AnalyticsEvent).where(AnalyticsEvent.kind == "fallback")).one()
    assert fallback.text == "do you price match"


def test_zero_result_searches_and_cart_rates(session_factory: sessionmaker[Session]) -> None:
    zero = Chat(T0).user("purple unicorn saddle", "search_products").action("action_search_products") \
        .bot("Sorry, I couldn't find anything").slot("last_results", [])
    bought = contained(T0).user("add the first", "add_to_cart").action("action_add_to_cart")
    recommended = Chat(T0).user("what should I get", "recommend").action("action_recommend") \
        .bot("You might like", {"type": "products", "source": "recommend", "products": [{"id": "P00003"}]})
    for sender, chat in {"z": zero, "b": bought, "r": recommended}.items():
        store(session_factory, sender, chat)
    figures = report(session_factory)
    assert figures["zero_result_searches"] == [{"query": "purple unicorn saddle", "count": 1}]
    assert figures["search_to_cart_rate"] == pytest.approx(0.5)  # two with a search, one added after it
    assert figures["recommendation_to_cart_rate"] == 0.0


def test_chat_assisted_orders_within_seven_days_of_showing_their_product(
    session_factory: sessionmaker[Session], products: list[str],
) -> None:
    for customer, start in (("C2", T0), ("C9", T0), ("CN", T0)):
        store(session_factory, f"web-customer-{customer}", Chat(start, customer=customer)
              .user("red shoes", "search_products").shows("P00001", "P00002"))
    with UnitOfWork(session_factory) as uow:
        for customer, days, product in (("C2", 2, "P00001"), ("C9", 9, "P00001"), ("CN", 2, "P00007")):
            uow.customers.upsert(customer)
            uow.session.add(Event(customer_id=customer, type="purchase", product_id=product, at=T0 + timedelta(days=days)))
        add_order(uow.session, "SA-1", "C9", "c9@example.com", "paid", placed_at=T0 + timedelta(days=3),
                  product_id="P00002")
        uow.commit()
    figures = report(session_factory)
    # C2's storefront order 2 days later and C9's imported order 3 days later count; C9's order
    # 9 days later does not, nor CN's order of a product the chat never showed.
    assert figures["chat_assisted_orders"] == 2
    assert figures["chat_assisted_revenue"] == pytest.approx(11.0 + 12.5)  # P00001's price + SA-1's total


def test_erasure_keeps_the_counts_and_names_nobody(session_factory: sessionmaker[Session], products: list[str]) -> None:
    sender = "web-customer-C5"
    chat = Chat(T0, customer="C5").user("do you price match", "nlu_fallback").action("action_default_fallback")
    with UnitOfWork(session_factory) as uow:
        uow.customers.upsert("C5")
        uow.commit()
    store(session_factory, sender, chat)
    with UnitOfWork(session_factory) as uow:
        analytics = AnalyticsRepository(uow.session)
        analytics.note_sender(sender)
        analytics.add_rating(sender, "C5", "web", 2, "the agent was rude to me, Carol")
        uow.commit()
    before = report(session_factory)
    with UnitOfWork(session_factory) as uow:
        PrivacyRepository(uow.session).erase("C5", {sender})
        uow.commit()
    with session_factory() as session:
        facts = list(session.scalars(select(AnalyticsEvent)))
        rating = session.scalars(select(CsatRating)).one()
        assert AnalyticsRepository(session).due_senders() == []
    assert facts and all(f.customer_id is None and f.text is None and f.sender_id.startswith("erased-") for f in facts)
    assert len({f.sender_id for f in facts}) == 1  # the conversation still groups together
    assert rating.comment is None and rating.customer_id is None and rating.sender_id.startswith("erased-")
    after = report(session_factory)
    assert after["conversations"] == before["conversations"] == 1
    assert after["csat"] == before["csat"]
    assert after["top_unanswered"] == []


def test_a_customer_who_refused_personalization_is_not_linked(session_factory: sessionmaker[Session]) -> None:
    with UnitOfWork(session_factory) as uow:
        uow.session.add(Customer(id="C6", personalization_consent=False, created_at=T0))
        uow.commit()
    store(session_factory, "web-customer-C6", Chat(T0, customer="C6").user("red shoes", "search_products").shows("P1"))
    with session_factory() as session:
        assert set(session.scalars(select(AnalyticsEvent.customer_id))) == {None}


def test_claim_times_and_handoff_reasons_come_from_the_queue(session_factory: sessionmaker[Session]) -> None:
    with UnitOfWork(session_factory) as uow:
        for n, (reason, claim) in enumerate((("talk_to_human", 30), ("frustration", 90), ("talk_to_human", None))):
            uow.session.add(HandoffRequest(
                sender_id=f"s{n}", channel="web", reason=reason, status="waiting", created_at=T0,
                claimed_at=T0 + timedelta(seconds=claim) if claim else None,
            ))
        analytics = AnalyticsRepository(uow.session)
        for score in (4, 5, 3):
            analytics.add_rating("s0", None, "web", score).at = T0
        uow.commit()
    figures = report(session_factory)
    assert figures["handoffs_by_reason"] == {"talk_to_human": 2, "frustration": 1}
    assert figures["median_claim_seconds"] == 60.0
    assert figures["csat"] == {"average": 4.0, "count": 3, "distribution": {"1": 0, "2": 0, "3": 1, "4": 1, "5": 1}}


def test_unanswered_messages_group_by_meaning_with_the_encoder() -> None:
    from assistant.observe.unanswered import catalog_encoder
    from assistant.settings import default_embedding_model

    texts = ["do you price match", "Do you price match?", "will you match a lower price from another shop",
             "what is your phone number", "how do I track my parcel"]
    groups = group_by_meaning(texts, catalog_encoder(default_embedding_model()))
    assert groups[0] == {"example": "do you price match", "count": 3,
                         "variants": ["do you price match", "will you match a lower price from another shop"]}
    assert sorted(group["example"] for group in groups[1:]) == ["how do i track my parcel", "what is your phone number"]
    by_wording = group_by_meaning(texts, None)  # without the encoder only the same words (case, "?" aside) merge
    assert by_wording[0] == {"example": "do you price match", "count": 2, "variants": ["do you price match"]}
    assert len(by_wording) == 4


def test_since_and_csv() -> None:
    now = datetime(2026, 12, 2, tzinfo=UTC)
    assert parse_since("30d", now) == now - timedelta(days=30)
    assert parse_since("2026-11-01", now) == datetime(2026, 11, 1, tzinfo=UTC)
    with pytest.raises(Exception, match="30d"):
        parse_since("last month", now)
    rows = list(csv_rows({"conversations": 3, "csat": {"average": 4.0, "distribution": {"4": 1}},
                          "zero_result_searches": [{"query": "x", "count": 2}], "definitions": {"a": "b"}}))
    assert rows == [("conversations", "", 3), ("csat", "average", 4.0), ("csat", "distribution.4", 1),
                    ("zero_result_searches", "x", 2)]
