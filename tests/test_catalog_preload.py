"""A new index version is loaded by the live searchers before it is published (issue #15.6: no stalls).

Asserted on the order of events (log records from the writer and the searchers' threads), never on time.
"""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path

import pytest

import catalog_index.versions as versions
from assistant.settings import default_embedding_model
from catalog_index.embedder import Embedder
from catalog_index.search import CatalogSearcher
from catalog_index.update import upsert_products
from tests.test_catalog_scale import LANTERN, make_store

MODEL = default_embedding_model()


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder(MODEL)


def messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name.startswith("catalog_index")]


def test_a_new_version_is_loaded_before_it_is_published(tmp_path: Path, embedder: Embedder, caplog: pytest.LogCaptureFixture) -> None:
    catalog, index_dir = make_store(tmp_path, embedder)
    searcher = CatalogSearcher.load(index_dir, MODEL, embedder=embedder)
    other = CatalogSearcher.load(index_dir, MODEL, embedder=embedder)  # a second live searcher is waited for too
    caplog.set_level(logging.INFO, logger="catalog_index")
    upsert_products(catalog, index_dir, MODEL, {"Z900": LANTERN}, embedder=embedder)
    version = versions.current_version(index_dir).name
    log = messages(caplog)
    published = log.index(f"published index version {version}")
    preloaded = [number for number, message in enumerate(log) if message.startswith(f"preloaded index version {version}")]
    assert len(preloaded) == 2 and max(preloaded) < published  # both searchers had it before the swap

    assert searcher.search("zorbulator lantern", k=1).hits[0].product["id"] == "Z900"
    assert other.get("Z900") is not None
    log = messages(caplog)
    assert sum(message.startswith(f"switched to preloaded index version {version}") for message in log) == 2
    assert not any(message.startswith("loaded index version") for message in log)  # no search loaded it


def test_a_reader_whose_process_is_gone_is_not_waited_for(tmp_path: Path, embedder: Embedder, caplog: pytest.LogCaptureFixture) -> None:
    catalog, index_dir = make_store(tmp_path, embedder)
    readers = versions.versions_dir(index_dir) / versions.READERS_DIR
    readers.mkdir(parents=True, exist_ok=True)
    gone = 2**22 + 12345  # above Linux's default pid_max: no such process
    (readers / f"{socket.gethostname()}-{gone}-0").write_text("v0")  # a fresh heartbeat of a dead process
    caplog.set_level(logging.INFO, logger="catalog_index")
    upsert_products(catalog, index_dir, MODEL, {"Z900": LANTERN}, embedder=embedder)
    assert not any("have not loaded it yet" in message for message in messages(caplog))


def test_a_reader_that_never_loads_it_delays_the_swap_only_so_long(
    tmp_path: Path, embedder: Embedder, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog, index_dir = make_store(tmp_path, embedder)
    searcher = CatalogSearcher.load(index_dir, MODEL, embedder=embedder)
    stuck = versions.versions_dir(index_dir) / versions.READERS_DIR / f"{socket.gethostname()}-{os.getpid()}-stuck"
    stuck.write_text("v0")  # alive (this process) but never says it is ready
    monkeypatch.setattr(versions, "PRELOAD_WAIT_SECONDS", 1.0)
    caplog.set_level(logging.INFO, logger="catalog_index")
    upsert_products(catalog, index_dir, MODEL, {"Z900": LANTERN}, embedder=embedder)
    log = messages(caplog)
    assert any("1 searcher(s) have not loaded it yet" in message and stuck.name in message for message in log)
    assert searcher.get("Z900") is not None  # the live searcher had it ready anyway
