"""Purchase histories for the recommendation benchmark, each derived by a script from a public source.

Every script writes ``var/bench/recommend/<name>/`` with ``catalog.csv`` (or the demo's
``catalog.jsonl``) and ``shoppers.jsonl`` (one sampled shopper a line, orders oldest first);
:mod:`bench.datasets.splits` turns that into the files a retailer would import.
"""
