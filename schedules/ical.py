"""iCalendar (RFC 5545) output for single bookings and subscribable feeds."""

from __future__ import annotations

import copy
import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Alarm, Calendar, Event, Timezone, vCalAddress, vDuration, vText

CONTENT_TYPE = "text/calendar; charset=utf-8"
DEFAULT_PRODID = "-//vmo//vehicle management office//ZH"
EVENING_BEFORE: Literal["evening_before"] = "evening_before"

Status = Literal["CONFIRMED", "TENTATIVE", "CANCELLED"]
AlarmSpec = Literal["evening_before"] | timedelta | None

_STATUSES = frozenset({"CONFIRMED", "TENTATIVE", "CANCELLED"})
_METHODS = frozenset({"PUBLISH", "CANCEL"})
# VTIMEZONE rules are generated for a date window; this floor keeps the window
# (and so the bytes and the cache key) identical for every normal feed while
# leaving out Asia/Shanghai's 1986-1991 daylight-saving rules nobody needs.
_TZ_WINDOW_FLOOR = date(2000, 1, 1)


def _require_aware(name: str, value: object) -> datetime:
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime, got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        # A naive time would be read as floating local time by every client,
        # i.e. a different instant on a phone set to another zone.
        raise ValueError(f"{name} must be timezone-aware")
    return value


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ValueError(f"unknown time zone {tz!r}") from exc


@dataclass(frozen=True)
class EventSpec:
    """One VEVENT: a booking, a test session or a tour stop.

    Bump ``sequence`` (and ``last_modified``) whenever a published event
    changes, keeping ``uid``, so subscribed calendars update it in place.
    ``alarm`` is ``"evening_before"`` (19:00 local the day before), a negative
    timedelta relative to the start, or None.
    """

    uid: str
    start: datetime
    end: datetime
    summary: str
    description: str = ""
    location: str = ""
    status: Status = "CONFIRMED"
    sequence: int = 0
    last_modified: datetime | None = None
    geo: tuple[float, float] | None = None
    url: str | None = None
    alarm: AlarmSpec = None
    # iTIP (RFC 5546) wants an ORGANIZER on METHOD:CANCEL; Outlook in particular
    # ignores a cancellation without one.  A "mailto:" URI.
    organizer: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.uid, str) or not self.uid.strip():
            raise ValueError("uid must be a non-empty string")
        start = _require_aware("start", self.start)
        end = _require_aware("end", self.end)
        if end <= start:
            raise ValueError("end must be after start")
        if self.status not in _STATUSES:
            raise ValueError(f"status must be one of {sorted(_STATUSES)}")
        is_int = isinstance(self.sequence, int) and not isinstance(self.sequence, bool)
        if not is_int or self.sequence < 0:
            raise ValueError("sequence must be a non-negative int")
        if self.last_modified is not None:
            _require_aware("last_modified", self.last_modified)
        if self.geo is not None:
            try:
                lat, lon = (float(v) for v in self.geo)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"geo must be (latitude, longitude), got {self.geo!r}") from exc
            if not (math.isfinite(lat) and math.isfinite(lon)
                    and -90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValueError(f"geo out of range: {self.geo!r}")
        if isinstance(self.alarm, timedelta):
            if self.alarm > timedelta(0):
                raise ValueError("alarm offset must be <= 0 (a reminder before the start)")
        elif self.alarm is not None and self.alarm != EVENING_BEFORE:
            raise ValueError(f"alarm must be {EVENING_BEFORE!r}, a timedelta or None")


def evening_before(start: datetime, tz: str, hour: int = 19) -> datetime:
    """``hour``:00 local time in ``tz`` on the calendar day before ``start``'s local date."""
    _require_aware("start", start)
    if isinstance(hour, bool) or not isinstance(hour, int) or not 0 <= hour <= 23:
        raise ValueError("hour must be an int in 0..23")
    zone = _zone(tz)
    day_before = start.astimezone(zone).date() - timedelta(days=1)
    return datetime.combine(day_before, time(hour), tzinfo=zone)


def etag_for(body: bytes) -> str:
    """A strong, quoted ETag derived from the exact response bytes."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


@lru_cache(maxsize=32)
def _vtimezone(tz: str, first: date, last: date) -> Timezone:
    # Generating the rules walks the zone's history in small steps (~10 ms);
    # feeds are polled often, so build each window once per process.
    return Timezone.from_tzid(tz, first_date=first, last_date=last)


def _tz_window(events: list[EventSpec], zone: ZoneInfo) -> tuple[date, date]:
    first, last = _TZ_WINDOW_FLOOR, Timezone.DEFAULT_LAST_DATE
    for spec in events:
        first = min(first, date(spec.start.astimezone(zone).year, 1, 1))
        # Leave a year of slack past the last end so "this timezone only works
        # until" never lands inside an event a client is still showing.
        last = max(last, date(spec.end.astimezone(zone).year + 2, 1, 1))
    return first, last


def _alarm_component(spec: EventSpec, start: datetime, tz: str) -> Alarm | None:
    # A cancelled booking must not wake a candidate the evening before; some
    # clients keep firing the alarms of cancelled events they still display.
    if spec.alarm is None or spec.status == "CANCELLED":
        return None
    if spec.alarm == EVENING_BEFORE:
        # Relative trigger rather than an absolute TRIGGER;VALUE=DATE-TIME:
        # Outlook and the Android calendar provider (which DAVx5/ICSx5 feed
        # into) only store "N minutes before start", and a relative trigger
        # follows the event if a client shifts it.  The offset is the exact
        # gap between the two instants; Asia/Shanghai has no DST, so nominal
        # and exact duration readings land on the same 19:00.
        offset = evening_before(start, tz) - start
        description = f"明天：{spec.summary}"
    else:
        offset = spec.alarm
        description = f"提醒：{spec.summary}"
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", description)
    alarm.add("trigger", offset)
    return alarm


def _event_component(spec: EventSpec, zone: ZoneInfo, tz: str, dtstamp: datetime) -> Event:
    # iCalendar carries whole seconds; truncating here keeps DTSTART and the
    # alarm offset computed from it consistent with what clients will parse.
    start = spec.start.astimezone(zone).replace(microsecond=0)
    end = spec.end.astimezone(zone).replace(microsecond=0)
    event = Event()
    event.add("uid", spec.uid)
    event.add("dtstamp", dtstamp)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("sequence", spec.sequence)
    event.add("status", spec.status)
    event.add("summary", spec.summary)
    if spec.location:
        event.add("location", spec.location)
    if spec.description:
        event.add("description", spec.description)
    if spec.geo is not None:
        event.add("geo", (float(spec.geo[0]), float(spec.geo[1])))
    if spec.url:
        # A URI cannot be escaped, only refused: a line break in one is dropped, never a 500.
        event.add("url", spec.url.replace("\r", "").replace("\n", ""))
    if spec.last_modified is not None:
        modified = spec.last_modified.astimezone(timezone.utc).replace(microsecond=0)
        event.add("last-modified", modified)
    if spec.organizer:
        event.add("organizer", vCalAddress(spec.organizer))
    alarm = _alarm_component(spec, start, tz)
    if alarm is not None:
        event.add_component(alarm)
    return event


def build_calendar(
    events: Iterable[EventSpec],
    *,
    tz: str,
    name: str,
    method: str = "PUBLISH",
    prodid: str = DEFAULT_PRODID,
    dtstamp: datetime | None = None,
    refresh_interval: timedelta | None = None,
) -> bytes:
    """Serialise events as one VCALENDAR with times in ``tz`` and its VTIMEZONE.

    ``method="CANCEL"`` is for a single cancelled booking and requires every
    event to be ``CANCELLED``.  ``dtstamp`` defaults to now; feed endpoints
    should pass a stable value (e.g. the newest ``last_modified``) so that the
    bytes, and hence ``etag_for``, only change when the content does.
    ``refresh_interval`` suggests a polling period to subscribed clients.
    """
    zone = _zone(tz)
    if method not in _METHODS:
        raise ValueError(f"method must be one of {sorted(_METHODS)}")
    specs = list(events)
    for spec in specs:
        if not isinstance(spec, EventSpec):
            raise ValueError(f"expected EventSpec, got {type(spec).__name__}")
    uids = [spec.uid for spec in specs]
    if len(set(uids)) != len(uids):
        # Without RECURRENCE-ID two VEVENTs with one UID are ambiguous, and
        # clients keep an arbitrary one of them.
        raise ValueError("duplicate uid in calendar")
    if method == "CANCEL" and any(spec.status != "CANCELLED" for spec in specs):
        raise ValueError("METHOD:CANCEL requires every event to have status CANCELLED")
    stamp = datetime.now(timezone.utc) if dtstamp is None else _require_aware("dtstamp", dtstamp)
    stamp = stamp.astimezone(timezone.utc).replace(microsecond=0)
    if refresh_interval is not None and refresh_interval <= timedelta(0):
        raise ValueError("refresh_interval must be positive")

    cal = Calendar()
    # Text through vText's escaping: X- properties are not typed as text by icalendar, and a name with a
    # line break (`王\nX-EVIL:1`) would otherwise be refused (a 500) or start a property of its own.
    cal.add("prodid", vText(prodid))
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    cal.add("x-wr-calname", vText(name))
    cal.add("x-wr-timezone", vText(tz))
    if refresh_interval is not None:
        cal.add("refresh-interval", refresh_interval, parameters={"VALUE": "DURATION"})
        # Outlook and older Apple clients only read the non-standard name.
        cal.add("x-published-ttl", vDuration(refresh_interval))
    # Always emitted, even for an empty feed: it matches X-WR-TIMEZONE, and
    # RFC 5545 requires at least one component inside a VCALENDAR.
    cal.add_component(copy.deepcopy(_vtimezone(tz, *_tz_window(specs, zone))))
    # Sorted so the bytes (and the ETag) do not depend on database row order.
    for spec in sorted(specs, key=lambda s: (s.start.astimezone(timezone.utc), s.uid)):
        cal.add_component(_event_component(spec, zone, tz, stamp))
    return cal.to_ical()
