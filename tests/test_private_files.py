"""Secrets, the customer store and logs are readable by their owner only, from the first instant."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.private_files import private_file, write_private
from assistant.settings import _local_secret, load_settings
from assistant.store.db import make_engine

WATCHED: list[Path] = []
EXPOSED: list[str] = []
_busy = threading.local()


def _watch(event: str, args: tuple[object, ...]) -> None:
    """Audit hook: before every audited operation, note any file in a watched directory others could read."""
    if not WATCHED or getattr(_busy, "on", False):
        return
    _busy.on = True  # the scan itself raises audit events
    try:
        for directory in WATCHED:
            for name in os.listdir(directory):
                with contextlib.suppress(FileNotFoundError):
                    mode = os.lstat(os.path.join(directory, name)).st_mode
                    if stat.S_ISREG(mode) and stat.S_IMODE(mode) & 0o077:
                        EXPOSED.append(f"{name} during {event}")
    finally:
        _busy.on = False


sys.addaudithook(_watch)


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[Path]:
    """A directory whose files are checked for loose modes at every audit event (open, chmod, rename...)."""
    old_umask = os.umask(0o022)
    WATCHED.append(tmp_path)
    EXPOSED.clear()
    try:
        yield tmp_path
    finally:
        WATCHED.remove(tmp_path)
        os.umask(old_umask)


def test_the_secrets_file_is_never_readable_by_others_even_briefly(watched: Path) -> None:
    secrets_file = watched / "secrets.json"
    first = _local_secret("GATEWAY_TOKEN", secrets_file)
    second = _local_secret("SHOP_WEB_SECRET", secrets_file)
    assert EXPOSED == []
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    assert json.loads(secrets_file.read_text()) == {"GATEWAY_TOKEN": first, "SHOP_WEB_SECRET": second}
    assert _local_secret("GATEWAY_TOKEN", secrets_file) == first
    assert sorted(p.name for p in watched.iterdir()) == ["secrets.json", "secrets.json.lock"]  # no temporary left


def test_a_loose_secrets_file_from_an_older_checkout_is_tightened(tmp_path: Path) -> None:
    secrets_file = tmp_path / "secrets.json"
    secrets_file.write_text('{"GATEWAY_TOKEN": "kept"}')
    secrets_file.chmod(0o644)
    assert _local_secret("GATEWAY_TOKEN", secrets_file) == "kept"
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600


def test_private_helpers_create_and_replace_with_mode_600(watched: Path) -> None:
    write_private(watched / "a.txt", "one")
    write_private(watched / "a.txt", "two")
    private_file(watched / "b.log")
    assert EXPOSED == []
    assert (watched / "a.txt").read_text() == "two"


def test_the_sqlite_customer_store_is_private(watched: Path) -> None:
    engine = make_engine(f"sqlite:///{watched / 'customers.db'}")
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    finally:
        engine.dispose()
    assert EXPOSED == []
    assert stat.S_IMODE((watched / "customers.db").stat().st_mode) == 0o600


def test_settings_repr_shows_no_secret() -> None:
    env = {"SHOP_STORE_SECRET": "s-store-1", "RASA_AUTH_TOKEN": "s-rasa-2", "ACTION_SERVER_TOKEN": "s-action-3",
           "GATEWAY_TOKEN": "s-gateway-4", "SHOP_WEB_SECRET": "s-web-5", "SHOP_STOREFRONT_KEY": "s-front-6",
           "SHOP_DATABASE_URL": "postgresql+psycopg://shop:s-db-7@db.example/shop", "SHOP_EMBEDDING_MODEL": "m"}
    shown = repr(load_settings("/tmp/store", env=env))
    assert not [value for value in env.values() if value.startswith("s-") and value in shown]
    assert "s-db-7" not in shown and "shop:***@db.example" in shown and "data_dir=" in shown
