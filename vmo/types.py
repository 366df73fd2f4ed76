"""Column types shared by every package: UTC-aware datetimes on SQLite and PostgreSQL."""
from datetime import datetime, timezone
from enum import StrEnum

from flask import has_app_context
from sqlalchemy import JSON, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

from vmo import clock


class UTCDateTime(TypeDecorator):
    """Stores UTC; always gives back aware datetimes (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


# JSON on both databases; PostgreSQL gets JSONB for indexing and compact storage.
JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    """Column defaults read the configured clock (FROZEN_NOW in tests and demos), like the services do.

    Outside an app (a bare script) it is the real clock.
    """
    if has_app_context():
        return clock.now()
    return datetime.now(timezone.utc)


def values(enum: type[StrEnum]) -> list[str]:
    """An enum's stored values in order, as plain strings: for `validate.OneOf`, so the OpenAPI enum stays a list of strings."""
    return [member.value for member in enum]
