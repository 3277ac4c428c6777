"""Account linking across channels: link tokens, the ``channel_links`` table from both sides, erasure.

The link token is scoped: a customer token or an export link signed with the same secret is
not a link token, and an expired or altered one links nothing. The Rasa side
(``rasa_addons.account_links``, SQLAlchemy Core) and the store side (the repository, erasure)
work on the same migrated table, on SQLite and a real PostgreSQL.
"""

from __future__ import annotations

import subprocess
import time

import pytest
from sqlalchemy.orm import Session, sessionmaker

from assistant.identity import read_link_token, sign_customer_token, sign_export_link, sign_link_token
from assistant.settings import PROJECT_ROOT
from assistant.store.db import UnitOfWork
from assistant.store.models import Customer, utcnow
from assistant.store.repositories.channel_links import ChannelLinkRepository
from assistant.store.repositories.privacy import PrivacyRepository
from rasa_addons.account_links import (
    LINK_FAILED,
    LINKED,
    NOT_LINKED,
    UNLINKED,
    AccountLinks,
)
from tests.store_fixtures import engine, postgres_url, session_factory, store_url  # noqa: F401  (fixtures)

SECRET = "store-secret-for-link-tests"


def test_a_link_token_names_its_customer_until_it_expires() -> None:
    token = sign_link_token("C-7", SECRET, ttl_seconds=600)
    assert read_link_token(token, SECRET) == "C-7"
    assert read_link_token(token, SECRET, now=time.time() + 601) is None
    assert read_link_token(token, "another-secret") is None
    body, expiry, signature = token.split(".")
    assert read_link_token(f"{body}.{int(expiry) + 3600}.{signature}", SECRET) is None


def test_other_tokens_signed_with_the_store_secret_are_not_link_tokens() -> None:
    assert read_link_token(sign_customer_token("C-7", SECRET), SECRET) is None
    assert read_link_token(sign_export_link("C-7", SECRET), SECRET) is None
    assert read_link_token("link C-7", SECRET) is None


def customer(factory: sessionmaker[Session], customer_id: str) -> None:
    with UnitOfWork(factory) as uow:
        uow.session.add(Customer(id=customer_id, created_at=utcnow(), marketing_consent=False))
        uow.commit()


def test_linking_by_chat_and_unlinking(store_url: str, session_factory: sessionmaker[Session]) -> None:  # noqa: F811
    customer(session_factory, "C-1")
    links = AccountLinks(store_url, SECRET)
    try:
        assert links.answer("whatsapp", "15551234", "hello") is None  # not a link message: Rasa's
        assert links.customer_token("whatsapp", "15551234") is None  # a guest
        assert links.answer("whatsapp", "15551234", "unlink") == NOT_LINKED

        assert links.answer("whatsapp", "15551234", f"link {sign_link_token('C-1', SECRET)}") == LINKED
        assert links.answer("telegram", "42", f"\u2060/start {sign_link_token('C-1', SECRET)}") == LINKED
        token = links.customer_token("whatsapp", "15551234")
        assert token is not None
        with UnitOfWork(session_factory) as uow:
            assert ChannelLinkRepository(uow.session).customer_for("whatsapp", "15551234") == "C-1"
            assert [link.channel for link in ChannelLinkRepository(uow.session).of_customer("C-1")] in (
                ["whatsapp", "telegram"], ["telegram", "whatsapp"])

        assert links.answer("whatsapp", "15551234", f"link {sign_link_token('nobody', SECRET)}") == LINK_FAILED
        expired = sign_link_token("C-1", SECRET, ttl_seconds=-1)
        assert links.answer("sms", "+15550001", f"link {expired}") == LINK_FAILED
        assert links.customer_token("sms", "+15550001") is None

        assert links.answer("whatsapp", "15551234", "Unlink my account") == UNLINKED
        assert links.customer_token("whatsapp", "15551234") is None
        assert links.customer_token("telegram", "42") is not None  # other channels keep their link
    finally:
        links.engine.dispose()


def test_erasure_removes_every_link(store_url: str, session_factory: sessionmaker[Session]) -> None:  # noqa: F811
    customer(session_factory, "C-2")
    customer(session_factory, "C-3")
    with UnitOfWork(session_factory) as uow:
        repository = ChannelLinkRepository(uow.session)
        repository.link("messenger", "psid-1", "C-2")
        repository.link("sms", "+15550002", "C-2")
        repository.link("sms", "+15550003", "C-3")
        uow.commit()
    with UnitOfWork(session_factory) as uow:
        PrivacyRepository(uow.session).erase("C-2", set())
        uow.commit()
    with UnitOfWork(session_factory) as uow:
        repository = ChannelLinkRepository(uow.session)
        assert repository.of_customer("C-2") == []
        assert repository.customer_for("messenger", "psid-1") is None
        assert repository.customer_for("sms", "+15550003") == "C-3"


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_the_rasa_runtime_links_on_postgresql(store_url: str, session_factory: sessionmaker[Session]) -> None:  # noqa: F811
    """Rasa's own Python (SQLAlchemy 1.4, psycopg2) reads and writes the store's PostgreSQL table."""
    customer(session_factory, "C-4")
    script = (
        "import sys; from assistant.identity import sign_link_token; from rasa_addons.account_links import AccountLinks\n"
        f"links = AccountLinks(sys.argv[1], {SECRET!r})\n"
        f"print(links.answer('slack', 'U1', 'link ' + sign_link_token('C-4', {SECRET!r})))\n"
        "print(links.customer_token('slack', 'U1') is not None)\n"
    )
    said = subprocess.run([str(PROJECT_ROOT / ".venv-rasa" / "bin" / "python"), "-c", script, store_url],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, check=True).stdout.splitlines()
    assert said == [LINKED, "True"]
    with UnitOfWork(session_factory) as uow:
        assert ChannelLinkRepository(uow.session).customer_for("slack", "U1") == "C-4"
