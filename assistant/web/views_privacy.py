"""``GET /api/me/export`` and ``GET /api/me/export/{link}``: "download my data" as a JSON file.

Everything held about a signed-in shopper: the store's rows (profile, consent, orders,
events, cart, alerts, reminders, handoffs, audit) and their conversations in Rasa. The
first route takes the customer token (``Authorization: Bearer``); the second an expiring
link signed with the web secret, which the privacy action hands out in chat
(:func:`assistant.identity.sign_export_link`), so a plain browser download works.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from assistant.identity import read_export_link
from assistant.web.keys import RASA, SETTINGS, STORE
from assistant.web.middlewares import ApiError
from assistant.web.rasa_client import RasaUnavailable, transcript
from assistant.web.sessions import log_id, sender_for
from assistant.web.views_chat import shopper

log = logging.getLogger(__name__)

NEEDS_LOGIN = "sign in to the store first: the export needs your customer token (Authorization: Bearer)"
BAD_LINK = "this download link is invalid or has expired; ask the assistant for a new one"


async def export_document(request: web.Request, customer_id: str) -> web.Response:
    """The export of ``customer_id`` as a JSON attachment; 404 when the store has no data."""
    settings = request.app[SETTINGS]

    def read() -> dict[str, Any] | None:
        with request.app[STORE].unit_of_work() as uow:
            data = uow.privacy.export(customer_id)
            customer = uow.customers.get(customer_id)
            last_sender = customer.last_sender_id if customer else None
        if data is not None:
            data["_senders"] = sorted({sender_for("", customer_id, settings.web_secret)} | ({last_sender} if last_sender else set()))
        return data

    data = await asyncio.to_thread(read)
    if data is None:
        raise ApiError(404, "we hold no data about you")
    conversations: list[dict[str, Any]] = []
    for sender in data.pop("_senders"):
        try:
            tracker = await request.app[RASA].tracker(sender)
        except RasaUnavailable as error:
            log.warning("export of %s: conversation unavailable: %s", log_id(customer_id, settings.web_secret), error)
            raise ApiError(503, "the conversation server is not answering; try the download again in a minute") from None
        conversations.append({"channel_sender": sender, "messages": transcript(tracker)})
    document = {"exported_at": datetime.now(UTC).isoformat(), "customer_id": customer_id, **data,
                "conversations": conversations}
    return web.Response(
        text=json.dumps(document, indent=2, ensure_ascii=False, default=str), content_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="my-shop-data.json"'},
    )


async def get_export(request: web.Request) -> web.Response:
    """The signed-in shopper's export (customer token as ``Authorization: Bearer``)."""
    who = shopper(request)
    if who.customer_id is None:
        raise ApiError(401, NEEDS_LOGIN)
    return await export_document(request, who.customer_id)


async def get_export_link(request: web.Request) -> web.Response:
    """The export behind an expiring link the assistant gave in chat."""
    customer_id = read_export_link(request.match_info["link"], request.app[SETTINGS].web_secret)
    if customer_id is None:
        raise ApiError(403, BAD_LINK)
    return await export_document(request, customer_id)
