"""The clock, chosen by configuration so tests can fix "now" without patching imports."""
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from flask import current_app


def now() -> datetime:
    """The current instant (UTC-aware); `VMO_FROZEN_NOW` (ISO 8601) fixes it for tests and demos."""
    frozen = current_app.config.get("FROZEN_NOW")
    if frozen:
        value = datetime.fromisoformat(frozen) if isinstance(frozen, str) else frozen
        return value.astimezone(timezone.utc)
    return datetime.now(timezone.utc)


def office_zone(tz_name: str | None = None) -> ZoneInfo:
    return ZoneInfo(tz_name or current_app.config["TIMEZONE"])


def local_today(tz_name: str | None = None) -> date:
    return now().astimezone(office_zone(tz_name)).date()
