"""One product search request: what the shopper asked for, parsed once, then only ever changed by ``replace``.

Chat, the REST API (``/api/search``) and the CLI (``catalog search``) all build it with
:meth:`SearchRequest.parse` and hand it to :meth:`CatalogSearcher.run
<catalog_index.search.CatalogSearcher.run>`, so the same words give the same results on all
three.  The conversation refines ("in blue", "cheaper") and relaxes (drops the colour when
nothing matches) a request with :func:`dataclasses.replace` and :meth:`overridden_by`:
the words are never parsed again, so a refinement is never undone by the original text.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from catalog_index.filters import SearchFilters
from catalog_index.query import Vocabulary, parse_query


@dataclass(frozen=True)
class SearchRequest:
    """The words, the relevance text ranked by, the hard filters, the sort preference and the page.

    ``filters`` is never changed in place (``with_filters`` makes a new request), so one
    request can be kept, compared and relaxed step by step.
    """

    query: str = ""  # the words as the shopper typed them (shown back in replies)
    text: str = ""  # the relevance text: the words without the constraints the filters carry
    filters: SearchFilters = field(default_factory=SearchFilters)
    prefer_low_price: bool = False  # "cheap", "budget": no hard bound, cheaper first
    k: int = 10
    offset: int = 0

    @classmethod
    def parse(cls, query: str, vocabulary: Vocabulary, k: int = 10, offset: int = 0) -> SearchRequest:
        """The request ``query`` makes against a catalog's ``vocabulary``: the one place words become a search."""
        parsed = parse_query(query, vocabulary)
        return cls(
            query=query.strip(), text=parsed.text, filters=SearchFilters.from_parsed(parsed), prefer_low_price=parsed.budget,
            k=k, offset=offset,
        )

    def with_filters(self, **changes: Any) -> SearchRequest:
        """This request with some filter fields changed (``colors=[]`` drops the colour)."""
        return replace(self, filters=replace(self.filters, **changes))

    def overridden_by(self, newer: SearchFilters) -> SearchRequest:
        """This request with every constraint ``newer`` sets taking over (the newest message wins per attribute)."""
        return replace(self, filters=self.filters.overridden_by(newer))

    def page(self, k: int, offset: int = 0) -> SearchRequest:
        """The same search, page ``[offset, offset + k)``."""
        return replace(self, k=k, offset=offset)
