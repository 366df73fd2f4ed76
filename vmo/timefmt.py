"""Office time in answers: the one serializer that writes every date-time in the office's zone.

Times are stored in UTC (vmo.types.UTCDateTime) and rules take `now=` in UTC; a person or a
program reading an answer wants the office's wall clock, `2026-12-05T14:00:00+08:00`, not
`06:00:00+00:00`. Instead of every schema converting (and some forgetting), the app's JSON
provider converts at the edge, once, whatever produced the value: a marshmallow DateTime field, a
`fields.Function` that returned `isoformat()`, a dict built by hand, an error's context. Any
datetime object, and any string that is exactly an ISO 8601 date-time with an offset, is written
as `local_iso(value)`. Dates (`YYYY-MM-DD`) are left as they are: they are local dates already.

The zone is the office's: the `TIMEZONE` setting (`Asia/Shanghai`, +08:00, for every office in
Chongqing; all offices of one deployment share a country's clock).
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from flask.json.provider import DefaultJSONProvider

from vmo import settings
from vmo.clock import DEFAULT_TIMEZONE as DEFAULT_ZONE

# Exactly a date-time with an offset (or Z): 2026-12-05T06:00:00+00:00, ...T06:00Z, ...T06:00:00.123456+08:00.
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})")


@lru_cache(maxsize=32)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def office_zone() -> ZoneInfo:
    """The zone answers are written in: the `TIMEZONE` setting."""
    if not has_app_context():
        return _zone(DEFAULT_ZONE)
    from vmo.offices.settings import OfficeSettings

    installed = current_app.extensions.get(settings.EXTENSION, {}).get(OfficeSettings)
    return _zone(installed.timezone if installed else DEFAULT_ZONE)


def local_iso(value: datetime, zone: ZoneInfo | None = None) -> str:
    """ISO 8601 in the office's zone, e.g. `2026-12-05T14:00:00+08:00` (a naive value is taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(zone or office_zone()).isoformat()


def _local_string(value: str, zone: ZoneInfo) -> str:
    if 16 <= len(value) <= 32 and value[10:11] == "T" and _ISO_DATETIME.fullmatch(value):
        try:
            return local_iso(datetime.fromisoformat(value), zone)
        except (ValueError, OverflowError):  # 2026-13-45T99:00Z, 9999-12-31T23:00-08:00: keep it as it is
            return value
    return value


def localize(value, zone: ZoneInfo | None = None):
    """`value` (JSON-like) with every date-time in it written in the office's zone."""
    zone = zone or office_zone()
    if isinstance(value, str):
        return _local_string(value, zone)
    if isinstance(value, dict):
        return {k: localize(v, zone) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [localize(v, zone) for v in value]
    if isinstance(value, datetime):
        return local_iso(value, zone)
    return value


class OfficeTimeJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider; its responses (jsonify, flask-smorest's answers and errors) write every
    date-time in the office's zone (see the module docstring). `dumps` alone is left as it is: the
    test client and other callers serialise requests and stored data with it."""

    def response(self, *args, **kwargs):
        return super().response(localize(self._prepare_response_obj(args, kwargs)))
