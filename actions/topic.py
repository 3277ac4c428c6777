"""The current topic of the conversation: who the shopper is buying for and what they like.

"a gift for my sister, she likes yoga" is one search for yoga products suited to her, and
"something under $40" right after it is that same search with a budget: a message that
names no product of its own ("something", "anything else", "in black") refines the topic
instead of starting a search for the word "something". The topic lives in the slots
``recipient`` and ``interest`` beside the search slots of :mod:`actions.constraints`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rasa_sdk import Tracker

from assistant.recommend.rules import RECIPIENT_WORDS
from catalog_index.request import SearchRequest

RECIPIENT = re.compile(
    r"\b(?:for (?:my |our |a |an |the )?|my |our )(?:little |new |best |older |younger |teenage )?([a-z]+)", re.I
)
INTEREST = re.compile(
    r"\b(?:likes?|loves?|enjoys?|is into|are into|into|is a fan of|fan of|passionate about|interested in|"
    r"who (?:likes?|loves?|enjoys?|plays?|does)|plays?|does)\s+(?:to\s+)?(?:go\s+|do\s+)?([a-z][a-z' -]{1,40}?)"
    r"(?:\s*(?:[,.!?;]|\band\b|\bbut\b|\bunder\b|\bbelow\b|\bfor\b|\bwithin\b|\bwith\b|\$|$))",
    re.I,
)
GIFT = re.compile(r"\b(gifts?|presents?|birthday|christmas|anniversary|stocking stuffers?)\b", re.I)
# Words that carry no product meaning on their own: a message made only of these (plus
# prices, colours, brands, sizes the parser takes out) refines the current topic.
FILLER = frozenset(
    "something anything stuff things thing else other another maybe perhaps like around about roughly what which "
    "have has you got do does any some ones one options option i i'm im we need want would could show me find get "
    "please for a an the is are there it its it's that this those these can something's else's let's see more "
    "just only also too really ok okay hmm well so now then how about cost costs costing price priced budget "
    "of my her his their him them she he they cheaper cheapest pricier expensive less lower higher".split()
)
AUDIENCE = {word: hints[0] for word, hints in RECIPIENT_WORDS.items()}
WORD = re.compile(r"[a-z']+")


@dataclass(frozen=True)
class Topic:
    """Who it is for (``"sister"``) and what they like (``"yoga"``); either may be unknown."""

    recipient: str | None = None
    interest: str | None = None

    @classmethod
    def from_slots(cls, tracker: Tracker) -> Topic:
        return cls(recipient=tracker.get_slot("recipient") or None, interest=tracker.get_slot("interest") or None)

    @classmethod
    def from_text(cls, text: str) -> Topic:
        """The recipient and interest this message names ("for my sister", "she likes yoga")."""
        recipient = next(
            (m.group(1).lower() for m in RECIPIENT.finditer(text) if m.group(1).lower() in RECIPIENT_WORDS), None
        )
        interest = None
        for match in INTEREST.finditer(text):
            words = [w for w in WORD.findall(match.group(1).lower()) if w not in FILLER]
            if words:
                interest = " ".join(words)
                break
        return cls(recipient=recipient, interest=interest)

    def merged(self, newer: Topic) -> Topic:
        """This topic updated by what a newer message says."""
        return Topic(recipient=newer.recipient or self.recipient, interest=newer.interest or self.interest)

    def search_text(self) -> str:
        """What the catalog is searched for: the interest, leaning to products for the recipient."""
        audience = AUDIENCE.get(self.recipient or "")
        return " ".join(part for part in (self.interest, f"for {audience}" if audience else None) if part)

    def describe(self) -> str:
        """``yoga ideas for your sister`` for the reply's first line."""
        whom = f" for your {self.recipient}" if self.recipient else ""
        return f"{self.interest or 'gift'} ideas{whom}"


def is_gift_topic(text: str, topic: Topic) -> bool:
    """A message about a gift or a person's interest: searched from the topic, not the words."""
    return topic.interest is not None or (topic.recipient is not None and GIFT.search(text) is not None)


def names_no_product(said: SearchRequest) -> bool:
    """True when the message (parsed), without prices, colours, brands and filler, says nothing to search for."""
    if said.filters.category:
        return False
    return not [word for word in WORD.findall(said.text.lower()) if word not in FILLER and len(word) > 1]
