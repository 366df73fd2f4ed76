"""The clock, chosen by configuration so tests can fix "now" without patching imports."""
from datetime import date, datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app

from vmo import settings

DEFAULT_TIMEZONE = "Asia/Shanghai"


@lru_cache(maxsize=64)
def zone_named(name: str | None) -> ZoneInfo:
    """One ZoneInfo per zone name, built once (a row may not have its default filled in yet)."""
    return ZoneInfo(name or DEFAULT_TIMEZONE)


def now() -> datetime:
    """The current instant (UTC-aware); `VMO_FROZEN_NOW` (ISO 8601) fixes it for tests and demos."""
    frozen = current_app.config.get("FROZEN_NOW")
    if frozen:
        value = datetime.fromisoformat(frozen) if isinstance(frozen, str) else frozen
        return value.astimezone(timezone.utc)
    return datetime.now(timezone.utc)


def office_zone(tz_name: str | None = None) -> ZoneInfo:
    """The zone named, else the deployment's (`VMO_TIMEZONE`)."""
    if tz_name:
        return zone_named(tz_name)
    from vmo.offices.settings import OfficeSettings  # it imports DEFAULT_TIMEZONE from here

    return zone_named(settings.get(OfficeSettings).timezone)


def local_today(tz_name: str | None = None) -> date:
    return now().astimezone(office_zone(tz_name)).date()
