"""Claiming a handoff is exclusive even when agents click at the same moment, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from assistant.agents import add_agent
from assistant.handoff_queue import estimate_wait_minutes
from assistant.store.db import UnitOfWork
from assistant.store.models import utcnow
from tests.store_fixtures import engine, postgres_url, session_factory, store_url  # noqa: F401

PASSWORD = "a long enough password"


def test_only_one_of_many_concurrent_claims_wins(session_factory: sessionmaker[Session]) -> None:  # noqa: F811
    with UnitOfWork(session_factory) as uow:
        agents = [add_agent(uow.agents, f"agent{n}", PASSWORD).id for n in range(4)]
        request = uow.handoffs.create(sender_id="web-abc", channel="gateway", reason="talk_to_human")
        uow.commit()
    start, results = threading.Barrier(len(agents)), {}

    def claim(agent_id: int) -> None:
        with UnitOfWork(session_factory) as uow:
            start.wait()
            results[agent_id] = uow.handoffs.claim(request.id, agent_id)
            uow.commit()

    threads = [threading.Thread(target=claim, args=(agent_id,)) for agent_id in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [agent_id for agent_id, won in results.items() if won]
    assert len(results) == len(agents) and len(winners) == 1
    with UnitOfWork(session_factory) as uow:
        held = uow.handoffs.get(request.id)
        assert held is not None and (held.status, held.claimed_by) == ("active", winners[0])
        assert held.claimed_at is not None


def test_wait_estimate_follows_recent_claim_times_and_the_queue(session_factory: sessionmaker[Session]) -> None:  # noqa: F811
    with UnitOfWork(session_factory) as uow:
        agent = add_agent(uow.agents, "quick", PASSWORD)
        first = uow.handoffs.create(sender_id="a", channel="gateway")
        assert estimate_wait_minutes(uow.handoffs, first) == 5  # no history: the default per request
        for minutes, sender in ((2, "old-1"), (4, "old-2"), (6, "old-3")):
            done = uow.handoffs.create(sender_id=sender, channel="gateway")
            done.status, done.claimed_by = "closed", agent.id
            done.created_at = utcnow() - timedelta(hours=1)
            done.claimed_at = done.created_at + timedelta(minutes=minutes)
        second = uow.handoffs.create(sender_id="b", channel="gateway")
        second.created_at = first.created_at + timedelta(seconds=1)
        uow.session.flush()
        assert estimate_wait_minutes(uow.handoffs, first) == 4  # median claim time, nobody ahead
        assert estimate_wait_minutes(uow.handoffs, second) == 8  # one request ahead
