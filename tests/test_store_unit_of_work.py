"""The unit of work commits only when told to, and two writers at once lose nothing."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from assistant.store.db import UnitOfWork
from assistant.store.models import Customer
from tests.store_fixtures import (  # noqa: F401  (fixtures)
    catalog_file,
    count_rows,
    engine,
    postgres_url,
    products,
    session_factory,
    store_url,
)


def test_rolls_back_unless_committed(session_factory: sessionmaker[Session]) -> None:  # noqa: F811
    with UnitOfWork(session_factory) as uow:
        uow.customers.upsert("C1", email="one@example.com")
    assert count_rows(session_factory, "customers") == 0

    with UnitOfWork(session_factory) as uow:
        uow.customers.upsert("C1", email="One@Example.com ")
        uow.commit()
    with UnitOfWork(session_factory) as uow:
        customer = uow.customers.get("C1")
        assert customer is not None and customer.email == "one@example.com"
        assert uow.customers.by_email("  ONE@example.COM") is customer


def test_rolls_back_on_error(session_factory: sessionmaker[Session]) -> None:  # noqa: F811
    with pytest.raises(RuntimeError, match="boom"):
        with UnitOfWork(session_factory) as uow:
            uow.customers.upsert("C1")
            uow.session.flush()
            raise RuntimeError("boom")
    assert count_rows(session_factory, "customers") == 0


def test_session_is_gone_after_the_block(session_factory: sessionmaker[Session]) -> None:  # noqa: F811
    with UnitOfWork(session_factory) as uow:
        pass
    with pytest.raises(RuntimeError):
        uow.session  # noqa: B018


def test_two_concurrent_writers(session_factory: sessionmaker[Session], products: list[str]) -> None:  # noqa: F811
    """Two workers add to the same anonymous cart at once: one cart, every unit counted."""
    rounds = 15
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def writer(worker: int) -> None:
        try:
            barrier.wait()
            for _ in range(rounds):
                with UnitOfWork(session_factory) as uow:
                    cart = uow.carts.get_or_create(session_key="sender-1")
                    uow.carts.add_item(cart, products[0])
                    uow.events.record("add_to_cart", session_id="sender-1", product_id=products[0])
                    uow.commit()
            with UnitOfWork(session_factory) as uow:
                uow.customers.upsert(f"C{worker}")
                uow.commit()
        except BaseException as error:  # reported to the main thread below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors

    assert count_rows(session_factory, "carts") == 1
    assert count_rows(session_factory, "events") == 2 * rounds
    with UnitOfWork(session_factory) as uow:
        cart = uow.carts.get(session_key="sender-1")
        assert cart is not None
        assert [(line.product_id, line.quantity) for line in uow.carts.lines(cart)] == [(products[0], 2 * rounds)]
        assert set(uow.session.scalars(select(Customer.id))) == {"C0", "C1"}
