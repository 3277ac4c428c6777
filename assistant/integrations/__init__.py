"""Adapters for the platforms stores run on: Shopify, WooCommerce and Medusa.

Each adapter is one module speaking its platform's API (:mod:`.base` says what they share);
:mod:`.sync` imports a platform's catalog and orders incrementally, :mod:`.transport` turns
the outbox's cancellation and return requests into the platform's calls, and :mod:`.webhooks`
receives the platform's verified order updates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import aiohttp

    from assistant.integrations.base import Platform
    from assistant.settings import Settings

PLATFORMS = ("shopify", "woocommerce", "medusa")


def open_platform(name: str, settings: Settings, http: aiohttp.ClientSession | None = None) -> Platform:
    """The adapter for ``name`` built from the settings; raises ``NotConfigured`` naming missing variables."""
    if name == "shopify":
        from assistant.integrations.shopify import Shopify

        return Shopify(settings, http)
    if name == "woocommerce":
        from assistant.integrations.woocommerce import WooCommerce

        return WooCommerce(settings, http)
    if name == "medusa":
        from assistant.integrations.medusa import Medusa

        return Medusa(settings, http)
    raise ValueError(f"unknown platform {name!r}; expected one of {', '.join(PLATFORMS)}")
