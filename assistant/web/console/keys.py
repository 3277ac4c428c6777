"""Typed app keys of the agent console."""

from __future__ import annotations

from aiohttp import web

from assistant.web.console.auth import AgentSessions
from assistant.web.console.throttle import Throttle

AGENT_SESSIONS = web.AppKey("agent_sessions", AgentSessions)
LOGIN_THROTTLE = web.AppKey("login_throttle", Throttle)
