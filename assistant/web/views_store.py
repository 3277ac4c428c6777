"""``GET /``: the demo storefront, a plain page that embeds the chat widget.

A real store embeds ``widget.js`` in its own pages and signs the customer token in its
own backend.  In demo mode only, this page plays the store's part: the "log in as demo
customer" link (``?login=demo``) makes it sign a token for the demo customer here.
"""

from __future__ import annotations

import html
from pathlib import Path
from string import Template

from aiohttp import web

from assistant.identity import sign_customer_token
from assistant.web.keys import DEMO_MODE, SETTINGS

TEMPLATE = Template((Path(__file__).parent / "templates" / "index.html").read_text())
DEMO_CUSTOMER = "C0001"


async def get_index(request: web.Request) -> web.Response:
    """The storefront, logged in as the demo customer when demo mode and ``?login=demo``."""
    token = ""
    account = ""
    if request.app[DEMO_MODE]:
        if request.query.get("login") == "demo":
            token = sign_customer_token(DEMO_CUSTOMER, request.app[SETTINGS].store_secret)
            account = f'Logged in as demo customer {DEMO_CUSTOMER} · <a href="/">log out</a>'
        else:
            account = '<a href="/?login=demo">Log in as demo customer</a>'
    page = TEMPLATE.substitute(account=account, customer_token=html.escape(token, quote=True))
    return web.Response(text=page, content_type="text/html", headers={"Cache-Control": "no-store"})
