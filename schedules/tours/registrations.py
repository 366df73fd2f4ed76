"""At the stops: owners' pre-registrations (capacity from vmo.booking) and inspections recorded."""
import hashlib
import hmac
import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from schedules.tours.models import StopRegistration, Tour, TourInspection, TourStop
from schedules.tours.services import get_tour, local_hm, place_name, zone_of
from vmo.accounts.models import User
from vmo.audit import services as audit
from vmo.booking import services as booking
from vmo.errors import Conflict, NotFound, RuleViolation
from vmo.extensions import db
from vmo.motorcycles import services as register_of_motorcycles
from vmo.motorcycles.rules import DueRules
from vmo.notify import services as notify


def _public_stop(tour_id: int, stop_id: int) -> tuple[Tour, TourStop]:
    """A stop of a published (or cancelled) tour; a draft is not public, so it is 'not found'."""
    tour = db.session.get(Tour, tour_id)
    if tour is None or tour.published_at is None:
        raise NotFound(f"no tour {tour_id}")
    stop = next((s for s in tour.stops if s.id == stop_id), None)
    if stop is None:
        raise NotFound(f"tour {tour_id} has no stop {stop_id}")
    return tour, stop


def register(tour_id: int, stop_id: int, data: dict, now: datetime, actor: User | None = None) -> StopRegistration:
    """Pre-register a motorcycle at a stop: 409 when full, cancelled, closed, or the plate is already in.

    `actor`: the staff member registering for an owner (at the counter), named in the audit entry.
    """
    tour, stop = _public_stop(tour_id, stop_id)
    if tour.status == "cancelled":
        raise Conflict(f"tour {tour.id} was cancelled")
    if stop.status != "scheduled":
        raise Conflict(f"the stop at {stop.township}{stop.venue} was cancelled; choose another stop")
    if now >= stop.arrives_at:
        raise Conflict("registration for this stop has closed; come along, walk-ins are inspected too")
    plate = data["plate"]
    earlier = db.session.scalar(select(StopRegistration).where(StopRegistration.tour_id == tour.id,
                                                               StopRegistration.active_plate == plate))
    if earlier is not None:
        raise Conflict(f"{plate} is already registered on this tour (stop {earlier.stop_id})",
                       registration_id=earlier.id)
    booking.take(stop.slot_id, 1, message=f"the stop at {stop.township}{stop.venue} is full")
    code = new_cancel_code()
    reg = StopRegistration(office_id=tour.office_id, tour_id=tour.id, stop_id=stop.id, plate=plate,
                           active_plate=plate, owner_name=data["owner_name"], phone=data["phone"],
                           status="registered", created_at=now, cancel_code_hash=_code_hash(code))
    db.session.add(reg)
    try:
        db.session.flush()
    except IntegrityError:
        # The same plate registered by a concurrent request: our capacity hold rolls back with us.
        db.session.rollback()
        raise Conflict(f"{plate} is already registered on this tour") from None
    zone = zone_of(tour)
    notify.queue(tour.office_id, reg.phone,
                 f"【{tour.office.name}】已预约：{tour.date:%m月%d日} {local_hm(stop.arrives_at, zone)}-"
                 f"{local_hm(stop.departs_at, zone)} {place_name(stop.township, stop.venue)}，摩托车{plate}。请带行驶证和身份证。"
                 f"如不能前来，请用取消码{code}取消，把名额留给他人。",
                 kind="tour_registration", key=f"tour_registration:{reg.id}",
                 subject_type="tour_registration", subject_id=reg.id)
    audit.record("tour.register", "tour_registration", reg.id, actor=actor, office_id=tour.office_id,
                 after={"tour_id": tour.id, "stop_id": stop.id, "plate": plate})
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(f"{plate} is already registered on this tour") from None
    booking.refresh(stop.slot)
    reg.cancel_code = code  # for the 201 answer only; the table keeps its hash
    return reg


# An owner has no account: the code in the answer and the text is what lets them (and only them) cancel.
# 8 characters of 31 (no 0/O, 1/I/L) is about 40 bits; guessing also meets the per-address rate limit.
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def new_cancel_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def cancel_registration(tour_id: int, stop_id: int, registration_id: int, code: str | None, now: datetime,
                        actor: User | None = None) -> StopRegistration:
    """Cancel a pre-registration: by its owner with the cancel code, or by staff of the office without one.

    The place goes back to the stop. A wrong code answers exactly like a registration that does not exist.
    """
    tour, stop = _public_stop(tour_id, stop_id)
    reg = db.session.scalar(select(StopRegistration).where(
        StopRegistration.id == registration_id, StopRegistration.tour_id == tour.id,
        StopRegistration.stop_id == stop.id))
    staff = actor is not None and actor.office_id == tour.office_id
    if reg is None or not (staff or (code and reg.cancel_code_hash
                                     and hmac.compare_digest(_code_hash(code), reg.cancel_code_hash))):
        raise NotFound(f"no registration {registration_id} at this stop (or the cancel code is not its code)")
    if reg.status == "cancelled":
        raise Conflict(f"registration {reg.id} is already cancelled")
    if reg.status != "registered":
        raise Conflict(f"{reg.plate} was already inspected; there is nothing to cancel")
    if now >= stop.arrives_at:
        raise Conflict("the stop has begun; a registration can be cancelled only before it")
    # Guarded: of two cancels at once (owner and office), only the one that flips the row frees the place.
    flipped = db.session.execute(
        update(StopRegistration).where(StopRegistration.id == reg.id, StopRegistration.status == "registered")
        .values(status="cancelled", active_plate=None, cancelled_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if flipped != 1:
        db.session.rollback()
        raise Conflict(f"registration {reg.id} was changed at the same moment; reload it")
    booking.release(stop.slot_id, 1)
    notify.queue(tour.office_id, reg.phone,
                 f"【{tour.office.name}】已取消{tour.date:%m月%d日}{place_name(stop.township, stop.venue)}摩托车{reg.plate}的检验预约。",
                 kind="tour_registration_cancel", key=f"tour_registration_cancel:{reg.id}",
                 subject_type="tour_registration", subject_id=reg.id)
    audit.record("tour.registration_cancel", "tour_registration", reg.id, actor=actor if staff else None,
                 office_id=tour.office_id, before={"status": "registered"},
                 after={"status": "cancelled", "by": "office" if staff else "owner"})
    db.session.commit()
    return reg


def list_registrations(user: User, tour_id: int, stop_id: int):
    tour = get_tour(user, tour_id)
    if not any(s.id == stop_id for s in tour.stops):
        raise NotFound(f"tour {tour_id} has no stop {stop_id}")
    return (select(StopRegistration).where(StopRegistration.stop_id == stop_id)
            .order_by(StopRegistration.id))


def find_inspection(client_id: str) -> TourInspection | None:
    return db.session.scalar(select(TourInspection).where(TourInspection.client_id == client_id))


def add_inspection(officer: User, tour: Tour, stop: TourStop, data: dict, now: datetime, rules: DueRules,
                   skew: timedelta) -> TourInspection:
    """Record an inspection in the caller's transaction (the mobile sync uses this too).

    Marks the plate's registration inspected (else the inspection is a walk-in), moves the
    register's last inspection date on a pass, and queues the follow-up text to the owner.
    """
    zone = zone_of(tour)
    recorded_at = data.get("recorded_at") or now
    # A device clock ahead of ours, or a time off the tour's day, cannot be right: kept, but flagged.
    skewed = recorded_at > now + skew or recorded_at.astimezone(zone).date() != tour.date
    reg = db.session.scalar(select(StopRegistration).where(StopRegistration.tour_id == tour.id,
                                                           StopRegistration.active_plate == data["plate"]))
    inspection = TourInspection(
        office_id=tour.office_id, tour_id=tour.id, stop_id=stop.id,
        client_id=str(data.get("client_id") or uuid.uuid4()), device_id=data.get("device_id"),
        plate=data["plate"], vin=data.get("vin"), odometer_km=data.get("odometer_km"),
        checklist=data.get("checklist") or {}, result=data["result"], defects=data.get("defects") or [],
        officer_id=officer.id, registration_id=reg.id if reg else None, walk_in=reg is None,
        lat=data.get("lat"), lon=data.get("lon"), recorded_at=recorded_at, received_at=now,
        clock_skew=skewed, note=data.get("note"),
    )
    db.session.add(inspection)
    if reg is not None:
        reg.status = "inspected"
    moto = None
    if data["result"] == "pass":
        day = (now if skewed else recorded_at).astimezone(zone).date()
        moto = register_of_motorcycles.mark_inspected(tour.office_id, data["plate"], day, rules)
    else:
        moto = register_of_motorcycles.find(data["plate"])
    db.session.flush()
    phone = (reg.phone if reg else None) or data.get("phone") or (moto.phone if moto else None)
    if phone:
        outcome = "检验合格" if data["result"] == "pass" else "检验未通过，请排除故障后复检"
        notify.queue(tour.office_id, phone,
                     f"【{tour.office.name}】您的摩托车{data['plate']}已在{stop.township}流动车管所{outcome}，"
                     f"检验民警警号{officer.badge_number or officer.id}。满意请回复1，不满意请回复2。",
                     kind="follow_up", key=f"follow_up:tour_inspection:{inspection.id}",
                     subject_type="tour_inspection", subject_id=inspection.id, officer_id=officer.id)
    audit.record("tour.inspect", "tour_inspection", inspection.id, actor=officer,
                 after={"tour_id": tour.id, "stop_id": stop.id, "plate": data["plate"], "result": data["result"],
                        "walk_in": inspection.walk_in, "clock_skew": skewed})
    return inspection


def record_inspection(officer: User, tour_id: int, stop_id: int, data: dict, now: datetime, rules: DueRules,
                      skew: timedelta) -> TourInspection:
    """An officer records an inspection done at a stop of a published tour of their office."""
    tour = get_tour(officer, tour_id)
    stop = next((s for s in tour.stops if s.id == stop_id), None)
    if stop is None:
        raise NotFound(f"tour {tour_id} has no stop {stop_id}")
    if tour.status != "published":
        raise Conflict(f"tour {tour.id} is {tour.status}; inspections are recorded on published tours")
    if data.get("client_id") and find_inspection(str(data["client_id"])) is not None:
        raise Conflict(f"an inspection with client_id {data['client_id']} is already recorded")
    if data.get("odometer_km") is not None and data["odometer_km"] < 0:
        raise RuleViolation("odometer_km must not be negative")
    inspection = add_inspection(officer, tour, stop, data, now, rules, skew)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(f"an inspection with client_id {data.get('client_id')} is already recorded") from None
    return inspection
