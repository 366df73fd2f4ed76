"""Taking, releasing and resizing capacity with single conditional UPDATEs.

Every change is one statement whose WHERE clause carries the rule, so two requests
racing for the last unit cannot both win: on PostgreSQL the second UPDATE re-checks
the row after the first commits (READ COMMITTED re-evaluation); on SQLite writers
are serialised. Callers check the returned flag, never a value they read earlier.
These functions do not commit: the caller's unit of work does, together with the
booking row that explains the hold. A slot already loaded in the session is brought up to date
after each UPDATE (`_forget`: the values `try_take` gets back, else expired and read again when
asked), so an answer built afterwards shows the seats as they now are.
"""
from sqlalchemy import bindparam, case, select, update
from sqlalchemy.orm.attributes import set_committed_value

from vmo.booking.models import Slot
from vmo.errors import Conflict, RuleViolation
from vmo.extensions import db


def create_slot(office_id: int, kind: str, capacity: int) -> Slot:
    if capacity < 0:
        raise RuleViolation("capacity must not be negative", fields={"capacity": ["must be 0 or more"]})
    slot = Slot(office_id=office_id, kind=kind, capacity=capacity, booked=0)
    db.session.add(slot)
    db.session.flush()
    return slot


# The one statement that holds capacity: conditional on the units being free, returning the slot's new
# figures (no row: nothing held). Built once per process with its parameters `slot_id` and `units`;
# `try_take` runs it alone, and a caller that writes its booking in the same statement (a
# data-modifying CTE on PostgreSQL) embeds it with `TAKE.cte(...)` and checks that a row came back.
# (On the table, not the mapped class: no ORM work on the hot path; `_forget` mends the session.)
_SLOTS = Slot.__table__
TAKE = (update(_SLOTS)
        .where(_SLOTS.c.id == bindparam("slot_id"), _SLOTS.c.booked + bindparam("units") <= _SLOTS.c.capacity)
        .values(booked=_SLOTS.c.booked + bindparam("units"))
        .returning(_SLOTS.c.booked, _SLOTS.c.capacity))


def take_returning(slot_id: int, units: int = 1):
    """Hold `units` if they are free: the slot's new (booked, capacity), or None (nothing held)."""
    if units <= 0:
        raise ValueError("units must be positive")
    taken = db.session.execute(TAKE, {"slot_id": slot_id, "units": units}).first()
    _forget(slot_id, taken)
    return taken


def try_take(slot_id: int, units: int = 1) -> bool:
    """Hold `units` if they are free; False (and nothing held) otherwise."""
    return take_returning(slot_id, units) is not None


def forget(slot_id: int, now_holds=None) -> None:
    """A caller ran `TAKE` inside a statement of its own: bring a slot loaded in the session up to date."""
    _forget(slot_id, now_holds)


def _forget(slot_id: int, now_holds=None) -> None:
    """The slot as loaded in this session (if it is) is now stale: take the values the UPDATE returned
    (`now_holds`: booked, capacity), else read it again when next asked."""
    loaded = db.session.identity_map.get(db.session.identity_key(Slot, slot_id))
    if loaded is None:
        return
    if now_holds is None:
        db.session.expire(loaded, ["booked", "capacity"])
    else:
        set_committed_value(loaded, "booked", now_holds.booked)
        set_committed_value(loaded, "capacity", now_holds.capacity)


def take(slot_id: int, units: int = 1, message: str = "not enough capacity left") -> None:
    """Hold `units` or raise Conflict with what is left, for the 409 body."""
    if not try_take(slot_id, units):
        raise Conflict(message, available=available(slot_id))


def take_extending(slot_id: int, units: int) -> None:
    """Hold `units`, raising the capacity in the same statement when fewer are free.

    For holds the office has already promised (a granted green-channel request): the rule
    "booked never exceeds capacity" stays true because both columns move in one UPDATE.
    """
    if units <= 0:
        raise ValueError("units must be positive")
    db.session.execute(
        update(Slot)
        .where(Slot.id == slot_id)
        .values(capacity=case((Slot.booked + units > Slot.capacity, Slot.booked + units), else_=Slot.capacity),
                booked=Slot.booked + units)
        .execution_options(synchronize_session=False)
    )
    _forget(slot_id)


def grow_to(slot_id: int, capacity: int) -> None:
    """Raise the capacity to at least `capacity`; never lowers it."""
    db.session.execute(
        update(Slot).where(Slot.id == slot_id, Slot.capacity < capacity).values(capacity=capacity)
        .execution_options(synchronize_session=False)
    )
    _forget(slot_id)


def release(slot_id: int, units: int = 1) -> None:
    if units <= 0:
        raise ValueError("units must be positive")
    result = db.session.execute(
        update(Slot)
        .where(Slot.id == slot_id, Slot.booked >= units)
        .values(booked=Slot.booked - units)
        .execution_options(synchronize_session=False)
    )
    _forget(slot_id)
    if result.rowcount != 1:
        # Releasing more than is held means the caller's bookkeeping is wrong: fail loudly.
        raise RuntimeError(f"slot {slot_id}: cannot release {units} units")


def resize(slot_id: int, capacity: int) -> None:
    """Set a new capacity, refused (409) if it would fall below what is already booked."""
    if capacity < 0:
        raise RuleViolation("capacity must not be negative", fields={"capacity": ["must be 0 or more"]})
    result = db.session.execute(
        update(Slot)
        .where(Slot.id == slot_id, Slot.booked <= capacity)
        .values(capacity=capacity)
        .execution_options(synchronize_session=False)
    )
    _forget(slot_id)
    if result.rowcount != 1:
        raise Conflict(
            f"capacity {capacity} is below the {booked(slot_id)} units already booked",
            booked=booked(slot_id),
        )


def booked(slot_id: int) -> int:
    return db.session.scalar(select(Slot.booked).where(Slot.id == slot_id))


def capacity(slot_id: int) -> int:
    return db.session.scalar(select(Slot.capacity).where(Slot.id == slot_id))


def available(slot_id: int) -> int:
    row = db.session.execute(select(Slot.capacity, Slot.booked).where(Slot.id == slot_id)).one()
    return max(row.capacity - row.booked, 0)


def refresh(slot: Slot) -> Slot:
    """Reload a slot after conditional UPDATEs changed it behind the ORM's back."""
    db.session.refresh(slot)
    return slot
