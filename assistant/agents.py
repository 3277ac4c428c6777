"""Support-agent accounts: ``shop-assistant agents add|disable|enable|remove|reset-password``, password checks.

Passwords are hashed with Argon2id (argon2-cffi, its default parameters); a check against
an unknown username or a disabled account still spends one hash so that timing does not
reveal who exists. Disabling an account or resetting its password raises its session
epoch, which ends every console session it has (the web app checks the epoch).
"""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

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


def clean_display_name(display_name: str) -> str:
    """The name shoppers will see: printable, 1-64 characters."""
    name = " ".join(display_name.split())
    if not 1 <= len(name) <= 64 or not name.isprintable():
        raise AccountError("a display name is 1-64 printable characters")
    return name


def add_agent(
    agents: AgentRepository, username: str, password: str, role: str = "agent", display_name: str = "Support"
) -> Agent:
    """Create an account in ``agents`` (``uow.agents``; the caller commits)."""
    if not USERNAME.fullmatch(username):
        raise AccountError("a username is 1-64 letters, digits or . _ @ -")
    if agents.by_username(username) is not None:
        raise AccountError(f"an agent named {username!r} already exists")
    agent = agents.add(username, hash_password(password), role)
    agent.display_name = clean_display_name(display_name)
    return agent


def _existing(agents: AgentRepository, username: str) -> Agent:
    agent = agents.by_username(username)
    if agent is None:
        raise AccountError(f"there is no agent named {username!r}")
    return agent


def set_disabled(agents: AgentRepository, username: str, disabled: bool) -> Agent:
    """Disable (ending its sessions) or re-enable an account (the caller commits)."""
    agent = _existing(agents, username)
    agent.disabled = disabled
    agent.session_epoch += 1
    return agent


def reset_password(agents: AgentRepository, username: str, password: str) -> Agent:
    """Set a new password and end the account's sessions (the caller commits)."""
    agent = _existing(agents, username)
    agent.password_hash = hash_password(password)
    agent.session_epoch += 1
    return agent


def remove_agent(agents: AgentRepository, username: str) -> None:
    """Delete an account; conversations it held go back to the queue (the caller commits)."""
    agent = _existing(agents, username)
    agents.release_claims(agent.id)
    agents.remove(agent)


def authenticate(agents: AgentRepository, username: str, password: str) -> Agent | None:
    """The enabled agent whose password this is, or ``None``."""
    agent = agents.by_username(username) if USERNAME.fullmatch(username) else None
    try:
        _hasher.verify(agent.password_hash if agent else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    return agent if agent is not None and not agent.disabled else None


def session_valid(agents: AgentRepository, agent_id: int, epoch: int) -> bool:
    """Whether a console session started at ``epoch`` may go on: the account exists, is enabled, unchanged."""
    agent = agents.get(agent_id)
    return agent is not None and not agent.disabled and agent.session_epoch == epoch
