"""Personalized recommendations: one small module per recommender, blended by a documented policy.

- :mod:`.repurchase`: buy again, the backbone for repeat purchases (recency-weighted share of the
  customer's orders holding each product), reordered by restock timing (cycle = their own median
  gap between orders, else the store's for that product); and plain purchase frequency, the baseline;
- :mod:`.co_purchase`: "bought together", cosine-normalized with shrinkage so best sellers do not dominate;
- :mod:`.content`: catalog-index (FAISS) vector neighbours of what they bought, viewed or have in the cart;
- :mod:`.affinity`: popular products of the subcategories, categories and brands they favour;
- :mod:`.als`: collaborative filtering with ``implicit`` ALS, once the store has enough customers;
- :mod:`.popular`: popularity (recency-weighted) and trending (last week or month) for newcomers.

:mod:`.blend` mixes buy-again with the discovery sources (fused by weighted reciprocal rank),
:mod:`.rules` applies the business rules (stock, owned items, budget, gifts, diversity),
:mod:`.profile` applies consent, :mod:`.artifacts` caches the trained tables in
``<data dir>/recommend/`` and retrains them in the background, :mod:`.catalog` follows the
searcher's loaded index version, :mod:`.rerank` personalizes search results, and
:mod:`.engine` ties it together.
"""

from assistant.recommend.engine import Recommendation, Recommender, recommend_for_profile, similar_to
from assistant.recommend.rules import Request

__all__ = ["Recommendation", "Recommender", "Request", "recommend_for_profile", "similar_to"]
