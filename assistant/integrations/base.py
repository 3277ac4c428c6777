"""What every platform adapter shares: the records it yields, its HTTP client, its errors, signatures.

An adapter (``shopify.py``, ``woocommerce.py``, ``medusa.py``) speaks one platform's API and
hands the rest of the assistant plain records: products already in the catalog's import shape
(one per variant, with ``variant_id``), orders in the history importer's shape, and
:class:`OrderUpdate` for a verified webhook.  Everything that talks HTTP goes through
:class:`PlatformHttp`, so bad credentials and an unreachable platform read the same one line
whichever platform it is, and say whether trying again later can help.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import aiohttp

REPLAY_WINDOW = timedelta(minutes=5)  # a signed webhook older (or newer) than this is refused
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=30)
RATE_LIMIT_RETRIES = 3


class PlatformError(Exception):
    """A platform call failed; the message is one line for the operator, ``retry`` says if later may work.

    ``refusal`` is the platform's own reason when it understood the request and said no (an
    order already fulfilled cannot be cancelled): an answer to tell the shopper, not a fault.
    """

    def __init__(self, message: str, *, retry: bool, refusal: str | None = None) -> None:
        super().__init__(message)
        self.retry = retry
        self.refusal = refusal


class RateLimited(PlatformError):
    """HTTP 429: the platform asks to slow down (``wait`` seconds, from ``Retry-After``)."""

    def __init__(self, platform: str, method: str, path: str, retry_after: str | None) -> None:
        super().__init__(f"{platform} rate-limited {method} {path} (HTTP 429); try again later", retry=True)
        self.wait = float(retry_after) if retry_after and retry_after.replace(".", "", 1).isdigit() else 2.0


class NotConfigured(PlatformError):
    """The environment lacks a credential the adapter needs."""

    def __init__(self, platform: str, missing: list[str]) -> None:
        super().__init__(f"{platform} is not configured: set {', '.join(missing)}", retry=False)


@dataclass(frozen=True)
class SyncedOrder:
    """An order for the history importer (``record``) and the platform's own id for later calls."""

    record: dict[str, Any]
    external_id: str
    updated_at: str


@dataclass(frozen=True)
class ProductPage:
    """Catalog rows of one page of the platform's products, and the newest ``updated_at`` among them.

    ``withdrawn`` names the catalog ids of variants whose product the platform no longer sells
    (archived, draft, unpublished): they leave the catalog and stay in the mirror for history.
    """

    products: list[dict[str, Any]]
    updated_at: str | None
    withdrawn: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class OrderUpdate:
    """What a verified webhook says about an order, in the assistant's terms.

    ``external_id`` is the platform's id of the order (looked up in ``platform_orders``);
    ``status`` is one of the store's order statuses.
    """

    platform: str
    external_id: str
    status: str
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


class Platform(Protocol):
    """One store platform's API: reads its catalog and orders, cancels and returns there (webhooks: module functions)."""

    name: str

    def products(self, since: str | None) -> AsyncIterator[ProductPage]:
        """Pages of catalog rows updated after ``since`` (all when ``None``), oldest first."""
        ...

    def orders(self, since: str | None) -> AsyncIterator[list[SyncedOrder]]:
        """Pages of orders updated after ``since`` (all when ``None``), oldest first."""
        ...

    async def cancel_order(self, external_id: str, reason: str) -> None:
        """Ask the platform to cancel the order; raises :class:`PlatformError`."""
        ...

    async def request_return(self, external_id: str, items: list[dict[str, Any]], reason: str, note: str) -> str:
        """Open a return for ``items`` (``product_id``, ``quantity``); returns the platform's reference."""
        ...

    async def close(self) -> None:
        """Close the HTTP session."""
        ...


def base_url(value: str) -> str:
    """``shop.example.com`` or a full URL, without a trailing slash; no scheme means https."""
    value = value.strip().rstrip("/")
    return value if value.startswith(("http://", "https://")) else f"https://{value}"


def require(platform: str, **values: str) -> None:
    """Raise :class:`NotConfigured` naming every missing variable (keyword = variable name)."""
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise NotConfigured(platform, missing)


def basic_auth(user: str, password: str) -> dict[str, str]:
    """The ``Authorization`` header of HTTP Basic auth (WooCommerce's key pair, Medusa's secret key)."""
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def hmac_base64(secret: str, body: bytes) -> str:
    """Base64 of HMAC-SHA256 over the raw body: Shopify's and WooCommerce's webhook signature."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def same(offered: str | None, expected: str) -> bool:
    """Constant-time comparison that treats a missing header as a mismatch."""
    return offered is not None and hmac.compare_digest(offered.strip().encode(), expected.encode())


def fresh(at: datetime, now: datetime) -> bool:
    """Within the replay window either side of ``now``."""
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    return abs(now - at) <= REPLAY_WINDOW


def parse_iso(value: str) -> datetime:
    """An ISO 8601 time from a platform (``Z`` or an offset), as UTC."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def money(value: Any) -> float | None:
    """A platform amount (``"21.99"``, ``21.99``) as a float; blank is ``None``."""
    return None if value in (None, "") else round(float(value), 2)


def product_id(platform: str, variant_id: object) -> str:
    """The catalog id of a platform variant: stable, prefixed, and within the store's id alphabet."""
    return f"{platform}-{str(variant_id).rsplit('/', 1)[-1]}"


class PlatformHttp:
    """One aiohttp session against a platform's API; every failure becomes a one-line :class:`PlatformError`."""

    def __init__(self, platform: str, root: str, headers: Mapping[str, str],
                 session: aiohttp.ClientSession | None = None) -> None:
        """Uses ``session`` when given (the outbox deliverer's, which closes it), else opens its own."""
        self.platform = platform
        self.root = root
        self.headers = dict(headers)
        self._owned = session is None
        self._session = session or aiohttp.ClientSession(timeout=REQUEST_TIMEOUT)

    async def call(self, method: str, path: str, *, json: Any = None,
                   params: Mapping[str, str] | None = None) -> tuple[Any, Mapping[str, str]]:
        """``(decoded JSON body, response headers)``; raises :class:`PlatformError`.

        A 429 (rate limit) is waited out as its ``Retry-After`` says (at most 10 s), a few times,
        so a long sync is slowed down rather than stopped.
        """
        for _ in range(RATE_LIMIT_RETRIES):
            try:
                return await self._call(method, path, json, params)
            except RateLimited as limited:
                await asyncio.sleep(min(10.0, limited.wait))
        return await self._call(method, path, json, params)

    async def _call(self, method: str, path: str, json: Any,
                    params: Mapping[str, str] | None) -> tuple[Any, Mapping[str, str]]:
        url = f"{self.root}{path}"
        try:
            async with self._session.request(method, url, json=json, params=params, headers=self.headers,
                                             timeout=REQUEST_TIMEOUT) as response:
                body = await response.json(content_type=None) if response.content_length != 0 else None
                if response.status in (401, 403):  # retry: the request waits until the operator fixes them
                    raise PlatformError(
                        f"{self.platform} refused the credentials (HTTP {response.status} from {self.root}); "
                        "check the token or key in the environment", retry=True)
                if response.status == 429:
                    raise RateLimited(self.platform, method, path, response.headers.get("Retry-After"))
                if response.status >= 500:
                    raise PlatformError(f"{self.platform} answered HTTP {response.status} for {method} {path}; "
                                        "try again later", retry=True)
                if response.status >= 400:
                    reason = _error_text(body)
                    raise PlatformError(f"{self.platform} refused {method} {path} (HTTP {response.status}): {reason}",
                                        retry=False, refusal=None if response.status == 404 else reason)
                return body, response.headers
        except aiohttp.ClientConnectionError as error:
            raise PlatformError(f"{self.platform} is unreachable at {self.root}: {error}", retry=True) from None
        except TimeoutError:
            raise PlatformError(f"{self.platform} did not answer within {REQUEST_TIMEOUT.total:.0f} s at {self.root}",
                                retry=True) from None
        except (aiohttp.ContentTypeError, ValueError) as error:
            raise PlatformError(f"{self.platform} sent a body that is not JSON for {method} {path}: {error}",
                                retry=True) from None

    async def close(self) -> None:
        if self._owned:
            await self._session.close()


def _error_text(body: Any) -> str:
    """The platform's own error message, shortened to one line."""
    if isinstance(body, dict):
        for key in ("message", "errors", "error", "code"):
            if body.get(key):
                return str(body[key]).splitlines()[0][:200]
    return str(body)[:200]
