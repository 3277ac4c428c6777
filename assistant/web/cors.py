"""Cross-origin use of ``/api/`` by the chat widget embedded on the store's own pages.

The widget runs in the storefront's origin (``https://shop.example``) and calls this app
(``https://assistant.shop.example``) with ``fetch(..., {credentials: "include"})``.  Only
the origins in ``SHOP_ALLOWED_ORIGINS`` get CORS headers, exactly echoed, never ``*``
(credentials forbid it).

Cookies: the session cookie stays ``SameSite=Lax``, which covers the recommended setup
(the assistant on a subdomain of the store: cross-origin but *same-site*, so the cookie
is first-party).  Only when an allowed origin calls over https is a newly issued session
cookie marked ``SameSite=None; Secure`` so that a store on another domain keeps its
conversation across page loads; browsers that block third-party cookies (Safari, Firefox
strict mode) still drop it there, which is why the subdomain setup is the recommended one.

Because a ``SameSite=None`` cookie travels with requests from any site, every state-changing
``/api/`` request (and every WebSocket) whose ``Origin`` is neither this app nor an allowed
storefront is refused: that is what stops another site from chatting (adding to a cart,
cancelling an order) or listening in a shopper's name.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web

from assistant.web.middlewares import error_response
from assistant.web.sessions import cookie_name

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PREFLIGHT_MAX_AGE = "600"


def own_origin(request: web.Request) -> str:
    """The origin this request was addressed to, as a browser would write it."""
    return f"{request.scheme}://{request.host}"


def cors_middleware(allowed_origins: Iterable[str]) -> Callable[..., Awaitable[web.StreamResponse]]:
    """CORS for the allowed storefront origins on ``/api/``, and the cross-site request check."""
    allowed = frozenset(origin.rstrip("/") for origin in allowed_origins)

    @web.middleware
    async def middleware(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if not request.path.startswith("/api/"):
            return await handler(request)
        origin = request.headers.get("Origin")
        foreign = origin is not None and origin != own_origin(request)
        if foreign and origin not in allowed:
            # A WebSocket is not covered by CORS at all: the browser opens it from any page.
            if request.method not in SAFE_METHODS or request.headers.get("Upgrade", "").lower() == "websocket":
                return error_response(403, "requests from this website are not allowed")
            response = await handler(request)  # readable by nobody: no CORS headers
        elif foreign and request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            response = web.Response(status=204)
            response.headers["Access-Control-Allow-Methods"] = "GET, POST"
            response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
            response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
        else:
            response = await handler(request)
        if response.prepared:  # a WebSocket: its headers are on the wire already
            return response
        if foreign and origin in allowed:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Credentials"] = "true"
            cookie = response.cookies.get(cookie_name(request))
            if cookie is not None and request.secure:
                cookie["samesite"] = "None"
                cookie["secure"] = True
        response.headers.add("Vary", "Origin")
        return response

    return middleware
