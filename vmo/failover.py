"""A database failover as the app sees it: which driver errors mean "no primary right now".

While Patroni moves the primary (docs/scale.md, `make ha`), a request meets one of these:

- a connection refused, or closed by HAProxy while connecting (no member is primary yet): libpq's
  own error, with no SQLSTATE;
- a connection lost mid-query or at COMMIT (class 08, or "server closed the connection");
- the old primary going away: 57P01 terminating connection due to administrator command, 57P02
  crash shutdown, 57P03 the database system is starting up / shutting down / in recovery;
- the demoted primary, now a replica, refusing a write: 25006 read-only SQL transaction.

Each is marked as a disconnect in SQLAlchemy's `handle_error` event, so SQLAlchemy invalidates the
connection and the pool (the next checkout connects afresh, through HAProxy, to the new primary),
and the HTTP edge answers 503 with Retry-After instead of a 500 (`vmo.http.errors`). Errors that say
something about the request (constraint violations, serialization failures, timeouts) are not
touched: only errors that mean the server in front of us is not a working primary.
"""
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

# SQLSTATEs of a server that is going away, coming up, or no longer the primary.
UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "25006"})


def driver_error_unavailable(error: BaseException) -> bool:
    """Does this driver (psycopg) exception mean the database is not a working primary right now?"""
    try:
        import psycopg
    except ImportError:  # SQLite only: nothing fails over
        return False
    if not isinstance(error, psycopg.Error):
        return False
    sqlstate = getattr(error, "sqlstate", None)
    if sqlstate is None:
        # libpq's own errors (refused, closed while connecting, lost): no server answered with a code.
        return isinstance(error, psycopg.OperationalError)
    return sqlstate.startswith("08") or sqlstate in UNAVAILABLE_SQLSTATES


def unavailable(exc: BaseException) -> bool:
    """An error raised by SQLAlchemy (or one raised while handling it) because the database is not
    a working primary: the connection was invalidated, or the driver's error says so."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, DBAPIError) and (exc.connection_invalidated or driver_error_unavailable(exc.orig)):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


@event.listens_for(Engine, "handle_error")
def _mark_disconnect(context) -> None:
    # Also called for errors while connecting (context.connection is None then).
    if not context.is_disconnect and driver_error_unavailable(context.original_exception):
        context.is_disconnect = True
