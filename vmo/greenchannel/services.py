"""Green-channel days: opening and resizing them, their two slots, and the day's serving queue.

A day has two slots in the booking core: `slot` for ordinary (fleet) bookings and `priority_slot`
for the share kept for pregnant women, elderly and disabled people (vmo.priority). Who books a
day (fleet batches, priority bookings) lives in those packages; they add their entries to the
day's queue through `queue_source`, so this package imports neither.
"""
import math
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from flask import current_app
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError

from vmo.accounts.models import User
from vmo.audit import services as audit
from vmo.booking import services as booking
from vmo.booking.models import Slot
from vmo.errors import Conflict, NotFound, RuleViolation
from vmo.extensions import db
from vmo.greenchannel.models import GreenChannelDay
from vmo.offices.models import Office

ORDINARY_KIND = "green_channel"
PRIORITY_KIND = "green_channel_priority"


# ---- the priority share ----------------------------------------------------------------

def configured_share() -> float:
    try:
        return float(current_app.config.get("PRIORITY_SHARE", 0.1))
    except RuntimeError:  # outside an app (scripts): the documented default
        return 0.1


def share_of(capacity: int, fraction: float | None = None) -> int:
    """Places kept for priority bookings: the share rounded up, at least one on an open day."""
    fraction = configured_share() if fraction is None else fraction
    if capacity <= 0 or fraction <= 0:
        return 0
    # Decimal, so 30 * 0.1 is 3 and not 3.0000000000000004 rounded up to 4.
    return min(capacity, max(1, math.ceil(Decimal(str(fraction)) * capacity)))


def open_slots(office_id: int, capacity: int) -> tuple[Slot, Slot]:
    """The two slots of a newly opened day: (ordinary, priority)."""
    kept = share_of(capacity)
    ordinary = booking.create_slot(office_id, ORDINARY_KIND, capacity - kept)
    return ordinary, booking.create_slot(office_id, PRIORITY_KIND, kept)


def resize_slots(green_day: GreenChannelDay, capacity: int) -> None:
    """Give the day a new total; priority places already booked stay kept even above the share."""
    if capacity < 0:
        raise RuleViolation("capacity must not be negative", errors={"json": {"capacity": ["must be 0 or more"]}})
    if green_day.priority_slot_id is None:  # a day opened before the priority share existed
        green_day.priority_slot_id = booking.create_slot(green_day.office_id, PRIORITY_KIND, 0).id
        db.session.flush()
    priority_booked = booking.booked(green_day.priority_slot_id)
    ordinary_booked = booking.booked(green_day.slot_id)
    kept = min(max(share_of(capacity), priority_booked), capacity)
    if priority_booked + ordinary_booked > capacity or ordinary_booked > capacity - kept:
        raise Conflict(
            f"capacity {capacity} is below what is booked: {ordinary_booked} ordinary places "
            f"and {priority_booked} priority places, with {kept} kept for priority bookings",
            booked=priority_booked + ordinary_booked)
    # Both conditional: a booking that slipped in since the reads above turns this into a 409.
    for slot_id, new in ((green_day.slot_id, capacity - kept), (green_day.priority_slot_id, kept)):
        booking.resize(slot_id, new)


# ---- days ------------------------------------------------------------------------------

def set_day_capacity(office: Office, day: date, capacity: int, note: str | None, actor: User,
                     today: date) -> tuple[GreenChannelDay, bool]:
    """Open a day or change its capacity (extra shifts); never below what is already booked."""
    if day < today:
        raise RuleViolation("cannot open or change a day in the past", errors={"path": {"date": ["in the past"]}})
    green_day = find_day(office.id, day)
    created = green_day is None
    if created:
        slot, priority_slot = open_slots(office.id, capacity)
        green_day = GreenChannelDay(office_id=office.id, day=day, slot_id=slot.id,
                                    priority_slot_id=priority_slot.id, note=note)
        db.session.add(green_day)
        before = None
    else:
        before = {"capacity": green_day.total_capacity, "note": green_day.note}
        resize_slots(green_day, capacity)
        if note is not None:
            green_day.note = note
    db.session.flush()
    audit.record("green_channel.open" if created else "green_channel.resize", "green_channel_day",
                 day.isoformat(), actor=actor, before=before, after={"capacity": capacity, "note": green_day.note})
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("the day was opened by someone else at the same moment; retry") from None
    booking.refresh(green_day.slot)
    booking.refresh(green_day.priority_slot)
    return green_day, created


def find_day(office_id: int, day: date) -> GreenChannelDay | None:
    return db.session.scalar(select(GreenChannelDay).where(GreenChannelDay.office_id == office_id,
                                                           GreenChannelDay.day == day))


def list_days(office_id: int, start: date | None, end: date | None) -> Select:
    stmt = select(GreenChannelDay).where(GreenChannelDay.office_id == office_id)
    if start:
        stmt = stmt.where(GreenChannelDay.day >= start)
    if end:
        stmt = stmt.where(GreenChannelDay.day <= end)
    return stmt.order_by(GreenChannelDay.day)


def get_day(office_id: int, day: date) -> GreenChannelDay:
    green_day = find_day(office_id, day)
    if green_day is None:
        raise NotFound(f"the green channel is not open on {day.isoformat()}")
    return green_day


# ---- the day's serving queue -----------------------------------------------------------

QueueSource = Callable[[GreenChannelDay], list[dict]]
_queue_sources: list[tuple[int, str, QueueSource]] = []


def queue_source(order: int) -> Callable[[QueueSource], QueueSource]:
    """Declare a function that lists a day's entries of one kind; lower `order` is served first."""
    def declare(source: QueueSource) -> QueueSource:
        name = f"{source.__module__}.{source.__qualname__}"
        if all(known != name for _, known, _ in _queue_sources):
            _queue_sources.append((order, name, source))
            _queue_sources.sort(key=lambda entry: entry[:2])
        return source
    return declare


def day_queue(office_id: int, day: date) -> dict:
    """Everyone booked on the day, in serving order (priority bookings before fleet batches)."""
    green_day = get_day(office_id, day)
    entries = [entry for _, _, source in _queue_sources for entry in source(green_day)]
    for position, entry in enumerate(entries, start=1):
        entry["position"] = position
    return {"date": day, "capacity": green_day.total_capacity,
            "priority_capacity": green_day.priority_slot.capacity if green_day.priority_slot else 0,
            "entries": entries}
