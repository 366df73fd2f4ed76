"""The hall's priority lane: places of its own every working day, booked only by a phone that proves
itself (or by staff at the counter), one active booking per person and per phone.

A public booking is two steps: the request (`request_code`) holds nothing and texts a code to the phone
given; the confirmation (`confirm`) takes the place with the booking core's one conditional UPDATE.
Three anonymous POSTs with made-up ID numbers can therefore take nothing: every place needs a phone
that answered. Staff book directly for a walk-in or for a family member (`book_at_counter`).
"""
import hmac
import secrets
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from vmo import validators
from vmo.accounts import codes
from vmo.accounts.models import User
from vmo.audit import services as audit
from vmo.booking import services as booking
from vmo.errors import Conflict, NotFound, RuleViolation, TooManyRequests, field_error, valid_field
from vmo.extensions import db
from vmo.greenchannel import services as greenchannel
from vmo.greenchannel.models import GreenChannelDay
from vmo.greenchannel.notifications import month_day
from vmo.notify import services as notify
from vmo.offices.models import Office
from vmo.priority import notifications as texts
from vmo.priority.models import REASONS, PriorityBooking, PriorityDay, PriorityRequest, PriorityStatus
from vmo.priority.settings import PrioritySettings
from vmo.redact import mask_phone

SLOT_KIND = "priority_lane"
CODE_SENT = "code_sent"
WRONG_CODE = "wrong or expired code"
WORKING_DAYS = range(5)  # Monday to Friday; the office sets a holiday to 0 and a Saturday it opens


# ---- days ------------------------------------------------------------------------------

def default_capacity(day: date, daily: int) -> int:
    """The places a date has until an officer sets them: `daily` on a working day, none otherwise."""
    return daily if day.weekday() in WORKING_DAYS else 0


def find_day(office_id: int, day: date) -> PriorityDay | None:
    return db.session.scalar(select(PriorityDay).where(PriorityDay.office_id == office_id, PriorityDay.day == day))


def lane_day(office_id: int, day: date, daily: int) -> PriorityDay:
    """The date's priority day, made with its default places when no one has touched it yet."""
    existing = find_day(office_id, day)
    if existing is not None:
        return existing
    try:
        # A savepoint: made by another request this instant, the transaction goes on with theirs.
        with db.session.begin_nested():
            made = PriorityDay(office_id=office_id, day=day,
                               slot_id=booking.create_slot(office_id, SLOT_KIND, default_capacity(day, daily)).id)
            db.session.add(made)
    except IntegrityError:
        made = find_day(office_id, day)
    return made


def lane_slot(office_id: int, day: date, daily: int) -> int:
    """For the green channel: the slot whose places a green-channel day of this date shows."""
    return lane_day(office_id, day, daily).slot_id


def set_day(office: Office, day: date, capacity: int, actor: User, today: date, daily: int) -> tuple[PriorityDay, bool]:
    """Set a date's priority places (a holiday to 0, a Saturday opened, a busy day raised)."""
    if day < today:
        raise field_error("date", "cannot change a day in the past")
    created = find_day(office.id, day) is None
    priority_day = lane_day(office.id, day, daily)
    before = priority_day.capacity
    try:
        booking.resize(priority_day.slot_id, capacity)  # conditional on what is booked at that moment
    except Conflict:
        booked = booking.booked(priority_day.slot_id)
        raise Conflict(f"capacity {capacity} is below the {booked} places already booked", booked=booked,
                       reason="below_booked", fields={"capacity": [f"{booked} places are already booked"]}) from None
    booking.refresh(priority_day.slot)
    audit.record("priority.day", "priority_day", day.isoformat(), actor=actor,
                 before=None if created else {"capacity": before}, after={"capacity": capacity})
    db.session.flush()
    return priority_day, created


def day_answer(office_id: int, day: date, daily: int) -> dict:
    """A date's places, whether or not its row exists yet (reading makes nothing)."""
    priority_day = find_day(office_id, day)
    if priority_day is None:
        capacity = default_capacity(day, daily)
        return {"date": day, "capacity": capacity, "booked": 0, "available": capacity}
    return {"date": day, "capacity": priority_day.capacity, "booked": priority_day.booked,
            "available": priority_day.available}


def list_days(office_id: int, start: date, end: date, daily: int) -> list[dict]:
    if end < start:
        raise field_error("to", "ends before it starts")
    if (end - start).days > 92:
        raise field_error("to", "at most 92 days at once")
    return [day_answer(office_id, start + timedelta(days=n), daily) for n in range((end - start).days + 1)]


# ---- who may book ------------------------------------------------------------------------

def _checked(data: dict, today: date, elderly_age: int) -> tuple:
    """The request's person, checked: (date, ID number, phone, reason); 422 naming the field otherwise."""
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
            # 《中华人民共和国老年人权益保障法》第二条: "本法所称老年人是指六十周岁以上的公民。"
            raise field_error("reason", f"the ID number gives age {age} on {day.isoformat()}; "
                                        f"the elderly priority is from {elderly_age}")
    if reason == "pregnant" and rid.sex != "F":
        raise field_error("reason", "the ID number is a man's; the pregnancy priority needs the expectant mother's ID")
    return day, rid.number, phone, reason


def _open(office: Office, day: date, daily: int) -> None:
    """422 when the date has no priority places at all, 409 `full` when they are all booked."""
    state = day_answer(office.id, day, daily)
    if state["capacity"] == 0:
        raise field_error("date", f"the priority lane has no places on {day.isoformat()}")
    if state["available"] == 0:
        raise Conflict(f"the priority places of {day.isoformat()} are all booked; try another day",
                       reason="full", available=0)


# ---- the public request and its code ------------------------------------------------------

def request_code(office: Office, data: dict, today: date, now: datetime, elderly_age: int,
                 config: PrioritySettings, key: bytes) -> dict:
    """Text a code to the phone given; nothing is held until the code comes back (`confirm`).

    The answer is the same whoever the ID number belongs to: whether it has a booking is told only
    when the phone's holder confirms.
    """
    day, id_number, phone, reason = _checked(data, today, elderly_age)
    _open(office, day, config.priority_daily_capacity)
    sent = db.session.scalar(select(func.count()).select_from(PriorityRequest).where(
        PriorityRequest.phone == phone, PriorityRequest.created_at > now - timedelta(days=1)))
    if sent >= config.priority_codes_per_phone:
        raise TooManyRequests(f"at most {config.priority_codes_per_phone} codes a day are texted to one phone",
                              retry_after=3600, reason="too_many_codes")
    request = PriorityRequest(office_id=office.id, day=day, name=data["name"], id_number=id_number, phone=phone,
                              reason=reason, business=data.get("business"),
                              certificate_number=data.get("certificate_number"),
                              expires_at=now + timedelta(minutes=config.priority_code_minutes), tries=0,
                              created_at=now)
    db.session.add(request)
    db.session.flush()
    code = codes.new_code()
    request.code_hash = codes.Codes(key).digest("priority", request.id, phone, code)
    notify.queue(office.id, phone, texts.PRIORITY_CODE.render(date=month_day(day), code=code,
                                                              minutes=config.priority_code_minutes),
                 kind="priority_code", key=f"priority_code:{request.id}:{secrets.token_hex(8)}",
                 subject_type="priority_request", subject_id=request.id)
    db.session.flush()
    return {"status": CODE_SENT, "date": day, "phone": mask_phone(phone), "expires_at": request.expires_at,
            "message": f"验证码已发送至尾号{phone[-4:]}的手机，请在{config.priority_code_minutes}分钟内输入以完成预约。"}


def confirm(phone: str, code: str, today: date, now: datetime, config: PrioritySettings, key: bytes,
            hours: tuple[str, str]) -> PriorityBooking:
    """The phone's code comes back: the place is taken now (409 `full` if it went meanwhile).

    The try is counted by a conditional UPDATE (`tries < limit`) and committed before the code is
    compared, so a wrong code counts whatever the request's outcome, and two guesses at once count twice.
    """
    phone = valid_field("phone", validators.validate_mobile, phone)
    wrong = RuleViolation(f"{WRONG_CODE}; ask for a new one", fields={"code": [WRONG_CODE]}, reason="wrong_code")
    request = db.session.scalar(select(PriorityRequest).where(PriorityRequest.phone == phone,
                                                              PriorityRequest.expires_at > now)
                                .order_by(PriorityRequest.id.desc()).limit(1))
    if request is None or request.code_hash is None:
        raise wrong
    counted = db.session.execute(
        update(PriorityRequest)
        .where(PriorityRequest.id == request.id, PriorityRequest.tries < config.priority_code_tries)
        .values(tries=PriorityRequest.tries + 1).execution_options(synchronize_session=False)).rowcount
    # Deliberately committed here, outside the request's unit of work (vmo.uow): a wrong code answers 422
    # (rolled back), but its try must count.
    db.session.commit()
    if counted != 1 or not hmac.compare_digest(request.code_hash,
                                               codes.Codes(key).digest("priority", request.id, phone, code.strip())):
        raise wrong
    office = db.session.get(Office, request.office_id)
    person = {"name": request.name, "id_number": request.id_number, "phone": phone, "reason": request.reason,
              "business": request.business, "certificate_number": request.certificate_number}
    entry = _book(office, request.day, person, today, now, config.priority_daily_capacity, hours, actor=None)
    db.session.execute(PriorityRequest.__table__.delete().where(PriorityRequest.phone == phone))
    db.session.flush()
    return entry


# ---- the booking itself ------------------------------------------------------------------

def book_at_counter(office: Office, data: dict, today: date, now: datetime, elderly_age: int,
                    config: PrioritySettings, actor: User, hours: tuple[str, str]) -> PriorityBooking:
    """Staff book at the counter, for the person in front of them or a family member: no code (the
    officer saw the papers), one active booking per ID number still, the phone may be a relative's."""
    day, id_number, phone, reason = _checked(data, today, elderly_age)
    _open(office, day, config.priority_daily_capacity)
    person = {**data, "id_number": id_number, "phone": phone, "reason": reason}
    return _book(office, day, person, today, now, config.priority_daily_capacity, hours, actor=actor)


def _book(office: Office, day: date, person: dict, today: date, now: datetime, daily: int,
          hours: tuple[str, str], actor: User | None) -> PriorityBooking:
    priority_day = lane_day(office.id, day, daily)
    phone = person["phone"]
    public = actor is None
    _retire_past(person["id_number"], phone, today)
    keys = [PriorityBooking.active_id_number == person["id_number"]]
    if public:
        keys.append(PriorityBooking.active_phone == phone)
    existing = db.session.scalar(select(PriorityBooking).where(or_(*keys)).limit(1))
    if existing is not None:
        if existing.phone != phone:
            # Its own phone learns that someone tried; the caller learns only that it was refused.
            notify.queue(office.id, existing.phone,
                         texts.PRIORITY_REPEATED.render(date=month_day(existing.day.day), reference=existing.reference,
                                                        phone=office.phone or "本所窗口"),
                         kind="priority_booking", key=f"priority_repeated:{existing.id}:{now.isoformat()}",
                         subject_type="priority_booking", subject_id=existing.id)
            # Deliberately committed (vmo.uow): the refusal is rolled back, the text to the holder must go.
            db.session.commit()
        raise Conflict("this ID number or phone already holds an active priority booking; one at a time",
                       reason="already_booked")
    if not booking.try_take(priority_day.slot_id, 1):
        raise Conflict(f"the priority places of {day.isoformat()} are all booked; try another day",
                       reason="full", available=0)
    entry = PriorityBooking(office_id=office.id, day_id=priority_day.id, reference=_reference(),
                            name=person["name"], id_number=person["id_number"], phone=phone, reason=person["reason"],
                            business=person.get("business"), certificate_number=person.get("certificate_number"),
                            status=PriorityStatus.BOOKED, active_id_number=person["id_number"],
                            active_phone=phone if public else None,
                            booked_by_id=actor.id if actor else None, created_at=now)
    db.session.add(entry)
    db.session.flush()  # a concurrent booking of the same person or phone: 409 (vmo.integrity)
    audit.record("priority.book", "priority_booking", entry.id, actor=actor, office_id=office.id,
                 after={"date": day.isoformat(), "reason": entry.reason, "reference": entry.reference,
                        "at_counter": not public})
    green_day = greenchannel.find_day(office.id, day)
    # The hall's hours, or the arrival window of a green-channel day opened on the date.
    arrive_from, arrive_until = (green_day.arrive_from, green_day.arrive_until) if green_day else hours
    # The reference goes only to the phone given: the booking is bound to whoever holds that phone.
    notify.queue(office.id, phone,
                 texts.PRIORITY_BOOKED.render(name=entry.name, date=month_day(day), reference=entry.reference,
                                              arrive_from=arrive_from, arrive_until=arrive_until,
                                              phone=office.phone or "本所窗口"),
                 kind="priority_booking", key=f"priority_booking:{entry.id}",
                 subject_type="priority_booking", subject_id=entry.id)
    db.session.flush()
    return entry


def _retire_past(id_number: str, phone: str, today: date) -> None:
    """A booking whose day has passed is no longer active: its person and phone may book again."""
    past = select(PriorityDay.id).where(PriorityDay.day < today)
    db.session.execute(
        update(PriorityBooking)
        .where(or_(PriorityBooking.active_id_number == id_number, PriorityBooking.active_phone == phone),
               PriorityBooking.day_id.in_(past))
        .values(active_id_number=None, active_phone=None).execution_options(synchronize_session=False))


def _reference() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "P" + "".join(secrets.choice(alphabet) for _ in range(7))


# ---- look-up and cancel by reference ---------------------------------------------------

def get_by_reference(reference: str, actor: User | None = None) -> PriorityBooking:
    entry = db.session.scalar(select(PriorityBooking).where(PriorityBooking.reference == reference.strip().upper()))
    if entry is None or (actor is not None and actor.office_id != entry.office_id):
        raise NotFound(f"no priority booking {reference}")
    return entry


def shown_to(entry: PriorityBooking, phone: str | None, staff: bool) -> bool:
    """The name and reason behind a reference: for staff, and for the holder of the booking's phone
    (who gives its number with the look-up), never for whoever merely has the reference."""
    if staff:
        return True
    return bool(phone) and hmac.compare_digest(phone.strip().replace(" ", ""), entry.phone)


def cancel(reference: str, now: datetime, actor: User | None = None) -> PriorityBooking:
    """Cancel by reference and give the place back to the day's priority places."""
    entry = get_by_reference(reference, actor)
    flipped = db.session.execute(
        update(PriorityBooking).where(PriorityBooking.id == entry.id, PriorityBooking.status == PriorityStatus.BOOKED)
        .values(status=PriorityStatus.CANCELLED, active_id_number=None, active_phone=None, cancelled_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if flipped != 1:
        raise Conflict(f"priority booking {entry.reference} is already cancelled", reason="cancelled")
    booking.release(entry.day.slot_id, 1)
    audit.record("priority.cancel", "priority_booking", entry.id, actor=actor, office_id=entry.office_id,
                 before={"status": PriorityStatus.BOOKED},
                 after={"status": PriorityStatus.CANCELLED})
    db.session.flush()
    db.session.refresh(entry)
    return entry


# ---- the day's queue ------------------------------------------------------------------

def day_bookings(office_id: int, day: date) -> list[PriorityBooking]:
    return list(db.session.scalars(
        select(PriorityBooking).join(PriorityDay, PriorityDay.id == PriorityBooking.day_id)
        .where(PriorityDay.office_id == office_id, PriorityDay.day == day,
               PriorityBooking.status == PriorityStatus.BOOKED)
        .order_by(PriorityBooking.created_at, PriorityBooking.id)))


def queue(office_id: int, day: date) -> list[dict]:
    """The date's priority bookings in serving order, phones masked (an officer who must call uses
    POST /phones/reveal, which is audited)."""
    return [{"kind": "priority", "id": entry.id, "reference": entry.reference, "name": entry.name,
             "reason": entry.reason, "business": entry.business, "phone": mask_phone(entry.phone),
             "vehicles": 1, "batch_id": None, "booked_at": entry.created_at,
             "at_counter": entry.booked_by_id is not None}
            for entry in day_bookings(office_id, day)]


@greenchannel.queue_source(order=0)
def queue_entries(green_day: GreenChannelDay) -> list[dict]:
    """A green-channel day's priority bookings (the lane's, of that date): served before everyone else."""
    return [{k: v for k, v in entry.items() if k != "at_counter"}
            for entry in queue(green_day.office_id, green_day.day)]


def reveal_phone(office_id: int, booking_id: str) -> str:
    """The phone behind a priority booking of this office (by id or reference), for POST /phones/reveal."""
    key = (PriorityBooking.id == int(booking_id)) if booking_id.isascii() and booking_id.isdigit() else \
        (PriorityBooking.reference == booking_id.upper())
    phone = db.session.scalar(select(PriorityBooking.phone).where(key, PriorityBooking.office_id == office_id))
    if phone is None:
        raise NotFound(f"no priority booking {booking_id}")
    return phone


def view(entry: PriorityBooking, shown: bool) -> dict:
    """A booking's answer; who it is for (name, reason, ID, business) only when `shown` (see shown_to)."""
    rid = entry.id_number
    return {"id": entry.id, "reference": entry.reference, "date": entry.day.day, "status": entry.status,
            "name": entry.name if shown else None, "reason": entry.reason if shown else None,
            "id_number": rid[:6] + "********" + rid[-4:] if shown else None,
            "business": entry.business if shown else None, "phone": mask_phone(entry.phone),
            "at_counter": entry.booked_by_id is not None, "created_at": entry.created_at,
            "cancelled_at": entry.cancelled_at}
