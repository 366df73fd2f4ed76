"""Count the SQL statements an engine runs inside a block (SQLAlchemy's before_cursor_execute event)."""
import contextlib
from collections.abc import Iterator

from sqlalchemy import event


@contextlib.contextmanager
def count_statements(engine) -> Iterator[list[str]]:
    """Collect every statement `engine` sends inside the block; the list's length is the count.

    COMMIT and ROLLBACK go through the DBAPI connection, not a cursor: they are not in the list.
    """
    seen: list[str] = []

    def record(_conn, _cursor, statement, _parameters, _context, _executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
