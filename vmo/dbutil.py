"""Small SQL helpers that must behave the same on SQLite and PostgreSQL."""
from sqlalchemy.dialects import postgresql, sqlite

from vmo.extensions import db


def insert_ignoring_conflicts(model, rows: list[dict], index_elements: list[str] | None = None,
                              values: dict | None = None) -> int:
    """INSERT ... ON CONFLICT DO NOTHING for both databases; returns how many rows went in.

    One statement, compiled once and cached, run over the rows (SQLAlchemy's "insertmanyvalues" sends
    them in batches): not a statement built afresh per call around literal rows. `values` are column
    expressions common to every row; they may read a row's own values through `bindparam(name)`.
    Rows with different keys go in separate batches.
    """
    if not rows:
        return 0
    table = model.__table__
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table)
    if values:
        stmt = stmt.values(**values)
    # Not .rowcount: it is -1 on psycopg for an executemany; RETURNING gives one row per row that went
    # in, on both databases.
    stmt = stmt.on_conflict_do_nothing(index_elements=index_elements).returning(list(table.primary_key.columns)[0])
    batches: dict[tuple, list[dict]] = {}
    for row in rows:
        batches.setdefault(tuple(sorted(row)), []).append(row)
    # Through the session, so that rows it holds are flushed first (they keep their order).
    return sum(len(db.session.execute(stmt, batch).all()) for batch in batches.values())


def upsert(model, rows: list[dict], index_elements: list[str], set_, where=None) -> int:
    """INSERT ... ON CONFLICT (index_elements) DO UPDATE for both databases; returns rows written.

    `set_` maps column names to new values, or is a callable `set_(excluded, table)` returning that
    mapping, so updates can keep or combine the existing value (e.g. the later of two dates).
    `where` (a callable of the same two arguments) limits which conflicting rows are updated; rows it
    refuses count neither as inserted nor as updated in the returned rowcount. Every row must have
    the same keys: the statement is compiled once and run as an executemany, which is what makes
    tens of thousands of rows take seconds rather than minutes.
    """
    if not rows:
        return 0
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = model.__table__
    stmt = insert(table)
    values = set_(stmt.excluded, table) if callable(set_) else set_
    condition = where(stmt.excluded, table) if callable(where) else where
    stmt = stmt.on_conflict_do_update(index_elements=index_elements, set_=values, where=condition)
    # executemany's rowcount is -1 on psycopg; RETURNING (batched by SQLAlchemy's "insertmanyvalues")
    # gives one row per inserted or updated row on both databases.
    primary_key = list(table.primary_key.columns)[0]
    return len(db.session.connection().execute(stmt.returning(primary_key), rows).all())
