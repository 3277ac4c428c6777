"""Support-agent accounts of the console (the password hash is made in :mod:`assistant.agents`)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from assistant.store.models import AGENT_ROLES, Agent, HandoffRequest, utcnow


class AgentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, username: str, password_hash: str, role: str = "agent") -> Agent:
        if role not in AGENT_ROLES:
            raise ValueError(f"unknown role {role!r}; expected one of {AGENT_ROLES}")
        agent = Agent(username=username, password_hash=password_hash, role=role, created_at=utcnow())
        self.session.add(agent)
        self.session.flush()
        return agent

    def get(self, agent_id: int) -> Agent | None:
        return self.session.get(Agent, agent_id)

    def release_claims(self, agent_id: int) -> None:
        """Put the agent's active conversations back in the queue and drop their name from closed ones."""
        self.session.execute(
            update(HandoffRequest).where(HandoffRequest.claimed_by == agent_id, HandoffRequest.status == "active")
            .values(status="waiting", claimed_by=None, claimed_at=None)
        )
        self.session.execute(update(HandoffRequest).where(HandoffRequest.claimed_by == agent_id).values(claimed_by=None))

    def remove(self, agent: Agent) -> None:
        """Delete the account (its claims released first: :meth:`release_claims`)."""
        self.session.delete(agent)
        self.session.flush()

    def by_username(self, username: str) -> Agent | None:
        return self.session.scalars(select(Agent).where(Agent.username == username)).first()
