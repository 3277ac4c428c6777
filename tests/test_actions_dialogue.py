"""Follow-ups resolved against the conversation state, on the real small index and store.

The product in focus (``selected_product``), the current topic (search slots plus
``recipient``/``interest``) and the list last shown (``last_results``) are set in tracker
fixtures the way earlier turns leave them; each action then answers against them.
"""

from __future__ import annotations

from typing import Any

from actions.answers import aspect_line
from actions.brands import ActionBrands
from actions.cart import ActionAddToCart
from actions.compare import ActionCompare, positions
from actions.complaint import ActionComplaint
from actions.handoff import ActionDefaultFallback
from actions.product_questions import ActionProductQuestion
from actions.reactions import ActionAcknowledge, ActionPriceReaction
from actions.replies import product_card, product_line
from actions.search import ActionSearchProducts
from assistant.settings import Settings
from tests.actions_harness import action_store, payloads, run, slots, texts, tracker  # noqa: F401

BOOTS_UNDER_150 = {"search_query": "waterproof hiking boots under $150", "price_max": 150.0, "color": None,
                   "brand": None, "size": None, "price_min": None, "product_type": None,
                   "last_results": ["B001", "B002", "B005", "B004"], "search_page": 0.0}


def asking(text: str, intent: str, focus: str | None = None, entities: list[dict[str, Any]] | None = None,
           **slot_values: Any) -> Any:
    """A tracker whose latest message is ``text``, after a hiking-boot search with ``focus`` open."""
    state = {**BOOTS_UNDER_150, "selected_product": focus, **slot_values}
    return tracker("search_new", text=text, intent=intent, entities=entities or [], slots=state)


async def test_it_is_the_product_in_focus_and_the_catalog_answers(action_store: Settings) -> None:
    events, messages = await run(ActionProductQuestion(), asking("is it waterproof", "ask_product_question", "B004"))
    assert texts(messages).startswith("No. The catalog says about the Canyon Trail Hiking Boots:")
    assert "\"Not waterproof.\"" in texts(messages)
    assert slots(events) == {"selected_product": "B004"}

    _, messages = await run(ActionProductQuestion(), asking("is this one waterproof?", "ask_product_question", "B001"))
    assert texts(messages).startswith("Yes. The catalog says about the Summit Pro Waterproof Hiking Boots:")


async def test_the_catalog_not_saying_is_said_plainly(action_store: Settings) -> None:
    _, messages = await run(ActionProductQuestion(), asking("is it safe for kids", "ask_product_question", "B001"))
    assert texts(messages).startswith("The catalog doesn't say that about the Summit Pro Waterproof Hiking Boots")


async def test_named_attributes_and_ordinals(action_store: Settings) -> None:
    events, messages = await run(ActionProductQuestion(), asking(
        "how much is the second one", "ask_product_question", "B001",
        entities=[{"entity": "ordinal", "value": "second"}]))
    assert texts(messages) == "The Ridgeline Waterproof Hiking Boots costs $149.00."
    assert slots(events) == {"selected_product": "B002"}

    _, messages = await run(ActionProductQuestion(), asking("can you give me some specifications", "ask_product_question", "B001"))
    assert "Sizes: 8, 9, 10, 11" in texts(messages) and "Rating: 4.6 out of 5" in texts(messages)

    _, messages = await run(ActionProductQuestion(), asking("what sizes and brand is it", "ask_product_question", "B005"))
    assert texts(messages) == "It's made by Trailpeak. Sizes: 6, 7, 8, 9."


def test_unknown_stock_is_never_called_in_or_out_of_stock() -> None:
    bare = {"id": "X1", "title": "Plain Mug", "price": 9.0, "currency": "USD", "stock": {}}
    assert "stock" not in product_line(1, bare)
    assert product_card(bare)["in_stock"] is None
    assert "in stock" not in aspect_line(bare, "stock").lower()
    assert product_line(1, {**bare, "stock": {"online": 0}}).endswith("out of stock")


async def test_brands_of_the_current_topic_with_counts(action_store: Settings) -> None:
    _, messages = await run(ActionBrands(), asking("what brands might you suggest?", "ask_brands"))
    assert texts(messages).startswith("Brands among the 4 best matches for \"waterproof hiking boots under $150\": "
                                      "Trailpeak (3), Northwall (1).")  # the topic's price cap holds
    assert [b["payload"] for b in messages[0]["buttons"]] == ["only Trailpeak", "only Northwall"]

    _, messages = await run(ActionBrands(), asking("what brands of running shoes do you have", "ask_brands"))
    assert "Swiftfoot (4), Pacer (1)" in texts(messages)


async def test_compare_the_first_two_as_text_and_table(action_store: Settings) -> None:
    _, messages = await run(ActionCompare(), asking("compare the first two", "compare_products"))
    [table] = payloads(messages, "comparison")
    assert [card["id"] for card in table["products"]] == ["B001", "B002"]
    price = next(row for row in table["rows"] if row["attribute"] == "Price")
    assert price["values"] == ["$129.99", "$149.00"]
    assert "Cheapest: Summit Pro Waterproof Hiking Boots." in texts(messages)
    assert positions("compare 1 and 3") == [0, 2] and positions("the second and third") == [1, 2]


async def test_which_is_better_for_a_purpose(action_store: Settings) -> None:
    _, messages = await run(ActionCompare(), asking("which is better for running", "compare_products",
                                                    last_results=["B001", "S003"]))
    assert "For running, the closest match in what the catalog says is the Trail Runner GTX" in texts(messages)


async def test_a_reaction_is_acknowledged_with_a_next_step(action_store: Settings) -> None:
    _, messages = await run(ActionAcknowledge(), asking("oh i see", "acknowledge", "B001"))
    assert texts(messages).startswith("Got it. Would you like to add the Summit Pro Waterproof Hiking Boots")
    _, messages = await run(ActionAcknowledge(), asking("hmm looks much better", "acknowledge"))
    assert texts(messages).startswith("Glad you like it! Say \"tell me about the second one\"")


async def test_too_expensive_goes_cheaper_within_the_topic(action_store: Settings) -> None:
    events, _ = await run(ActionPriceReaction(), asking("that's too much", "too_expensive"))
    state = slots(events)
    assert state["search_query"] == "waterproof hiking boots under $150" and state["price_max"] == 134.49
    assert set(state["last_results"]) == {"B001", "B004"}


async def test_no_budget_limit_lifts_the_cap_and_keeps_the_topic(action_store: Settings) -> None:
    events, _ = await run(ActionPriceReaction(), asking("budget is not a problem", "no_budget_limit"))
    state = slots(events)
    assert state["price_max"] is None and state["search_query"] == "waterproof hiking boots"
    assert "B006" in state["last_results"] or "B003" in state["last_results"]


async def test_an_interest_is_the_topic_and_a_vague_follow_up_refines_it(action_store: Settings) -> None:
    events, messages = await run(ActionSearchProducts(), tracker(
        "search_new", text="a gift for my sister, she likes hiking", entities=[]))
    state = slots(events)
    assert (state["recipient"], state["interest"]) == ("sister", "hiking")
    assert texts(messages).startswith("Here's what I found for hiking ideas for your sister")
    assert state["last_results"][0] == "B005"  # the women's boots lead for a sister

    events, _ = await run(ActionSearchProducts(), tracker(
        "search_new", text="something under $140", entities=[], slots=state))
    after = slots(events)
    assert after["search_query"] == state["search_query"] and after["price_max"] == 140.0
    assert after["interest"] == "hiking" and "selected_product" not in after
    assert set(after["last_results"][:3]) == {"B001", "B004", "B005"}  # the hiking boots under $140 lead


async def test_black_friday_is_not_a_colour(action_store: Settings) -> None:
    black = [{"entity": "color", "value": "black"}]
    events, _ = await run(ActionSearchProducts(), asking("it's black friday", "refine_search", entities=black, color="black"))
    assert slots(events)["color"] is None


async def test_it_adds_the_focused_product_only(action_store: Settings) -> None:
    events, messages = await run(ActionAddToCart(), asking(
        "I would like to put it in my basket", "add_to_cart", "B001", sender_id="focus-cart"))
    assert texts(messages).startswith("Added 1 x Summit Pro Waterproof Hiking Boots.")


async def test_fallback_searches_a_product_need_then_offers_likely_intents(action_store: Settings) -> None:
    events, messages = await run(ActionDefaultFallback(), asking("anything waterproof for hiking in the rain", "nlu_fallback"))
    assert payloads(messages, "products") and slots(events)["last_results"]

    unsure = asking("hmm what about the thing from before", "nlu_fallback")
    unsure.latest_message["intent_ranking"] = [
        {"name": "nlu_fallback", "confidence": 0.4}, {"name": "order_status", "confidence": 0.3},
        {"name": "view_cart", "confidence": 0.2}, {"name": "greet", "confidence": 0.1},
    ]
    _, messages = await run(ActionDefaultFallback(), unsure)
    assert texts(messages).startswith("Sorry, I'm not sure what you mean. Did you mean one of these?")
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/order_status", "/view_cart"]


async def test_a_product_need_read_as_a_complaint_is_searched(action_store: Settings) -> None:
    events, messages = await run(ActionComplaint(), asking("I need boots that are actually waterproof", "complaint"))
    assert payloads(messages, "products") and "person" not in texts(messages)
    assert "handoff_requested" not in slots(events)


async def test_a_question_with_nothing_in_focus_is_a_product_need(action_store: Settings) -> None:
    events, messages = await run(ActionProductQuestion(), asking(
        "I need something with a waterproof membrane", "ask_product_question", last_results=[], search_query=None))
    assert payloads(messages, "products") and "B001" in slots(events)["last_results"]
