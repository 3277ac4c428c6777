"""``GET /``: the demo storefront, a plain page that embeds the chat widget with one tag.

A real store embeds ``widget.js`` in its own pages and signs the customer token in its
own backend.  In demo mode only, this page plays the store's part: ``?login=demo`` signs
a token for the demo customer here (the browser never names the customer, so it cannot
pick someone else's), and ``?login=expired`` signs one that has already expired, to show
how the widget reports a stale login.  Outside demo mode the page is a guest page.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from string import Template

from aiohttp import web

from assistant.identity import sign_customer_token
from assistant.web.keys import DEMO_MODE, SETTINGS
from assistant.web.middlewares import ApiError

STATIC_DIR = Path(__file__).parent / "static"
_STATIC_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}")
TEMPLATE = Template((Path(__file__).parent / "templates" / "index.html").read_text())
DEMO_CUSTOMER = "C0001"
DEMO_NOTE = (
    '<p class="sa-demo-note" role="note"><strong>Demo mode.</strong> This page plays the store: its login '
    "links make the server sign a customer token with the store secret. A real store signs it in its "
    "own backend for the customer who is signed in there.</p>"
)
ACCOUNT_LINKS = {
    "guest": 'Guest shopper · <a href="/?login=demo">Log in as demo customer</a>',
    "demo": f'Logged in as demo customer {DEMO_CUSTOMER} · <a href="/">Log out</a>',
    "expired": 'Demo customer with an <strong>expired</strong> login · <a href="/">Log out</a>',
}


async def get_index(request: web.Request) -> web.Response:
    """The storefront; in demo mode, ``?login=demo|expired`` plays a logged-in shopper."""
    token = account = note = ""
    if request.app[DEMO_MODE]:
        login = request.query.get("login", "guest")
        login = login if login in ACCOUNT_LINKS else "guest"
        secret = request.app[SETTINGS].store_secret
        if login == "demo":
            token = sign_customer_token(DEMO_CUSTOMER, secret)
        elif login == "expired":
            token = sign_customer_token(DEMO_CUSTOMER, secret, ttl_seconds=-60)
        account, note = ACCOUNT_LINKS[login], DEMO_NOTE
    page = TEMPLATE.substitute(account=account, demo_note=note, customer_token=html.escape(token, quote=True))
    return web.Response(text=page, content_type="text/html", headers={"Cache-Control": "no-store"})


async def get_static(request: web.Request) -> web.FileResponse:
    """``GET /static/{name}``: the widget's and console's files (one flat directory).

    Not aiohttp's static route: that answers a missing file with an empty
    ``application/octet-stream`` 404 and an over-long name with a 500. Here a name is
    plain characters only, and anything that is not one of our files is a JSON 404.
    """
    name = request.match_info["name"]
    path = STATIC_DIR / name
    if not _STATIC_NAME.fullmatch(name) or not path.is_file():
        raise ApiError(404, "not found")
    return web.FileResponse(path)
