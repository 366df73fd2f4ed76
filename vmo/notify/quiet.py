"""Quiet nights: no text between 21:00 and 08:00 office time but a one-time code the person is waiting for.

A text queued in the quiet hours gets `not_before`: the next morning's end of the quiet hours plus a
share of a spread window chosen by a stable hash of its key, so the night's texts go out over the
first hour of the morning instead of all in one second (a gateway's rate limit, the office's phone
line when people call back). The outbox also checks at sending time, so a message whose retry falls
in the night waits too. One-time codes (a kind ending in `_code`: the sign-up code, a booking's
confirmation code) go at once: the person is holding the form open for them.
"""
import hashlib
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import has_app_context

from vmo import settings
from vmo.settings import setting

# A kind ending so is a one-time code the person is waiting for (candidate_code, priority_code, ...).
CODE_KIND_SUFFIX = "_code"


def is_code(kind: str | None) -> bool:
    return bool(kind) and kind.endswith(CODE_KIND_SUFFIX)


@dataclass(frozen=True)
class QuietHours:
    """The quiet hours in office time (env `VMO_SMS_QUIET_*`); `start == end` turns them off."""

    start: time = setting(time(21, 0), key="SMS_QUIET_FROM")
    end: time = setting(time(8, 0), key="SMS_QUIET_UNTIL")
    # Texts held over the night go out over this many minutes after `end`, each at a stable moment.
    spread_minutes: int = setting(60, key="SMS_QUIET_SPREAD_MINUTES", low=0, high=600)

    def is_quiet(self, local: datetime) -> bool:
        """Whether this local (office time) moment is in the quiet hours: `start` inclusive, `end` exclusive."""
        at = local.time().replace(tzinfo=None)
        if self.start == self.end:
            return False
        if self.start < self.end:  # quiet hours within one day, e.g. 13:00-14:00
            return self.start <= at < self.end
        return at >= self.start or at < self.end

    def morning(self, local: datetime) -> datetime:
        """The end of the quiet hours this local moment is in (local, aware)."""
        day = local.date()
        if self.start > self.end and local.time().replace(tzinfo=None) >= self.start:
            day += timedelta(days=1)
        return datetime.combine(day, self.end, tzinfo=local.tzinfo)

    def offset(self, key: str) -> timedelta:
        """A stable share of the spread window for this message (the same key, the same moment)."""
        seconds = self.spread_minutes * 60
        if not seconds:
            return timedelta(0)
        digest = hashlib.sha256(key.encode("utf-8")).digest()
        return timedelta(seconds=int.from_bytes(digest[:8], "big") % seconds)

    def not_before(self, key: str, kind: str | None, now: datetime, zone: ZoneInfo) -> datetime | None:
        """When a text queued (or due) at `now` may go out: None if at once, else the morning's moment (UTC)."""
        if is_code(kind):
            return None
        local = now.astimezone(zone)
        if not self.is_quiet(local):
            return None
        return (self.morning(local) + self.offset(key)).astimezone(timezone.utc)


def hours() -> QuietHours:
    """The configured quiet hours (`VMO_SMS_QUIET_*`); the defaults outside an app.

    Fetched here rather than passed in, like the signature: every feature's service queues texts,
    and none of them should have to know about the night.
    """
    if has_app_context():
        from vmo.notify.settings import SmsSettings  # it imports this module's dataclass

        return settings.get(SmsSettings).quiet
    return QuietHours()
