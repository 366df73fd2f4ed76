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
    return db.session.execute(stmt).rowcount
