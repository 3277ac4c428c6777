"""The learned discovery ranker: it learns which signal predicts a shopper's new products, ranks by it, keeps true reasons.

The histories are generated here so the truth is known: in the departments store every
shopper keeps buying new products of their own department only (while one big department
dominates the store's popularity), so a ranker fitted on that history must weigh the
shopper's departments and beat plain popularity on shoppers it was not fitted on.
"""

from __future__ import annotations

import numpy as np

from assistant.recommend import popular, ranker
from assistant.recommend.base import Context
from assistant.recommend.blend import DEFAULT_POLICY, SOURCES, discovery
from assistant.recommend.calibrate import calibrate, policy_of
from assistant.recommend.model import train
from assistant.recommend.profile import Profile
from tests.test_recommend_calibration import NOW, _catalog, _history


def test_the_fit_learns_the_signal_that_predicts_the_choice_within_each_shopper() -> None:
    rng = np.random.default_rng(5)
    shoppers, per = 300, 20
    x = rng.normal(size=(shoppers * per, len(ranker.FEATURES)))
    groups = np.repeat(np.arange(shoppers), per)
    utility = 2.0 * x[:, 0] - 1.0 * x[:, 3] + rng.gumbel(size=len(x))
    chosen = np.zeros(len(x))
    for shopper in range(shoppers):  # each shopper picks the candidate of highest utility
        rows = np.flatnonzero(groups == shopper)
        chosen[rows[utility[rows].argmax()]] = 1.0
    fitted = ranker.fit(x, chosen, groups)
    assert fitted.coef[0] > 1.0 and fitted.coef[3] < -0.5
    assert all(abs(c) < 0.4 for i, c in enumerate(fitted.coef) if i not in (0, 3))


def test_the_store_serves_its_ranker_when_it_beats_popularity_and_each_reason_is_its_sources() -> None:
    catalog = _catalog()
    lines = _history(big=100, small=20, now=NOW)
    found = calibrate(lines, catalog, NOW)
    learned = found["ranker"]
    assert learned["vs_popularity_ci95"][0] > 0, learned  # better than popularity beyond doubt, on shoppers not fitted on
    assert learned["coefficients"]["departments"] > 0
    policy = policy_of(found)
    assert policy.ranker is not None and policy.ranker == ranker.Ranker.from_json(found["policy"]["ranker"])
    mine = sorted((line for line in lines if line.customer_id == "d5s1"), key=lambda line: line.at)
    profile = Profile(NOW, "d5s1", mine, personalized=True)
    context = Context(train(lines, catalog, NOW), catalog, profile)
    lists = {name: SOURCES[name](context, 100) for name in policy.source_names() if name != "again"}
    owned = {catalog.row_of[line.product_id] for line in mine}
    ranked = discovery(context, lists, policy, owned)
    assert ranked and all(candidate.row not in owned for candidate, _ in ranked)
    assert catalog.products[ranked[0][0].row]["category"] == "department 5"  # their own department first
    assert all(np.diff([candidate.score for candidate, _ in ranked]) <= 0) and ranked[0][0].score == 1.0
    for candidate, source in ranked:
        assert candidate.reason == {c.row: c.reason for c in lists[source]}[candidate.row]
    best_sellers = [c.row for c in popular.popular(context, 100) if c.row not in owned][:5]
    assert {catalog.products[row]["category"] for row in best_sellers} == {"department 0"}  # what popularity offers instead


def test_a_stored_ranker_this_code_cannot_compute_is_not_trusted() -> None:
    good = ranker.Ranker((0.0,) * len(ranker.FEATURES), (1.0,) * len(ranker.FEATURES), (0.5,) * len(ranker.FEATURES))
    assert ranker.Ranker.from_json(good.to_json()) == good
    assert ranker.Ranker.from_json({**good.to_json(), "features": ["popularity"]}) is None
    assert ranker.Ranker.from_json({**good.to_json(), "scale": [0.0] * len(ranker.FEATURES)}) is None
    assert ranker.Ranker.from_json({**good.to_json(), "coef": ["nan"] * len(ranker.FEATURES)}) is None
    stored = {"policy": {"backbone": "popular", "discovery": {}, "ranker": {"features": ["old"]}}}
    assert policy_of(stored) == DEFAULT_POLICY
