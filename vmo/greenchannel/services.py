"""Green-channel days: opening and resizing them, their two slots, and the day's serving queue.

A day has two slots in the booking core: `slot` for ordinary (fleet) bookings and `priority_slot`,
the places of the hall's priority lane on that date (vmo.priority provides it through
`priority_lane`: the lane has places every working day, fleet day or not, and a green-channel day
shows and may set the same ones). Who books a day (fleet batches, priority bookings) lives in those
packages; they add their entries to the day's queue through `queue_source`, so this package imports
neither.
"""
from collections.abc import Callable
from datetime import date

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError

from vmo.accounts.models import User
from vmo.audit import services as audit
from vmo.booking import services as booking
from vmo.errors import Conflict, NotFound, RuleViolation
from vmo.extensions import db
from vmo.greenchannel.models import GreenChannelDay
from vmo.greenchannel.settings import GreenChannelSettings
from vmo.offices.models import Office

ORDINARY_KIND = "green_channel"
PRIORITY_KIND = "green_channel_priority"


# ---- the priority lane's places of a date -----------------------------------------------

PriorityLane = Callable[[int, date], int]
_priority_lane: list[PriorityLane] = []


def priority_lane(provider: PriorityLane) -> PriorityLane:
    """Declare who keeps a date's priority places: provider(office_id, day) -> the slot id (made if missing)."""
    _priority_lane[:] = [provider]
    return provider


def _priority_slot(office_id: int, day: date) -> int:
    if _priority_lane:
        return _priority_lane[0](office_id, day)
    return booking.create_slot(office_id, PRIORITY_KIND, 0).id  # no lane installed: none kept


# ---- days ------------------------------------------------------------------------------

def set_day(office: Office, day: date, data: dict, actor: User, today: date,
            config: GreenChannelSettings) -> tuple[GreenChannelDay, bool]:
    """Open a day or change it: `capacity` (fleets), `priority_capacity`, arrival window, note.

    The two numbers are kept apart in two slots: priority places are never taken out of
    `capacity`. The priority places are the hall's lane's of that date (vmo.priority): without
    `priority_capacity` they stay what the lane has. Neither may fall below what is booked.
    """
    if day < today:
        raise RuleViolation("cannot open or change a day in the past", fields={"date": ["in the past"]})
    green_day = find_day(office.id, day)
    created = green_day is None
    before = None if created else _day_state(green_day)
    window = _window(green_day, data, config)
    if created:
        green_day = GreenChannelDay(
            office_id=office.id, day=day, note=data.get("note"), arrive_from=window[0], arrive_until=window[1],
            slot_id=booking.create_slot(office.id, ORDINARY_KIND, data["capacity"]).id,
            priority_slot_id=_priority_slot(office.id, day))
        db.session.add(green_day)
        db.session.flush()
        if data.get("priority_capacity") is not None:
            _resize(green_day, data["capacity"], data["priority_capacity"])
    else:
        _resize(green_day, data["capacity"], data.get("priority_capacity"))
        green_day.arrive_from, green_day.arrive_until = window
        if data.get("note") is not None:
            green_day.note = data["note"]
    db.session.flush()
    booking.refresh(green_day.slot)
    booking.refresh(green_day.priority_slot)
    audit.record("green_channel.open" if created else "green_channel.resize", "green_channel_day",
                 day.isoformat(), actor=actor, before=before, after=_day_state(green_day))
    db.session.flush()  # a day opened by someone else at the same moment: a 409 (vmo.integrity)
    return green_day, created


def _day_state(green_day: GreenChannelDay) -> dict:
    return {"capacity": green_day.capacity, "priority_capacity": green_day.priority_capacity,
            "arrive_from": green_day.arrive_from, "arrive_until": green_day.arrive_until, "note": green_day.note}


def _window(green_day: GreenChannelDay | None, data: dict, defaults: GreenChannelSettings) -> tuple[str, str]:
    """The arrival window after this change: what is given, else what the day had, else the default."""
    start = data.get("arrive_from") or (green_day.arrive_from if green_day else defaults.green_channel_arrive_from)
    end = data.get("arrive_until") or (green_day.arrive_until if green_day else defaults.green_channel_arrive_until)
    if start >= end:  # zero-padded HH:MM compares as text
        message = f"the arrival window ends ({end}) before it starts ({start})"
        raise RuleViolation(message, fields={"arrive_until": [message]})
    return start, end


def _resize(green_day: GreenChannelDay, capacity: int, priority_capacity: int | None) -> None:
    if green_day.priority_slot_id is None:  # a day opened before the priority lane had days of its own
        green_day.priority_slot_id = _priority_slot(green_day.office_id, green_day.day)
        db.session.flush()
    # Each conditional on what is booked at that moment: a booking that slipped in makes it a 409.
    changes = [(green_day.slot_id, capacity, "capacity")]
    if priority_capacity is not None:
        changes.append((green_day.priority_slot_id, priority_capacity, "priority_capacity"))
    for slot_id, new, field in changes:
        try:
            booking.resize(slot_id, new)
        except Conflict as exc:
            booked = booking.booked(slot_id)
            raise Conflict(f"{field} {new} is below the {booked} places already booked", booked=booked,
                           fields={field: [f"{booked} places are already booked"]}) from exc


def open_or_extend(office_id: int, day: date, units: int, window: tuple[str, str]) -> GreenChannelDay:
    """Hold `units` fleet places on `day` in the caller's transaction, opening or raising the day as needed.

    For a granted green-channel request: the office commits to the batch, so the day grows rather
    than refuse it. The hold is one conditional UPDATE (booking.take_extending); no read-then-write.
    """
    green_day = find_day(office_id, day)
    if green_day is None:
        start, end = window
        try:
            with db.session.begin_nested():
                green_day = GreenChannelDay(
                    office_id=office_id, day=day, arrive_from=start, arrive_until=end,
                    slot_id=booking.create_slot(office_id, ORDINARY_KIND, 0).id,
                    priority_slot_id=_priority_slot(office_id, day))
                db.session.add(green_day)
        except IntegrityError:  # opened by someone else this instant: use theirs
            green_day = get_day(office_id, day)
    else:
        green_day.arrive_from, green_day.arrive_until = window
    booking.take_extending(green_day.slot_id, units)
    db.session.flush()
    booking.refresh(green_day.slot)
    booking.refresh(green_day.priority_slot)
    return green_day


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
    return {"date": day, "capacity": green_day.capacity, "priority_capacity": green_day.priority_capacity,
            "arrive_from": green_day.arrive_from, "arrive_until": green_day.arrive_until, "entries": entries}
