"""Structured logs: JSON lines with a request id that follows a message across the stack.

The web app gives each request an id (the caller's ``X-Request-ID`` when it is a plain
token, else a new one), answers it in ``X-Request-ID``, and sends it to Rasa in the
message metadata (``request_id``); Rasa hands the metadata to the action server in the
tracker, where :class:`actions.base.ShopAction` sets it for the action's log lines. So
``grep <id>`` finds one shopper message in the web app's and the action server's logs.

Log lines never carry a customer or sender id in clear: :func:`keyed_id` gives a tag
that is stable (one shopper's lines can be followed) and meaningless without the key.
``SHOP_LOG_FORMAT=text`` gives the classic one-line format for a person at a terminal.
"""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import json
import logging
import re
import secrets
from datetime import UTC, datetime

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
REQUEST_ID_HEADER = "X-Request-ID"
_ACCEPTED_ID = re.compile(r"[A-Za-z0-9_.-]{8,64}")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}


def keyed_id(value: str, secret: str) -> str:
    """A keyed hash of a customer or sender id for log lines (same id, same tag; no key, no id)."""
    return "id-" + hmac.new(secret.encode(), f"log:{value}".encode(), hashlib.sha256).hexdigest()[:12]


def new_request_id(offered: str | None = None) -> str:
    """The caller's id when it is a plain token of 8-64 characters, else a fresh one."""
    return offered if offered and _ACCEPTED_ID.fullmatch(offered) else secrets.token_hex(8)


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` (or ``-``) to every record, from the current context."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, extras, traceback."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": getattr(record, "request_id", None) if getattr(record, "request_id", "-") != "-" else None,
        }
        line |= {key: value for key, value in vars(record).items() if key not in _STANDARD and not key.startswith("_")}
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(log_format: str = "json", level: int = logging.INFO) -> None:
    """Route every logger through one stderr handler in ``log_format`` ("json" or "text")."""
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(logging.Formatter(TEXT_FORMAT) if log_format == "text" else JsonFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
