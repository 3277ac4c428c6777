"""The way to the customer store: :func:`open_store`, its units of work, and schema migration.

Nothing here runs at import time. Code above ``assistant.store`` opens the store once with
``open_store(url)`` when it starts (a :class:`Store`: one engine), takes a
:class:`UnitOfWork` from it per request, action call or job step (``with store.unit_of_work()
as uow``), and closes it when it stops (or uses it as a context manager), so no caller
handles engines, sessions or session factories itself.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import URL, Engine, create_engine, event, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from assistant.errors import UserError
from assistant.private_files import private_file
from assistant.store.repositories import (
    AgentRepository,
    AlertRepository,
    AnalyticsRepository,
    AuditRepository,
    CartRepository,
    ChannelLinkRepository,
    CustomerRepository,
    EventRepository,
    HandoffRepository,
    HistoryRepository,
    NoticeRepository,
    NudgeRepository,
    OrderRepository,
    OutboxRepository,
    PlatformSyncRepository,
    PrivacyRepository,
    ProductRepository,
    PromotionRepository,
    ReportRepository,
    ReturnRepository,
)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_SECONDS = 30


def normalize_url(url: str | URL) -> URL:
    """Pin PostgreSQL URLs to psycopg 3, the driver we ship (``postgresql://`` means psycopg2)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _enable_sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """Foreign keys are off per connection in SQLite; WAL lets readers run beside a writer."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """Create an engine for a SQLite or PostgreSQL URL with the settings the store relies on."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
            private_file(Path(parsed.database))  # customers' data: mode 600 (SQLite's journals follow it)
        connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, **kwargs.pop("connect_args", {})}
        engine = create_engine(parsed, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _enable_sqlite_pragmas)
        return engine
    return create_engine(parsed, pool_pre_ping=True, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects readable after commit (replies are built afterwards)."""
    return sessionmaker(engine, expire_on_commit=False)


class UnitOfWork:
    """One transaction: rolled back on exit unless :meth:`commit` was called.

    ``with UnitOfWork(factory) as uow: ...; uow.commit()``.  The repositories hang off
    the unit of work so that everything done inside the block shares one session.
    """

    customers: CustomerRepository
    orders: OrderRepository
    carts: CartRepository
    events: EventRepository
    handoffs: HandoffRepository
    audit: AuditRepository
    promotions: PromotionRepository
    privacy: PrivacyRepository
    nudges: NudgeRepository
    alerts: AlertRepository
    returns: ReturnRepository
    notices: NoticeRepository
    channel_links: ChannelLinkRepository
    analytics: AnalyticsRepository
    history: HistoryRepository
    products: ProductRepository
    outbox: OutboxRepository
    agents: AgentRepository
    reports: ReportRepository
    platform_sync: PlatformSyncRepository

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("UnitOfWork used outside its `with` block")
        return self._session

    def __enter__(self) -> UnitOfWork:
        session = self._session = self._session_factory()
        self.customers = CustomerRepository(session)
        self.orders = OrderRepository(session)
        self.carts = CartRepository(session)
        self.events = EventRepository(session)
        self.handoffs = HandoffRepository(session)
        self.audit = AuditRepository(session)
        self.promotions = PromotionRepository(session)
        self.privacy = PrivacyRepository(session)
        self.nudges = NudgeRepository(session)
        self.alerts = AlertRepository(session)
        self.returns = ReturnRepository(session)
        self.notices = NoticeRepository(session)
        self.channel_links = ChannelLinkRepository(session)
        self.analytics = AnalyticsRepository(session)
        self.history = HistoryRepository(session)
        self.products = ProductRepository(session)
        self.outbox = OutboxRepository(session)
        self.agents = AgentRepository(session)
        self.reports = ReportRepository(session)
        self.platform_sync = PlatformSyncRepository(session)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Roll back whatever was not committed, then release the connection.

        On an error the session's objects are expired as well; after a clean block they
        stay readable (detached), so a reply can be built from what was loaded.
        """
        try:
            if exc_type is not None:
                self.session.rollback()
        finally:
            self.session.close()
            self._session = None

    def sibling(self) -> UnitOfWork:
        """Another, separate transaction on the same store (for work handed to a thread of its own)."""
        return UnitOfWork(self._session_factory)

    def commit(self) -> None:
        self.session.commit()

    def flush(self) -> None:
        """Send the pending changes now (ids assigned, constraints checked) without ending the transaction."""
        self.session.flush()

    def rollback(self) -> None:
        self.session.rollback()


class Store:
    """The customer store at one URL: one engine (its connection pool) and the units of work on it.

    Long-lived processes (web app, action server, workers) hold one for their lifetime;
    a command opens one for its run (``with open_store(url) as store``).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = make_session_factory(engine)

    def unit_of_work(self) -> UnitOfWork:
        """A fresh transaction (``with store.unit_of_work() as uow: ...; uow.commit()``)."""
        return UnitOfWork(self._sessions)

    def ping(self) -> None:
        """Raise :class:`sqlalchemy.exc.SQLAlchemyError` unless the database answers (readiness checks)."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def close(self) -> None:
        """Close the pooled connections (the store can still open new ones afterwards)."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def open_store(url: str | URL, *, migrate_first: bool = False) -> Store:
    """The customer store at ``url``, migrated to the newest schema first when asked (commands of the demo profile)."""
    if migrate_first:
        migrate(url)
    return Store(make_engine(url))


def alembic_config() -> Config:
    """The Alembic configuration of the packaged migrations, independent of the CWD."""
    config = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def migrate(url: str | URL, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` (the newest schema by default)."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()


class SchemaBehind(UserError):
    """The store's schema is older than this code; ``shop-assistant db migrate`` brings it up."""


def require_current_schema(url: str | URL) -> None:
    """Raise :class:`SchemaBehind` unless the database at ``url`` is at the newest revision.

    The production profile's processes call this instead of :func:`migrate`: with several
    replicas starting at once, the schema has one owner (``shop-assistant db migrate``, a
    deploy job), and a process started against an older schema stops with this message
    rather than running half-migrated.
    """
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
    if current != head:
        raise SchemaBehind(
            f"the customer store's schema is at revision {current or 'none'}, this code needs {head}: "
            "run `shop-assistant db migrate` first (the production profile never migrates on start)"
        )


def prepare_schema(url: str | URL, profile: str) -> None:
    """What a command does before using the store: the demo profile migrates on the spot
    (one process, nothing else to coordinate); the production profile only checks, since
    ``shop-assistant db migrate`` is the schema's one owner there (:class:`SchemaBehind`)."""
    if profile == "production":
        require_current_schema(url)
    else:
        migrate(url)
