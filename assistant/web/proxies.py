"""Believe ``X-Forwarded-For/Proto/Host`` from the reverse proxies we were told about, and only them.

Behind a TLS-terminating load balancer every request reaches the app over plain http
from the balancer's address. Without this middleware the app would see ``http`` (cookies
lose ``Secure``, the widget's own ``Origin: https://...`` looks foreign and its POSTs are
refused) and one client address for every shopper (one shared rate limit). Any client
can send these headers, so they are believed only when the peer is in
``SHOP_TRUSTED_PROXIES``; from anyone else they are ignored.

The middleware runs first and hands the rest of the app a clone of the request
(``request.clone(scheme=, host=, remote=)``), so ``request.secure``, ``request.host``
and ``request.remote`` mean the shopper's view everywhere after it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiohttp import web

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# The forwarded view of a request, kept on the original for hooks that aiohttp calls with
# the original (``on_response_prepare``: HSTS over a forwarded https).
FORWARDED_REQUEST = web.RequestKey("forwarded_request", web.Request)


def as_seen_by_client(request: web.Request) -> web.Request:
    """The request as the client sent it: the forwarded view behind a trusted proxy, else itself."""
    return request[FORWARDED_REQUEST] if FORWARDED_REQUEST in request else request


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address from a header or a peer (``[::1]`` and ``1.2.3.4:5678`` forms too), or None."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(address: str | None, networks: tuple[Network, ...]) -> bool:
    parsed = _address(address or "")
    return parsed is not None and any(parsed in network for network in networks)


def _last(value: str | None) -> str | None:
    """The value the nearest proxy wrote: the last element of a comma list."""
    if not value:
        return None
    return value.rsplit(",", 1)[-1].strip() or None


def client_address(forwarded_for: str, peer: str, networks: tuple[Network, ...]) -> str:
    """The first address, walking ``X-Forwarded-For`` from the right, that is not a trusted
    proxy: entries to its left were written by the client and prove nothing."""
    client = peer
    for hop in reversed([item.strip() for item in forwarded_for.split(",") if item.strip()]):
        if _address(hop) is None:
            break  # garbage from the client side: stop at the last address a proxy vouched for
        client = str(_address(hop))
        if not _trusted(client, networks):
            break
    return client


def trusted_proxy_middleware(trusted: Iterable[Network]) -> Callable[..., Awaitable[web.StreamResponse]]:
    """The outermost middleware: the forwarded scheme, host and client address from a trusted
    peer replace the connection's own for everything after it."""
    networks = tuple(trusted)

    @web.middleware
    async def middleware(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if not networks or not _trusted(request.remote, networks):
            return await handler(request)
        changes: dict[str, Any] = {}
        scheme = _last(request.headers.get("X-Forwarded-Proto"))
        if scheme is not None and scheme.lower() in ("http", "https"):
            changes["scheme"] = scheme.lower()
        host = _last(request.headers.get("X-Forwarded-Host"))
        if host is not None:
            changes["host"] = host
        forwarded_for = request.headers.get("X-Forwarded-For")
        if forwarded_for:
            changes["remote"] = client_address(forwarded_for, request.remote or "", networks)
        if not changes:
            return await handler(request)
        forwarded = request[FORWARDED_REQUEST] = request.clone(**changes)
        return await handler(forwarded)

    return middleware
