"""The one place that turns an ordinary failure into the line the user reads, and its exit code.

Commands and the packages below them raise their own typed errors (:class:`UserError`,
``IndexUnavailable``, ``CatalogImportError``, ``HistoryFileError``, a file that cannot be
opened, a customer store that cannot be reached); :func:`user_error_for` knows them all
and says what is wrong and what to do.  Whatever it does not know is a bug: ``main``
reports it as unexpected and shows its traceback with ``--debug``.
"""

from __future__ import annotations

import errno

from assistant.errors import UsageError, UserError
from assistant.settings import Settings


def user_error_for(error: Exception, settings: Settings | None) -> UserError | None:
    """The :class:`UserError` that ``error`` amounts to, or ``None`` for an unexpected one."""
    from assistant.store.history_records import HistoryFileError
    from catalog_index.errors import IndexUnavailable
    from catalog_index.importer import CatalogImportError

    if isinstance(error, UserError):
        return error
    if isinstance(error, IndexUnavailable):
        return UserError(str(error))  # its message names the command that builds the index
    if isinstance(error, CatalogImportError | HistoryFileError):
        return UserError(str(error), "fix the file (its expected fields are in the README) and run the command again")
    if isinstance(error, OSError) and error.errno == errno.EADDRINUSE:
        return UserError(
            f"the port is in use: {error.strerror or error}",
            "stop what is using it, or choose another port (--port or SHOP_WEB_PORT)",
        )
    if isinstance(error, OSError) and error.filename is not None:
        return UserError(f"{error.filename}: {error.strerror or error}", "check the path and its permissions")
    if settings is not None:
        return _store_error(error, settings)
    return None


def _store_error(error: Exception, settings: Settings) -> UserError | None:
    """A customer store that cannot be reached, or a ``SHOP_DATABASE_URL`` that is not a database URL."""
    from sqlalchemy import exc, make_url

    from assistant.store_steps import store_location

    if isinstance(error, exc.ArgumentError | exc.NoSuchModuleError):
        try:
            make_url(settings.database_url)
        except exc.ArgumentError:
            return UsageError(
                "SHOP_DATABASE_URL is not a database URL",
                "use sqlite:///PATH/customers.db or postgresql+psycopg://USER@HOST:PORT/DB",
            )
        if isinstance(error, exc.NoSuchModuleError):
            return UsageError(
                f"SHOP_DATABASE_URL names a database this store cannot use: {error}",
                "use a sqlite:/// or postgresql+psycopg:// URL",
            )
        return None
    if isinstance(error, exc.OperationalError | exc.InterfaceError):
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        return UserError(
            f"cannot use the customer store at {store_location(settings)}: {reason}",
            "check SHOP_DATABASE_URL and that the database is running",
        )
    return None
