"""Small SQL helpers that must behave the same on SQLite and PostgreSQL."""
from sqlalchemy.dialects import postgresql, sqlite

from vmo.extensions import db


def insert_ignoring_conflicts(model, rows: list[dict], index_elements: list[str] | None = None) -> int:
    """INSERT ... ON CONFLICT DO NOTHING for both databases; returns how many rows went in."""
    if not rows:
        return 0
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(model).values(rows).on_conflict_do_nothing(index_elements=index_elements)
    # Not .rowcount: through the ORM session it is -1 on psycopg for a multi-row INSERT; RETURNING
    # gives one row per row that went in, on both databases.
    primary_key = list(model.__table__.primary_key.columns)[0]
    return len(db.session.execute(stmt.returning(primary_key)).all())
