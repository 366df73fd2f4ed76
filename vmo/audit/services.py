"""Writing audit entries inside the caller's transaction, and reading them back."""
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Select, select

from vmo.audit.models import AuditEntry
from vmo.extensions import db
from vmo.types import utcnow

# Set by the HTTP layer for each request; services stay free of Flask's request object.
_request_id: ContextVar[str | None] = ContextVar("vmo_request_id", default=None)


def set_context(request_id: str | None) -> None:
    _request_id.set(request_id)


def _plain(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def record(action: str, entity: str, entity_id, *, actor=None, office_id=None, before=None, after=None) -> AuditEntry:
    """Add an entry to the session; it is committed with the change it describes."""
    entry = AuditEntry(**entry_values(action, entity, entity_id, actor=actor, office_id=office_id, before=before,
                                      after=after))
    db.session.add(entry)
    return entry


def entry_values(action: str, entity: str, entity_id, *, actor=None, office_id=None, before=None,
                 after=None) -> dict:
    """The columns of the entry `record` would add, for a caller that writes it in a statement of its own
    (the booking's single write): the same values, the time of writing included."""
    return {
        "office_id": office_id if office_id is not None else getattr(actor, "office_id", None),
        "actor_id": getattr(actor, "id", None),
        "actor_username": getattr(actor, "username", None),
        "action": action,
        "entity": entity,
        "entity_id": None if entity_id is None else str(entity_id),
        "before": _plain(before),
        "after": _plain(after),
        "request_id": _request_id.get(),
        "at": utcnow(),
    }


def query(office_id: int, *, entity: str | None = None, entity_id: str | None = None,
          action: str | None = None, since: datetime | None = None, until: datetime | None = None) -> Select:
    stmt = select(AuditEntry).where(AuditEntry.office_id == office_id)
    if entity:
        stmt = stmt.where(AuditEntry.entity == entity)
    if entity_id:
        stmt = stmt.where(AuditEntry.entity_id == str(entity_id))
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if since:
        stmt = stmt.where(AuditEntry.at >= since)
    if until:
        stmt = stmt.where(AuditEntry.at < until)
    return stmt.order_by(AuditEntry.id.desc())
