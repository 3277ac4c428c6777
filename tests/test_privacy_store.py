"""The personalization schema (migration 0003) and the privacy, promotion and reminder
repositories on both backends: SQLite and a real PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from assistant.store.db import UnitOfWork, alembic_config, make_engine, migrate
from assistant.store.models import Base, Cart, CartNudge, Customer, Event, HandoffRequest, Order, utcnow
from assistant.store.repositories import DueCart
from tests.store_fixtures import (  # noqa: F401  (fixtures)
    T0,
    add_order,
    catalog_file,
    engine,
    postgres_url,
    products,
    session_factory,
    store_url,
)


def _revision_and_drift(url: str) -> tuple[str | None, list[object]]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return context.get_current_revision(), compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def test_0003_goes_down_and_up_again_and_matches_the_models(store_url: str) -> None:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()  # later migrations sit on 0003
    assert _revision_and_drift(store_url) == (head, [])
    engine = make_engine(store_url)
    try:
        for target in ("0002_agent_console", "head"):
            with engine.begin() as connection:
                config = alembic_config()
                config.attributes["connection"] = connection
                (command.downgrade if target != "head" else command.upgrade)(config, target)
    finally:
        engine.dispose()
    migrate(store_url)
    assert _revision_and_drift(store_url) == (head, [])


def _count(session: Session, model: type, *where: object) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_erasure_leaves_no_customer_rows_and_anonymizes_orders(
    session_factory: sessionmaker[Session], products: list[str]  # noqa: F811
) -> None:
    with UnitOfWork(session_factory) as uow:
        add_order(uow.session, "E-1", "gone", "gone@example.com", "delivered")
        add_order(uow.session, "K-1", "kept", "kept@example.com", "delivered")
        uow.customers.upsert("gone", marketing_consent=True, last_sender_id="web-customer-gone", last_channel="gateway")
        for kind in ("view", "search", "add_to_cart"):
            uow.events.record(kind, customer_id="gone", product_id=None if kind == "search" else products[0], query="x")
        uow.events.record("view", session_id="web-anon-of-gone", product_id=products[1])
        uow.events.record("view", customer_id="kept", product_id=products[1])
        uow.carts.add_item(uow.carts.get_or_create(customer_id="gone"), products[0])
        uow.carts.add_item(uow.carts.get_or_create(session_key="web-anon-of-gone"), products[0])
        cart = uow.carts.get_or_create(customer_id="gone")
        uow.nudges.claim(DueCart("gone", cart.id, utcnow(), "web-customer-gone", "gateway", None), "sent")
        uow.handoffs.create("web-customer-gone", "gateway", "help", customer_id="gone", transcript=[{"text": "hi"}])
        uow.commit()

    with UnitOfWork(session_factory) as uow:
        report = uow.privacy.erase("gone", {"web-anon-of-gone", "web-customer-gone"})
        uow.commit()
    assert (report.events_deleted, report.carts_deleted, report.orders_anonymized) == (4, 2, 1)

    with session_factory() as session:
        assert session.get(Customer, "gone") is None
        assert _count(session, Event, (Event.customer_id == "gone") | (Event.session_id == "web-anon-of-gone")) == 0
        assert _count(session, Cart) == 0 and _count(session, CartNudge) == 0
        order = session.scalars(select(Order).where(Order.order_number == "E-1")).one()
        assert order.customer_id == report.anonymized_as and order.email is None
        handoff = session.scalars(select(HandoffRequest)).one()
        assert (handoff.customer_id, handoff.transcript) == (None, None)
        assert _count(session, Event, Event.customer_id == "kept") == 1  # nobody else's data is touched
        assert session.scalars(select(Order).where(Order.order_number == "K-1")).one().email == "kept@example.com"


def test_promotions_are_active_only_inside_their_window(session_factory: sessionmaker[Session]) -> None:
    now = utcnow()
    with UnitOfWork(session_factory) as uow:
        uow.promotions.add("NOW", "Now", "percent", 10)
        uow.promotions.add("SOON", "Soon", "percent", 10, starts_at=now + timedelta(days=1))
        uow.promotions.add("ENDS", "Ends", "amount", 5, ends_at=now + timedelta(hours=1))
        uow.promotions.add("OVER", "Over", "amount", 5, starts_at=T0, ends_at=T0 + timedelta(days=1))
        uow.commit()
        assert [p.code for p in uow.promotions.active(now)] == ["ENDS", "NOW"]  # ending soonest first
        assert [p.code for p in uow.promotions.active(now + timedelta(days=2))] == ["NOW", "SOON"]


@pytest.mark.postgres
def test_a_cart_version_is_claimed_once_on_postgresql(postgres_url: str) -> None:  # noqa: F811
    engine = make_engine(postgres_url)
    try:
        factory = sessionmaker(engine)
        with UnitOfWork(factory) as uow:
            uow.customers.upsert("claimer")
            uow.commit()
        cart = DueCart("claimer", 1, T0, "web-customer-claimer", "gateway", None)
        outcomes = []
        for _ in range(2):
            with UnitOfWork(factory) as uow:
                outcomes.append(uow.nudges.claim(cart, "sending"))
                uow.commit()
        assert outcomes == [True, False]
        with UnitOfWork(factory) as uow:
            uow.session.execute(CartNudge.__table__.delete())
            uow.session.execute(Customer.__table__.delete().where(Customer.id == "claimer"))
            uow.commit()
    finally:
        engine.dispose()
