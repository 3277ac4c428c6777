"""The agents' view of requests to the store that have not gone through (``/agent/store-requests``).

A cancellation or a return asked in chat waits in the outbox while the store's backend is down,
and one the store refused for good waits for a person: agents see both here, oldest first, with
the last error, so they can tell a shopper on the phone what is going on. Signed-in agents only;
every value is HTML-escaped.
"""

from __future__ import annotations

import asyncio
import html
from typing import Any

from aiohttp import web

from assistant.store.models import BackendOutboxRow
from assistant.web.console.views import _page, _redirect, api_agent, live_session
from assistant.web.keys import STORE

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Store requests · Shop Assistant</title><link rel="stylesheet" href="/static/console.css"></head>
<body class="ac-console"><header class="ac-header"><h1>Requests to the store</h1>
<a href="/agent">Back to conversations</a></header>
<main><p class="ac-muted">{summary}</p>
<table data-testid="store-requests"><thead><tr><th scope="col">State</th><th scope="col">Request</th>
<th scope="col">Order</th><th scope="col">Asked</th><th scope="col">Attempts</th><th scope="col">Next try</th>
<th scope="col">Last error</th></tr></thead><tbody>{rows}</tbody></table></main></body></html>"""


def as_json(row: BackendOutboxRow) -> dict[str, Any]:
    return {
        "key": row.idempotency_key, "kind": row.kind, "order_id": row.order_id,
        "state": "refused" if row.failed_at else "waiting", "created_at": row.created_at.isoformat(),
        "attempts": row.attempts, "next_attempt_at": None if row.failed_at else row.next_attempt_at.isoformat(),
        "last_error": row.last_error,
    }


async def _pending(request: web.Request) -> list[dict[str, Any]]:
    def load() -> list[dict[str, Any]]:
        with request.app[STORE].unit_of_work() as uow:
            return [as_json(row) for row in uow.outbox.not_taken()]

    return await asyncio.to_thread(load)


async def get_store_requests_page(request: web.Request) -> web.StreamResponse:
    if await live_session(request) is None:
        return _redirect("/agent/login")
    pending = await _pending(request)
    cells = ("state", "kind", "order_id", "created_at", "attempts", "next_attempt_at", "last_error")
    rows = "".join(
        f'<tr data-testid="store-request" data-state="{html.escape(item["state"])}">'
        + "".join(f"<td>{html.escape(str(item[cell] if item[cell] is not None else '-'))}</td>" for cell in cells)
        + "</tr>"
        for item in pending
    )
    waiting = sum(item["state"] == "waiting" for item in pending)
    summary = (f"{waiting} waiting for the store, {len(pending) - waiting} refused by it." if pending
               else "Nothing is waiting: the store has taken every request.")
    return _page(PAGE.format(summary=html.escape(summary), rows=rows))


async def get_store_requests(request: web.Request) -> web.Response:
    await api_agent(request)
    return web.json_response({"requests": await _pending(request)})
