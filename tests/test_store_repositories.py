"""Repositories against a real database: guest look-up, cancellation, carts, handoffs, events."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from assistant.store.db import UnitOfWork
from assistant.store.models import AuditLog, Customer, Refund
from tests.store_fixtures import (  # noqa: F401  (fixtures)
    T0,
    add_order,
    catalog_file,
    count_rows,
    engine,
    postgres_url,
    products,
    session_factory,
    store_url,
)


@pytest.fixture
def orders(session_factory: sessionmaker[Session], products: list[str]) -> None:  # noqa: F811
    with UnitOfWork(session_factory) as uow:
        add_order(uow.session, "SA-000100", "C1", "ada@example.com", "delivered", placed_at=T0, shipped=True)
        add_order(uow.session, "SA-000101", "C1", "ada@example.com", "paid", placed_at=T0 + timedelta(days=3))
        add_order(uow.session, "SA-000102", "C1", "ada@example.com", "shipped", placed_at=T0 + timedelta(days=2),
                  shipped=True)
        add_order(uow.session, "SA-000200", "C2", "bob@example.com", "placed", placed_at=T0 + timedelta(days=5))
        refunded = uow.orders.by_number("SA-000100")
        assert refunded is not None
        refunded.refund = Refund(status="refunded", amount=12.5, refunded_at=T0 + timedelta(days=9))
        uow.commit()


def test_latest_and_recent_orders_of_a_customer(session_factory: sessionmaker[Session], orders: None) -> None:  # noqa: F811
    with UnitOfWork(session_factory) as uow:
        latest = uow.orders.latest_for_customer("C1")
        assert latest is not None and latest.order_number == "SA-000101"
        assert [o.order_number for o in uow.orders.recent_for_customer("C1", limit=2)] == ["SA-000101", "SA-000102"]
        assert uow.orders.latest_for_customer("nobody") is None
    # details stay readable after the session closed (they were loaded with the order)
    assert latest.items[0].product.title == "Trail shoe 1"
    assert latest.placed_at == T0 + timedelta(days=3) and latest.placed_at.tzinfo is not None


@pytest.mark.parametrize("typed", ["SA-000102", " sa-000102 ", "#SA-000102"])
@pytest.mark.parametrize("email", ["ada@example.com", "  ADA@Example.COM "])
def test_guest_finds_own_order(session_factory: sessionmaker[Session], orders: None, typed: str, email: str) -> None:  # noqa: F811
    with UnitOfWork(session_factory) as uow:
        order = uow.orders.find_for_guest(typed, email)
        assert order is not None and order.order_number == "SA-000102"
        assert order.shipment is not None and order.shipment.tracking_number == "1Z999"


@pytest.mark.parametrize(
    ("number", "email"),
    [
        ("SA-000102", "bob@example.com"),   # real order, someone else's e-mail
        ("SA-000102", "ada@example.co"),    # real order, near-miss e-mail
        ("SA-000102", ""),                  # real order, no e-mail
        ("SA-999999", "ada@example.com"),   # no such order, a real customer's e-mail
        ("", "ada@example.com"),
    ],
)
def test_guest_lookup_refuses_without_telling_why(
    session_factory: sessionmaker[Session], orders: None, number: str, email: str  # noqa: F811
) -> None:
    with UnitOfWork(session_factory) as uow:
        assert uow.orders.find_for_guest(number, email) is None


def test_cancel_only_before_shipping(session_factory: sessionmaker[Session], orders: None) -> None:  # noqa: F811
    with UnitOfWork(session_factory) as uow:
        shipped = uow.orders.by_number("SA-000102")
        delivered = uow.orders.by_number("SA-000100")
        paid = uow.orders.by_number("SA-000101")
        assert shipped is not None and delivered is not None and paid is not None
        assert uow.orders.cancel(shipped) == "shipped"
        assert uow.orders.cancel(delivered) == "shipped"
        assert uow.orders.cancel(paid, now=T0 + timedelta(days=4)) == "cancelled"
        assert uow.orders.cancel(paid) == "already_cancelled"
        uow.commit()
    with UnitOfWork(session_factory) as uow:
        statuses = {o.order_number: (o.status, o.cancelled_at) for o in uow.orders.recent_for_customer("C1")}
        assert statuses == {
            "SA-000100": ("delivered", None), "SA-000102": ("shipped", None),
            "SA-000101": ("cancelled", T0 + timedelta(days=4)),
        }
        audit = uow.session.scalars(select(AuditLog)).all()
        assert [(a.customer_id, a.action, a.detail) for a in audit] == [
            ("C1", "order_cancelled", {"order_number": "SA-000101", "previous_status": "paid"})
        ]


def test_refunds_for_customer(session_factory: sessionmaker[Session], orders: None) -> None:  # noqa: F811
    with UnitOfWork(session_factory) as uow:
        refunded = uow.orders.refunds_for_customer("C1")
        assert [(o.order_number, o.refund.status, o.refund.amount) for o in refunded if o.refund] == [
            ("SA-000100", "refunded", 12.5)
        ]
        assert uow.orders.refunds_for_customer("C2") == []


def test_cart_add_remove_list_clear(session_factory: sessionmaker[Session], products: list[str]) -> None:  # noqa: F811
    first, second = products[0], products[1]
    with UnitOfWork(session_factory) as uow:
        cart = uow.carts.get_or_create(session_key="web-abc")
        assert uow.carts.add_item(cart, first) == 1
        assert uow.carts.add_item(cart, first, 2) == 3
        assert uow.carts.add_item(cart, second) == 1
        uow.commit()
    with UnitOfWork(session_factory) as uow:
        cart = uow.carts.get_or_create(session_key="web-abc")
        lines = uow.carts.lines(cart)
        assert [(line.product_id, line.quantity, line.line_total) for line in lines] == [
            (first, 3, 33.0), (second, 1, 12.0)
        ]
        assert lines[0].title == "Trail shoe 1" and lines[0].image_url == "https://img.example/P00001.jpg"
        assert uow.carts.remove_item(cart, first, 1) == 2
        assert uow.carts.remove_item(cart, second) == 0
        assert uow.carts.remove_item(cart, products[5]) == 0
        uow.commit()
    with UnitOfWork(session_factory) as uow:
        cart = uow.carts.get_or_create(session_key="web-abc")
        assert [(line.product_id, line.quantity) for line in uow.carts.lines(cart)] == [(first, 2)]
        uow.carts.clear(cart)
        uow.commit()
    assert count_rows(session_factory, "cart_items") == 0
    assert count_rows(session_factory, "carts") == 1


def test_carts_are_per_owner(session_factory: sessionmaker[Session], products: list[str]) -> None:  # noqa: F811
    with UnitOfWork(session_factory) as uow:
        uow.customers.upsert("C9")
        mine = uow.carts.get_or_create(customer_id="C9")
        anonymous = uow.carts.get_or_create(session_key="C9")
        assert mine.id != anonymous.id
        uow.carts.add_item(mine, products[0])
        assert uow.carts.lines(anonymous) == []
        assert uow.carts.get(session_key="other") is None
        with pytest.raises(ValueError):
            uow.carts.get_or_create(customer_id="C9", session_key="x")
        with pytest.raises(ValueError):
            uow.carts.add_item(mine, products[0], 0)


def test_handoff_queue(session_factory: sessionmaker[Session]) -> None:  # noqa: F811
    with UnitOfWork(session_factory) as uow:
        first = uow.handoffs.create("sender-1", "web", reason="talk_to_human",
                                    transcript=[{"from": "user", "text": "a person please"}])
        second = uow.handoffs.create("sender-2", "telegram", reason="fallback")
        uow.commit()
    with UnitOfWork(session_factory) as uow:
        assert [r.sender_id for r in uow.handoffs.list_waiting()] == ["sender-1", "sender-2"]
        taken = uow.handoffs.get(first.id)
        assert taken is not None and taken.transcript == [{"from": "user", "text": "a person please"}]
        uow.handoffs.set_status(taken, "active")
        uow.commit()
    with UnitOfWork(session_factory) as uow:
        assert [r.id for r in uow.handoffs.list_waiting()] == [second.id]
        active = uow.handoffs.open_for_sender("sender-1")
        assert active is not None and active.status == "active"
        uow.handoffs.set_status(active, "closed")
        assert uow.handoffs.open_for_sender("sender-1") is None
        with pytest.raises(ValueError):
            uow.handoffs.set_status(active, "lost")


def test_events_and_audit(session_factory: sessionmaker[Session], products: list[str]) -> None:  # noqa: F811
    with UnitOfWork(session_factory) as uow:
        uow.customers.upsert("C1", personalization_consent=None)
        uow.events.record("view", customer_id="C1", product_id=products[0], at=T0)
        uow.events.record("search", customer_id="C1", query="trail shoes", at=T0 + timedelta(minutes=1))
        uow.events.record("view", session_id="anon-1", product_id=products[1])
        uow.customers.set_personalization_consent("C1", True)
        uow.audit.record("C1", "consent_changed", {"personalization": True}, at=T0)
        uow.commit()
        with pytest.raises(ValueError):
            uow.events.record("teleport", customer_id="C1")
        with pytest.raises(ValueError):
            uow.events.record("view")
    with UnitOfWork(session_factory) as uow:
        assert [(e.type, e.query) for e in uow.events.recent_for_customer("C1")] == [
            ("search", "trail shoes"), ("view", None)
        ]
        customer = uow.customers.get("C1")
        assert customer is not None and customer.personalization_consent is True
        assert [(a.action, a.detail) for a in uow.audit.for_customer("C1")] == [
            ("consent_changed", {"personalization": True})
        ]


def test_console_page_lists_held_then_customers_then_guests(session_factory: sessionmaker[Session]) -> None:  # noqa: F811
    with UnitOfWork(session_factory) as uow:
        uow.session.add(Customer(id="C9", created_at=T0))
        guest = uow.handoffs.create("guest", "web")
        customer = uow.handoffs.create("signed-in", "web", customer_id="C9")
        held = uow.handoffs.create("held", "web")
        closed = uow.handoffs.create("done", "web")
        uow.handoffs.set_status(held, "active")
        uow.handoffs.close(closed, "bot")
        uow.commit()
    with UnitOfWork(session_factory) as uow:
        rows, total = uow.handoffs.console_page(limit=10)
        assert [row.id for row in rows] == [held.id, customer.id, guest.id] and total == 3
        rows, total = uow.handoffs.console_page(limit=1)
        assert [row.id for row in rows] == [held.id] and total == 3  # the count is of every open request


def test_outbox_rows_are_added_once_claimed_once_and_recorded(session_factory: sessionmaker[Session]) -> None:  # noqa: F811
    with UnitOfWork(session_factory) as uow:
        uow.outbox.add("k1", "cart_changed", {"n": 1}, None)
        uow.outbox.add("k1", "cart_changed", {"n": 2}, None)  # the same key: the earlier request stands
        uow.outbox.add("k2", "cancellation_requested", {}, "SA-1")
        uow.commit()
    with UnitOfWork(session_factory) as uow:
        first, second = uow.outbox.pending(limit=10)
        assert (first.idempotency_key, first.payload) == ("k1", {"n": 1})
        lease = first.next_attempt_at + timedelta(minutes=1)
        assert uow.outbox.claim(first, lease) and not uow.outbox.claim(first, lease)  # a stale attempt count loses
        uow.outbox.delivered(first.id)
        uow.outbox.refused(second.id, "the store said no")
        uow.commit()
    with UnitOfWork(session_factory) as uow:
        assert uow.outbox.pending(limit=10) == []
        assert [row.idempotency_key for row in uow.outbox.not_taken()] == ["k2"]  # refused rows stay listed
        assert not uow.outbox.backlog(created_before=first.created_at + timedelta(days=1))  # refused: not waiting


def test_outbox_backlog_is_a_failed_attempt_still_waiting(session_factory: sessionmaker[Session]) -> None:  # noqa: F811
    with UnitOfWork(session_factory) as uow:
        uow.outbox.add("k3", "return_requested", {}, "SA-2")
        [row] = uow.outbox.pending(limit=10)
        assert not uow.outbox.backlog(created_before=row.created_at)
        uow.outbox.retry_at(row.id, "store down", row.created_at + timedelta(seconds=30))
        assert uow.outbox.backlog(created_before=row.created_at)
        assert not uow.outbox.backlog(created_before=row.created_at - timedelta(seconds=1))  # only older requests count


def test_platform_sync_cursors_and_order_links(session_factory: sessionmaker[Session], orders: None) -> None:  # noqa: F811
    with UnitOfWork(session_factory) as uow:
        uow.platform_sync.move_cursors("shopify", {"products": "2026-10-01T00:00:00Z", "orders": None})
        uow.platform_sync.link_orders("shopify", {"SA-000100": "gid://shopify/Order/1", "SA-999999": "gid://shopify/Order/9"})
        uow.commit()
    with UnitOfWork(session_factory) as uow:
        assert uow.platform_sync.cursors("shopify") == {"products": "2026-10-01T00:00:00Z"}  # no time: no cursor
        assert uow.platform_sync.cursors("woocommerce") == {}
        assert uow.platform_sync.external_id("shopify", "SA-000100") == "gid://shopify/Order/1"
        assert uow.platform_sync.order_number("shopify", "gid://shopify/Order/1") == "SA-000100"
        assert uow.platform_sync.order_number("shopify", "gid://shopify/Order/9") is None  # not one of our orders
