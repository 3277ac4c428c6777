"""``shop-assistant backend deliver --once`` and ``backend pending`` against a signature-checking receiver."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.backend.outbox import enqueue
from assistant.cli import main
from assistant.store.db import UnitOfWork, make_engine, make_session_factory, migrate
from tests.store_receiver import StoreReceiver, serve_in_thread

SECRET = "cli-webhook-secret"


def queue(url: str) -> None:
    migrate(url)
    engine = make_engine(url)
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            enqueue(uow, "cancellation_requested", {"order_number": "SA-7"}, order_id="SA-7", key="cli-1")
            uow.commit()
    finally:
        engine.dispose()


def test_deliver_once_and_pending(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    for name, value in {"SHOP_EMBEDDING_MODEL": "unused", "SHOP_STORE_SECRET": "s", "RASA_AUTH_TOKEN": "t",
                        "ACTION_SERVER_TOKEN": "a", "GATEWAY_TOKEN": "g", "SHOP_WEB_SECRET": "w",
                        "SHOP_STOREFRONT_KEY": "k", "SHOP_RASA_URL": "http://127.0.0.1:9",
                        "SHOP_WEBHOOK_SECRET": SECRET, "SHOP_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}"}.items():
        monkeypatch.setenv(name, value)
    queue(f"sqlite:///{tmp_path / 'c.db'}")
    receiver = StoreReceiver(SECRET, up=False)
    with serve_in_thread(receiver) as url:
        monkeypatch.setenv("SHOP_BACKEND_WEBHOOK_URL", f"{url}/shop-webhook")
        assert main(["--data-dir", str(tmp_path), "backend", "deliver", "--once"]) == 0
        assert "0 delivered, 1 to retry" in capsys.readouterr().out
        assert main(["--data-dir", str(tmp_path), "backend", "pending", "--json"]) == 0
        [pending] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert (pending["id"], pending["state"], pending["attempts"]) == ("cli-1", "waiting", 1)
        assert "503" in pending["last_error"]
    assert receiver.attempts == ["cli-1"] and receiver.handled == []


def test_deliver_without_a_backend_says_what_to_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SHOP_EMBEDDING_MODEL", "unused")
    monkeypatch.delenv("SHOP_BACKEND_WEBHOOK_URL", raising=False)
    monkeypatch.delenv("SHOP_BACKEND", raising=False)
    assert main(["--data-dir", str(tmp_path), "backend", "deliver", "--once"]) == 2
    assert "set SHOP_BACKEND_WEBHOOK_URL" in capsys.readouterr().err
