"""Each request's id (:mod:`assistant.observe.logs`): set for its log lines, answered in ``X-Request-ID``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from assistant.observe.logs import REQUEST_ID, REQUEST_ID_HEADER, new_request_id

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def request_id_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    request_id = new_request_id(request.headers.get(REQUEST_ID_HEADER))
    # Not reset afterwards: the access log line, written after the handler, carries it too;
    # the next request on the connection sets its own.
    REQUEST_ID.set(request_id)
    try:
        response = await handler(request)
    except web.HTTPException as error:
        error.headers[REQUEST_ID_HEADER] = request_id
        raise
    if not response.prepared:
        response.headers[REQUEST_ID_HEADER] = request_id
    return response
