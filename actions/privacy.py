"""Consent and privacy in conversation: ask once, change by chat, show what we know, erase.

Only a verified customer (signed token) has data to show, consent to give or data to
erase; a guest is told these need the store login. Every request leaves an audit row
(``privacy_summary``, ``consent_change``, ``data_erasure``) that outlives the erasure.

Erasure: the store deletes events, carts, reminders, product alerts and the profile and anonymizes the
orders the law makes us keep (:class:`assistant.store.repositories.PrivacyRepository`).
The current conversation is reset with ``Restarted`` (slots and visible history go; Rasa
runs the action inside that conversation, so it cannot delete its own tracker mid-turn):
its first message is ``{"type": "conversation_erased"}``, on which the web gateway replaces
the conversation's events in Rasa with nothing once the turn is over, and the widget
clears the page. Transcripts never show what came before a restart.
Another conversation of the same customer (their last one, if it differs) is emptied
through Rasa's HTTP API with the Rasa token the action server receives from the launcher.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, Restarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.base import ShopAction
from actions.context import settings, unit_of_work, verified_customer
from actions.replies import day
from actions.shopper import remember_customer
from assistant.backend.outbox import tell_store
from assistant.identity import EXPORT_LINK_TTL, sign_export_link
from assistant.rasa_api import RasaApiError, erase_conversation
from assistant.store.db import UnitOfWork
from assistant.store.models import utcnow
from assistant.store.repositories.privacy import DataSummary

log = logging.getLogger(__name__)

NEEDS_LOGIN = (
    "I can only do that for a signed-in customer, so that nobody else can see or change your data. "
    "Please sign in to the store and ask me again here."
)
WEB_CHANNEL = "gateway"  # the web widget's channel: the only one that renders the download link
ERASED_MARKER = "conversation_erased"  # tells the web gateway to forget this conversation in Rasa
CONSENT_QUESTION = "May I use your order history to personalize suggestions?"
CONSENT_BUTTONS = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
SAYS_NO = re.compile(
    r"\b(stop|quit|don'?t|do not|dont|no longer|never|not|revoke|withdraw|opt(?:ing)? out|disable|turn off|forget)\b", re.I
)


def _intent(tracker: Tracker) -> str | None:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


def wants_personalization(tracker: Tracker) -> bool:
    """On or off from the ``consent`` entity, else from the words ("stop using my history")."""
    for value in tracker.get_latest_entity_values("consent"):
        if str(value).lower() in ("on", "off"):
            return str(value).lower() == "on"
    return not SAYS_NO.search(str((tracker.latest_message or {}).get("text") or ""))


def set_consent(uow: UnitOfWork, customer_id: str, consent: bool, via: str) -> None:
    """Store the choice (and when it was asked, if it never was) with its audit row."""
    customer = uow.customers.get(customer_id)
    before = customer.personalization_consent if customer else None
    uow.customers.upsert(customer_id, personalization_consent=consent)
    if customer is not None and customer.consent_asked_at is None:
        uow.customers.upsert(customer_id, consent_asked_at=utcnow())
    uow.audit.record(customer_id, "consent_change", {"personalization": {"from": before, "to": consent}, "via": via})
    tell_store(uow, settings(), "consent_changed", {"customer_id": customer_id, "personalization": consent, "via": via})


def summary_text(summary: DataSummary, retention_years: int) -> str:
    consent = {True: "yes", False: "no", None: "not asked yet"}[summary.personalization_consent]
    profile = ", ".join(
        part for part in (
            summary.name and f"name {summary.name}", summary.email and f"e-mail {summary.email}",
            summary.loyalty_tier and f"loyalty tier {summary.loyalty_tier}",
        ) if part
    ) or "no name or e-mail on file"
    orders = f"{summary.order_count} order{'s' if summary.order_count != 1 else ''}"
    if summary.latest_order is not None:
        latest = summary.latest_order
        orders += f", the latest {latest.order_number} on {day(latest.placed_at)} ({latest.status.replace('_', ' ')})"
    return "\n".join([
        "Here's what we store about you:",
        f"- Profile: {profile}; customer since {day(summary.member_since)}",
        f"- Use of your history for suggestions: {consent}; marketing messages: {'yes' if summary.marketing_consent else 'no'}",
        f"- Orders: {orders}",
        f"- Activity: {summary.view_count} product views, {summary.search_count} searches, "
        f"{summary.cart_event_count} cart changes",
        f"- Cart: {summary.cart_items} item{'s' if summary.cart_items != 1 else ''}",
        f"- Product alerts: {summary.active_alerts} active",
        "Say \"stop using my history\" to turn personalization off, or \"delete my data\" to erase it "
        f"(orders are kept anonymized for {retention_years} years for tax and accounting).",
    ])


class ActionPrivacySummary(ShopAction):
    action_name = "action_privacy_summary"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        with unit_of_work() as uow:
            customer_id = remember_customer(uow, tracker)
            if customer_id is None:
                dispatcher.utter_message(text=NEEDS_LOGIN)
                return []
            summary = uow.privacy.summary(customer_id)
            assert summary is not None  # remember_customer created the row
            uow.audit.record(customer_id, "privacy_summary", {"channel": tracker.get_latest_input_channel()})
            uow.commit()
        dispatcher.utter_message(text=summary_text(summary, settings().order_retention_years))
        if tracker.get_latest_input_channel() == WEB_CHANNEL:
            link = sign_export_link(customer_id, settings().web_secret)
            dispatcher.utter_message(
                text=f"You can also download all of it as a JSON file; the link works for {EXPORT_LINK_TTL // 60} minutes.",
                json_message={"type": "data_export", "url": f"/api/me/export/{link}", "label": "Download my data (JSON)"},
            )
        return []


def offer_personalization(dispatcher: CollectingDispatcher, tracker: Tracker, uow: UnitOfWork) -> list[dict[str, Any]]:
    """Asks once, at the first moment history would help: called by action_recommend after its reply.

    Part of the recommendation's own action call rather than a second action, because every
    custom action costs Rasa a tracker round trip to the action server and another policy run
    (issue #15.3), and on the recommendation's unit of work (one per action call). The answer
    is routed by the rules that follow ``action_recommend``.
    """
    customer_id = remember_customer(uow, tracker)
    customer = uow.customers.get(customer_id) if customer_id else None
    if customer is None or customer.personalization_consent is not None or customer.consent_asked_at is not None:
        uow.commit()
        return []
    uow.customers.upsert(customer.id, consent_asked_at=utcnow())
    uow.commit()
    dispatcher.utter_message(text=CONSENT_QUESTION, buttons=CONSENT_BUTTONS)
    return [SlotSet("consent_question_pending", True)]


class ActionConsentChange(ShopAction):
    """"stop using my history" / "you can use my history", and the Yes/No to the question."""

    action_name = "action_consent_change"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        intent = _intent(tracker)
        answered = intent in ("affirm", "deny")
        if answered and not tracker.get_slot("consent_question_pending"):
            dispatcher.utter_message(response="utter_ok_anything_else" if intent == "affirm" else "utter_no_problem")
            return []
        consent = intent == "affirm" if answered else wants_personalization(tracker)
        with unit_of_work() as uow:
            customer_id = remember_customer(uow, tracker)
            if customer_id is None:
                dispatcher.utter_message(text=NEEDS_LOGIN)
                return [SlotSet("consent_question_pending", None)]
            set_consent(uow, customer_id, consent, via="question" if answered else "chat")
            uow.commit()
        if consent:
            text = ("Thanks! I'll use your orders and what you look at here to personalize suggestions. "
                    "Say \"stop using my history\" any time to turn it off.")
        else:
            text = ("Okay, I won't use your order history for suggestions. "
                    "You can change that any time by saying \"you can use my history\".")
        dispatcher.utter_message(text=text)
        return [SlotSet("consent_question_pending", None)]


class ActionAskDeleteConfirmation(ShopAction):
    action_name = "action_ask_delete_confirmation"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        with unit_of_work() as uow:
            customer_id = remember_customer(uow, tracker)
            summary = uow.privacy.summary(customer_id) if customer_id else None
            uow.commit()
        if summary is None:
            dispatcher.utter_message(text=NEEDS_LOGIN)
            return [SlotSet("pending_data_deletion", None)]
        kept = ""
        if summary.order_count:
            kept = (f" Your {summary.order_count} order{'s are' if summary.order_count != 1 else ' is'} kept for "
                    f"{settings().order_retention_years} years because tax and accounting law requires it, but anonymized "
                    "so it's no longer linked to you.")
        dispatcher.utter_message(
            text="This erases your browsing and search history, your cart and alerts, your preferences and your profile "
            f"(name and e-mail), and clears this conversation.{kept} It can't be undone. Shall I delete your data?",
            buttons=[{"title": "Yes, delete my data", "payload": "/affirm"}, {"title": "No, keep it", "payload": "/deny"}],
        )
        return [SlotSet("pending_data_deletion", True)]


class ActionDeleteMyData(ShopAction):
    action_name = "action_delete_my_data"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        if not tracker.get_slot("pending_data_deletion"):
            dispatcher.utter_message(text="There's no deletion waiting for a yes. Say \"delete my data\" if you want that.")
            return []
        customer_id = verified_customer(tracker)
        if customer_id is None:
            dispatcher.utter_message(text=NEEDS_LOGIN)
            return [SlotSet("pending_data_deletion", None)]
        with unit_of_work() as uow:
            customer = uow.customers.get(customer_id)  # read before anything records this conversation
            other = customer.last_sender_id if customer and customer.last_sender_id != tracker.sender_id else None
            report = uow.privacy.erase(customer_id, {tracker.sender_id} | ({other} if other else set()))
            cleared = [tracker.sender_id]
            if other:
                try:
                    erase_conversation(settings(), other)
                    cleared.append(other)
                except (RasaApiError, SQLAlchemyError):  # Rasa, or the production SQL tracker store
                    log.exception("could not clear another conversation of an erased customer")
            uow.audit.record(customer_id, "data_erasure", {
                "events_deleted": report.events_deleted, "carts_deleted": report.carts_deleted,
                "orders_anonymized": report.orders_anonymized, "conversations_cleared": len(cleared),
                "alerts_deleted": report.alerts_deleted,
            })
            uow.commit()
        kept = ""
        if report.orders_anonymized:
            kept = (f" I kept your {report.orders_anonymized} order{'s' if report.orders_anonymized != 1 else ''} "
                    f"for {settings().order_retention_years} years, as tax and accounting law requires, "
                    "anonymized: no name, e-mail or account is linked to them any more.")
        dispatcher.utter_message(json_message={"type": ERASED_MARKER})
        dispatcher.utter_message(
            text=f"Done. I deleted your history, cart, preferences and profile, and cleared this conversation.{kept}"
        )
        return [Restarted(), FollowupAction("action_listen")]
