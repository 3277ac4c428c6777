"""Support-agent accounts: creation (``shop-assistant agents add``) and password checks.

Passwords are hashed with Argon2id (argon2-cffi, its default parameters); a check against
an unknown username still spends one hash so that timing does not reveal who exists.
"""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from assistant.store.models import Agent
from assistant.store.repositories.agents import AgentRepository

USERNAME = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
MIN_PASSWORD_CHARS = 10
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a real password")


class AccountError(ValueError):
    """A username or password that cannot be used; the message says why."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_CHARS} characters")
    return _hasher.hash(password)


def add_agent(session: Session, username: str, password: str, role: str = "agent") -> Agent:
    """Create an account (the caller commits)."""
    if not USERNAME.fullmatch(username):
        raise AccountError("a username is 1-64 letters, digits or . _ @ -")
    agents = AgentRepository(session)
    if agents.by_username(username) is not None:
        raise AccountError(f"an agent named {username!r} already exists")
    return agents.add(username, hash_password(password), role)


def authenticate(session: Session, username: str, password: str) -> Agent | None:
    """The agent whose password this is, or ``None``."""
    agent = AgentRepository(session).by_username(username) if USERNAME.fullmatch(username) else None
    try:
        _hasher.verify(agent.password_hash if agent else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    return agent
