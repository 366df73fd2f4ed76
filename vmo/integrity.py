"""Unique constraints a request can hit, and the 409 each answers: one table, applied in one place.

A service checks for a duplicate before it writes, but two concurrent requests can both pass the
check; the database's unique constraint then refuses the second. The unit of work (`vmo.uow`, around
every request and CLI command) maps that refusal (an IntegrityError at flush or commit) to the Conflict
named here, instead of a 500, the way BEMServer's `catch_integrity_error` does; `vmo.http.errors` does
the same for one escaping outside it. Where an answer must not confirm personal data (an ID number, a plate
owner's booking) the message only says to try again: the retry then gets the service's own answer.
"""
import re
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import UniqueConstraint
from sqlalchemy.exc import IntegrityError

from vmo.errors import Conflict


@dataclass(frozen=True)
class Unique:
    message: str
    field: str | None = None  # the request's field named in the error's `fields`
    detail: str = "already registered"


RACE = "another request made the same change at the same moment; try again"

# Constraint name (as in the migrations and on PostgreSQL) -> the conflict it means: the core's own
# tables here; each feature adds its tables' from its `register(app, api)` (`register(app, CONFLICTS)`,
# the table beside its models).
CONFLICTS: dict[str, Unique] = {
    "uq_users_username": Unique("this username is taken", "username", "already taken"),
    "uq_companies_credit_code": Unique("a company with this credit code is already registered", "credit_code"),
    "uq_candidates_id_number": Unique(RACE),  # no confirmation that a person is registered
    "uq_offices_code": Unique("an office with this code exists", "code", "already exists"),
    "uq_sms_opt_outs_phone": Unique(RACE),
    "uq_outbox_messages_key": Unique(RACE),
    "uq_tokens_token_hash": Unique(RACE),
}

_KEY = "vmo.conflicts"


def register(app, conflicts: dict[str, "Unique"]) -> None:
    """Add a feature's constraints to this app's table; a name already there is a mistake."""
    table = app.extensions.setdefault(_KEY, dict(CONFLICTS))
    taken = sorted(table.keys() & conflicts.keys())
    if taken:
        raise ValueError(f"unique constraints registered twice: {', '.join(taken)}")
    table.update(conflicts)


def conflicts() -> dict[str, "Unique"]:
    """The current app's table: the core's and every registered feature's."""
    return current_app.extensions.get(_KEY, CONFLICTS)


_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (.+)$")


def constraint_name(exc: IntegrityError) -> str | None:
    """The name of the unique constraint that refused the write (PostgreSQL names it; SQLite names the
    columns, which the models' metadata turns back into the name), else None."""
    diag = getattr(exc.orig, "diag", None)
    if diag is not None:
        return getattr(diag, "constraint_name", None)
    match = _SQLITE_UNIQUE.search(str(exc.orig))
    if not match:
        return None
    columns = [part.strip() for part in match.group(1).split(",")]
    table_name = columns[0].split(".", 1)[0]
    names = {column.split(".", 1)[-1] for column in columns}
    from vmo.extensions import db

    table = db.metadata.tables.get(table_name)
    if table is None:
        return None
    for constraint in [*table.constraints, *table.indexes]:
        unique = isinstance(constraint, UniqueConstraint) or getattr(constraint, "unique", False)
        if unique and {column.name for column in constraint.columns} == names:
            return constraint.name
    return None


def conflict_for(exc: IntegrityError) -> Conflict | None:
    """The Conflict for a unique constraint in the app's table, or None (any other integrity error is a bug)."""
    unique = conflicts().get(constraint_name(exc) or "")
    if unique is None:
        return None
    return Conflict(unique.message, fields={unique.field: [unique.detail]} if unique.field else None)
