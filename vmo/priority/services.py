"""Priority bookings: one place of a green-channel day's priority slot (vmo.greenchannel) per person."""
import secrets
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from vmo import validators
from vmo.accounts.models import User
from vmo.audit import services as audit
from vmo.booking import services as booking
from vmo.errors import Conflict, NotFound, field_error, valid_field
from vmo.extensions import db
from vmo.greenchannel import services as greenchannel
from vmo.greenchannel.models import GreenChannelDay
from vmo.greenchannel.notifications import month_day
from vmo.notify import services as notify
from vmo.offices.models import Office
from vmo.priority import notifications as texts
from vmo.priority.models import REASONS, PriorityBooking, PriorityStatus

# The answer to every booking request, booked or not (the result goes to the phone).
RECEIVED = "received"

# ---- bookings --------------------------------------------------------------------------

def book(office: Office, data: dict, today: date, now: datetime, elderly_age: int = 60,
         actor: User | None = None) -> dict:
    """Book one priority place on an open day, or 409 when the day's kept share is taken.

    The answer never says whether the ID number already had a booking that day: a stranger could
    learn that someone is elderly, disabled or pregnant and coming. The reference is sent by text to
    the phone given, which binds the booking to that phone; a repeated booking tells the first one's
    phone instead.

    `actor`: the staff member booking for the person (at the counter), named in the audit entry.
    """
    day: date = data["date"]
    if day < today:
        raise field_error("date", "the date is in the past")
    rid = valid_field("id_number", validators.validate_resident_id, data["id_number"], today=today)
    phone = valid_field("phone", validators.validate_mobile, data["phone"])
    reason = data["reason"]
    if reason not in REASONS:
        raise field_error("reason", f"must be one of {', '.join(REASONS)}")
    if reason == "elderly":
        age = validators.age_on(rid.birth_date, day)
        if age < elderly_age:
            raise field_error("reason", f"the ID number gives age {age} on {day.isoformat()}; "
                                   f"the elderly priority is from {elderly_age}")
    if reason == "pregnant" and rid.sex != "F":
        raise field_error("reason", "the ID number is a man's; the pregnancy priority needs the expectant mother's ID")
    green_day = greenchannel.find_day(office.id, day)
    if green_day is None or green_day.capacity + green_day.priority_capacity == 0:
        raise field_error("date", f"the green channel is not open on {day.isoformat()}")
    active_key = f"{rid.number}:{day.isoformat()}"
    if green_day.priority_slot_id is None or booking.available(green_day.priority_slot_id) == 0:
        # Checked before the ID number, so a full day answers alike for a taken and a fresh one.
        raise Conflict(f"the priority places of {day.isoformat()} are all booked; try another day", available=0)
    receipt = _receipt(day, reason, phone)
    if _already_booked(office, active_key, now):
        return receipt
    try:
        # A savepoint: if the same person booked the same day this instant, the place taken here goes
        # back and the request's transaction goes on to answer as above.
        with db.session.begin_nested():
            booking.take(green_day.priority_slot_id, 1,
                         message=f"the priority places of {day.isoformat()} are all booked; try another day")
            entry = PriorityBooking(office_id=office.id, day_id=green_day.id, reference=_reference(),
                                    name=data["name"], id_number=rid.number, phone=phone, reason=reason,
                                    business=data.get("business"),
                                    certificate_number=data.get("certificate_number"),
                                    status=PriorityStatus.BOOKED, active_key=active_key, created_at=now)
            db.session.add(entry)
    except IntegrityError:
        _already_booked(office, active_key, now)
        return receipt
    audit.record("priority.book", "priority_booking", entry.id, actor=actor, office_id=office.id,
                 after={"date": day.isoformat(), "reason": reason, "reference": entry.reference})
    # The reference goes only to the phone given: the booking is bound to whoever holds that phone.
    notify.queue(office.id, phone,
                 texts.PRIORITY_BOOKED.render(name=data["name"], date=month_day(day), reference=entry.reference,
                                              arrive_from=green_day.arrive_from, arrive_until=green_day.arrive_until,
                                              phone=office.phone or "本所窗口"),
                 kind="priority_booking", key=f"priority_booking:{entry.id}",
                 subject_type="priority_booking", subject_id=entry.id)
    db.session.flush()
    return receipt


def _receipt(day: date, reason: str, phone: str) -> dict:
    """The answer to a booking: the same whether or not the ID number already had one."""
    return {"status": RECEIVED, "date": day, "reason": reason, "phone": phone[:3] + "****" + phone[-4:],
            "message": f"预约结果已发送至尾号{phone[-4:]}的手机，请凭短信中的预约号查询或取消。"}


def _already_booked(office: Office, active_key: str, now: datetime) -> bool:
    """If the ID number holds a booking that day, tell that booking's phone (not the caller) and say True."""
    existing = db.session.scalar(select(PriorityBooking).where(PriorityBooking.active_key == active_key))
    if existing is None:
        return False
    notify.queue(office.id, existing.phone,
                 texts.PRIORITY_REPEATED.render(date=month_day(existing.day.day), reference=existing.reference,
                                                phone=office.phone or "本所窗口"),
                 kind="priority_booking", key=f"priority_repeated:{existing.id}:{now.isoformat()}",
                 subject_type="priority_booking", subject_id=existing.id)
    db.session.flush()
    return True


def _reference() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "P" + "".join(secrets.choice(alphabet) for _ in range(7))


def get_by_reference(reference: str) -> PriorityBooking:
    entry = db.session.scalar(select(PriorityBooking).where(PriorityBooking.reference == reference.strip().upper()))
    if entry is None:
        raise NotFound(f"no priority booking {reference}")
    return entry


def cancel(reference: str, now: datetime, actor: User | None = None) -> PriorityBooking:
    """Cancel by reference and give the place back to the priority share."""
    entry = get_by_reference(reference)
    if actor is not None and actor.office_id != entry.office_id:
        raise NotFound(f"no priority booking {reference}")
    flipped = db.session.execute(
        update(PriorityBooking).where(PriorityBooking.id == entry.id, PriorityBooking.status == PriorityStatus.BOOKED)
        .values(status=PriorityStatus.CANCELLED, active_key=None, cancelled_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if flipped != 1:
        raise Conflict(f"priority booking {entry.reference} is already cancelled")
    booking.release(entry.day.priority_slot_id, 1)
    audit.record("priority.cancel", "priority_booking", entry.id, actor=actor, office_id=entry.office_id,
                 before={"status": PriorityStatus.BOOKED},
                 after={"status": PriorityStatus.CANCELLED})
    db.session.flush()
    db.session.refresh(entry)
    return entry


# ---- the day's queue ------------------------------------------------------------------

@greenchannel.queue_source(order=0)
def queue_entries(green_day: GreenChannelDay) -> list[dict]:
    """The day's priority bookings, in booking order: served before everyone else."""
    return [{"kind": "priority", "id": entry.id, "reference": entry.reference, "name": entry.name,
             "reason": entry.reason, "business": entry.business, "phone": entry.phone,
             "vehicles": 1, "batch_id": None, "booked_at": entry.created_at}
            for entry in db.session.scalars(
                select(PriorityBooking).where(PriorityBooking.day_id == green_day.id, PriorityBooking.status == PriorityStatus.BOOKED)
                .order_by(PriorityBooking.created_at, PriorityBooking.id))]
