"""``shop-assistant sync``: a platform's catalog and orders from the command line, and one-line errors.

The fake platforms of :mod:`tests.platform_fakes` answer on loopback; the command runs in a
thread (it owns its event loop) while the fake serves from the test's loop.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from assistant.cli import main
from assistant.launcher import free_port
from tests.platform_fakes import TOKEN, FakeShopify, FakeWooCommerce
from tests.test_integrations_platforms import SECRETS, woocommerce_env


@pytest.fixture(autouse=True)
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    for name in ("SHOPIFY_SHOP_DOMAIN", "SHOPIFY_ADMIN_TOKEN", "WOOCOMMERCE_URL", "WOOCOMMERCE_KEY",
                 "WOOCOMMERCE_SECRET", "MEDUSA_URL", "MEDUSA_API_TOKEN", "SHOP_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


async def sync(data_dir: Path, *args: str) -> int:
    return await asyncio.to_thread(main, ["--data-dir", str(data_dir), "sync", *args])


async def test_sync_from_the_command_line_then_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeWooCommerce()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    try:
        for name, value in woocommerce_env(str(server.make_url("")).rstrip("/")).items():
            monkeypatch.setenv(name, value)
        assert await sync(tmp_path, "woocommerce", "--quiet") == 0
        out = capsys.readouterr().out.splitlines()
        assert out == ["woocommerce: products (all): read 3, new or changed 3",
                       "woocommerce: orders (all): read 2; new rows: 2 customers, 2 orders, 2 order_items, "
                       "0 shipments, 0 refunds, 0 events"]
        assert await sync(tmp_path, "woocommerce", "--quiet") == 0
        out = capsys.readouterr().out.splitlines()
        assert out == ["woocommerce: products (changed after 2026-11-21T09:00:00Z): read 0, new or changed 0",
                       "woocommerce: orders (changed after 2026-11-26T10:00:00Z): read 0; new rows: 0 customers, "
                       "0 orders, 0 order_items, 0 shipments, 0 refunds, 0 events"]
        assert await sync(tmp_path, "woocommerce", "--quiet", "--since", "2026-11-24") == 0
        assert "orders (changed after 2026-11-24T00:00:00Z): read 1;" in capsys.readouterr().out
        assert fake.filters[-1] == ("orders", "2026-11-24T00:00:00Z")
    finally:
        await server.close()


async def test_bad_credentials_unreachable_and_unconfigured_are_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await sync(tmp_path, "medusa") == 1
    assert capsys.readouterr().err == "error: medusa is not configured: set MEDUSA_URL, MEDUSA_API_TOKEN\n"
    assert not (tmp_path / "customers.db").exists()  # nothing touched

    fake = FakeShopify()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    try:
        url = str(server.make_url("")).rstrip("/")
        monkeypatch.setenv("SHOPIFY_SHOP_DOMAIN", url)
        monkeypatch.setenv("SHOPIFY_ADMIN_TOKEN", TOKEN + "-revoked")
        assert await sync(tmp_path, "shopify", "--quiet") == 1
        assert capsys.readouterr().err == (f"error: shopify refused the credentials (HTTP 401 from {url}); "
                                           "check the token or key in the environment\n")
    finally:
        await server.close()

    monkeypatch.setenv("SHOPIFY_SHOP_DOMAIN", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("SHOPIFY_ADMIN_TOKEN", TOKEN)
    assert await sync(tmp_path, "shopify", "--quiet") == 1
    err = capsys.readouterr().err
    assert err.startswith("error: shopify is unreachable at http://127.0.0.1:") and err.count("\n") == 1

    monkeypatch.setenv("SHOP_DATABASE_URL", f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nowhere")
    assert await sync(tmp_path, "shopify", "--quiet") == 1
    err = capsys.readouterr().err
    assert err.startswith("error: the customer store (127.0.0.1:") and err.count("\n") == 1
    assert err.endswith("its sync cursors did not move, so the next sync fetches the same changes again\n")


def test_since_must_be_a_date(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["sync", "shopify", "--since", "last tuesday"])
    assert "not an ISO 8601 date-time: 'last tuesday'" in capsys.readouterr().err
