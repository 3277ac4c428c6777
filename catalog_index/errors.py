"""The index's one error for "cannot search now", in a module without heavy imports.

The web app and the action server catch it around every search, and import it at start-up;
importing it from :mod:`catalog_index.artifacts` would load BM25 and numpy before they are needed.
"""

from __future__ import annotations


class IndexUnavailable(RuntimeError):
    """The index directory is missing, damaged, or was built for another model or catalog."""
