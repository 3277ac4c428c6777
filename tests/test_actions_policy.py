"""Shipping and payment answers come from store_policy.yml."""

from __future__ import annotations

from actions.policy import ActionPaymentProblem, ActionShippingInfo
from assistant.settings import Settings
from assistant.store_policy import load_store_policy
from tests.actions_harness import action_store, run, texts, tracker  # noqa: F401


async def test_shipping_lists_every_option_with_its_price(action_store: Settings) -> None:
    policy = load_store_policy(action_store.policy_file)
    _, messages = await run(ActionShippingInfo(), tracker("cart", text="how much is shipping", intent="shipping_info", entities=[]))
    assert texts(messages).startswith(policy.shipping_summary())
    assert "- Express shipping: $14.99, 1-2 business days" in texts(messages)


async def test_payment_answer_matches_the_problem_and_offers_a_person(action_store: Settings) -> None:
    policy = load_store_policy(action_store.policy_file)
    _, messages = await run(ActionPaymentProblem(), tracker("cart", text="I was charged twice", intent="payment_problem", entities=[]))
    [double_charge] = [p.answer for p in policy.payment_problems if p.id == "double_charge"]
    assert texts(messages).startswith(double_charge)
    assert messages[0]["buttons"] == [{"title": "Talk to a person", "payload": "/talk_to_human"}]
