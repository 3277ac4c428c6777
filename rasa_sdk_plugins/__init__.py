"""rasa-sdk plugin: the action server answers only the Rasa server that knows its token.

rasa-sdk imports this package at start-up (``rasa_sdk.plugin._discover_plugins``) and
calls :func:`init_hooks`; our hook adds a request middleware to the Sanic app. Rasa sends
the token from ``endpoints.yml`` (``action_endpoint.token``) as ``?token=...`` on every
action call, so ``/webhook`` without the right token gets 401 and never runs an action
(which could read orders or write carts). ``/health`` stays open for the launcher and
load balancers: it says nothing but "ok".
"""

from __future__ import annotations

import hmac
import sys
from collections.abc import Awaitable, Callable

import pluggy
from sanic import Request, Sanic, response
from sanic.response import HTTPResponse

hookimpl = pluggy.HookimplMarker("rasa_sdk")
PROTECTED_PATHS = ("/webhook", "/actions")


def token_guard(expected: str) -> Callable[[Request], Awaitable[HTTPResponse | None]]:
    """A request middleware refusing protected paths unless ``?token=`` equals ``expected``."""
    wanted = expected.encode("utf-8")

    async def check_token(request: Request) -> HTTPResponse | None:
        if not request.path.startswith(PROTECTED_PATHS):
            return None
        given = (request.args.get("token") or "").encode("utf-8")
        if not wanted or not hmac.compare_digest(given, wanted):
            return response.json({"error": "missing or invalid token"}, status=401)
        return None

    return check_token


@hookimpl
def attach_sanic_app_extensions(app: Sanic) -> None:
    """Install the token check; the token comes from the one settings module."""
    from assistant.settings import load_settings

    app.register_middleware(token_guard(load_settings().action_server_token), "request")


def init_hooks(manager: pluggy.PluginManager) -> None:
    """Called by rasa-sdk with its plugin manager: register this module's hooks."""
    manager.register(sys.modules[__name__])
