"""Calls to a messaging platform's send API, shared by the connectors (one place for timeouts and errors)."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp

log = logging.getLogger(__name__)
TIMEOUT = aiohttp.ClientTimeout(total=30)


class PlatformError(Exception):
    """The platform refused or could not take a message (the status and its answer are in the text)."""


async def post(
    url: str, *, json: dict[str, Any] | None = None, data: dict[str, str] | None = None,
    headers: dict[str, str] | None = None, auth: aiohttp.BasicAuth | None = None,
) -> dict[str, Any]:
    """POST to the platform; its JSON answer, or :class:`PlatformError` (never a silent loss)."""
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        async with session.post(url, json=json, data=data, headers=headers, auth=auth) as response:
            text = await response.text()
            if response.status >= 300:
                raise PlatformError(f"{url.split('?')[0]} answered {response.status}: {text[:500]}")
            try:
                answer = await response.json(content_type=None)
            except ValueError:
                return {}
            return answer if isinstance(answer, dict) else {}
