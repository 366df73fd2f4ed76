"""At the stops: owners' pre-registrations (capacity from vmo.booking) and inspections recorded."""
import hashlib
import hmac
import re
import secrets
import unicodedata
import uuid
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import select, update

from schedules.tours.models import (
    RegistrationStatus, StopRegistration, StopStatus, Tour, TourInspection, TourStatus, TourStop,
)
from schedules.tours import inspections
from schedules.tours import notifications as texts
from schedules.tours.inspections import InspectionSettings
from schedules.tours.services import get_tour, local_hm, place_name, zone_of
from schedules.tours.sync import SyncStatus
from vmo import uow
from vmo.accounts.models import User
from vmo.audit import services as audit
from vmo.booking import services as booking
from vmo.errors import Conflict, Forbidden, NotFound, RuleViolation
from vmo.extensions import db
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
    if tour.status == TourStatus.CANCELLED:
        raise Conflict(f"tour {tour.id} was cancelled")
    if stop.status != StopStatus.SCHEDULED:
        raise Conflict(f"the stop at {stop.township}{stop.venue} was cancelled; choose another stop")
    if now >= stop.arrives_at:
        raise Conflict("registration for this stop has closed; come along, walk-ins are inspected too")
    plate = data["plate"]
    earlier = db.session.scalar(select(StopRegistration).where(StopRegistration.tour_id == tour.id,
                                                               StopRegistration.active_plate == plate))
    if earlier is not None:
        if actor is not None and actor.office_id == tour.office_id:  # the office may see which
            raise Conflict(f"{plate} is already registered on this tour (stop {earlier.stop_id})",
                           registration_id=earlier.id)
        # Anyone else gets the answer of a first registration: a refusal would tell a stranger with the
        # plate that its owner is coming. The standing registration's phone is told instead.
        return _duplicate(tour, stop, earlier, data, now)
    booking.take(stop.slot_id, 1, message=f"the stop at {stop.township}{stop.venue} is full")
    code = new_cancel_code()
    reg = StopRegistration(office_id=tour.office_id, tour_id=tour.id, stop_id=stop.id, plate=plate,
                           active_plate=plate, owner_name=data["owner_name"], phone=data["phone"],
                           status=RegistrationStatus.REGISTERED, created_at=now, cancel_code_hash=_code_hash(code))
    db.session.add(reg)
    # The same plate registered by a concurrent request is refused here (a 409, vmo.integrity); our
    # capacity hold rolls back with the request.
    db.session.flush()
    zone = zone_of(tour)
    notify.queue(tour.office_id, reg.phone,
                 texts.REGISTERED.render(date=f"{tour.date:%m月%d日}", start=local_hm(stop.arrives_at, zone),
                                         end=local_hm(stop.departs_at, zone),
                                         place=place_name(stop.township, stop.venue), plate=plate, code=code),
                 kind="tour_registration", key=f"tour_registration:{reg.id}",
                 subject_type="tour_registration", subject_id=reg.id)
    audit.record("tour.register", "tour_registration", reg.id, actor=actor, office_id=tour.office_id,
                 after={"tour_id": tour.id, "stop_id": stop.id, "plate": plate})
    uow.flush()
    booking.refresh(stop.slot)
    reg.cancel_code = code  # for the 201 answer only; the table keeps its hash
    return reg


def _duplicate(tour: Tour, stop: TourStop, earlier: StopRegistration, data: dict, now: datetime) -> SimpleNamespace:
    """A row shaped like a registration (its own id and cancel code) that holds neither a place nor the
    plate; the earlier registration's phone learns that someone registered its plate again."""
    code = new_cancel_code()
    reg = StopRegistration(office_id=tour.office_id, tour_id=tour.id, stop_id=stop.id, plate=data["plate"],
                           active_plate=None, owner_name=data["owner_name"], phone=data["phone"],
                           status=RegistrationStatus.DUPLICATE, created_at=now, cancel_code_hash=_code_hash(code))
    db.session.add(reg)
    db.session.flush()
    notify.queue(tour.office_id, earlier.phone,
                 texts.REGISTERED_AGAIN.render(date=f"{tour.date:%m月%d日}", plate=earlier.plate),
                 kind="tour_registration", key=f"tour_registration_again:{reg.id}",
                 subject_type="tour_registration", subject_id=earlier.id)
    audit.record("tour.register", "tour_registration", reg.id, actor=None, office_id=tour.office_id,
                 after={"tour_id": tour.id, "stop_id": stop.id, "plate": reg.plate, "duplicate_of": earlier.id})
    uow.flush()
    # The answer reads like a first one (`registered`); the row stays a duplicate.
    return SimpleNamespace(id=reg.id, tour_id=tour.id, stop_id=stop.id, stop=stop, plate=reg.plate,
                           owner_name=reg.owner_name, phone=reg.phone, status=RegistrationStatus.REGISTERED,
                           created_at=reg.created_at, cancel_code=code)


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
    if reg.status == RegistrationStatus.DUPLICATE and not staff:
        # Cancelled like a real one (its answer must not tell it apart); there is no place to free.
        db.session.execute(update(StopRegistration).where(StopRegistration.id == reg.id)
                           .values(status=RegistrationStatus.CANCELLED, cancelled_at=now)
                           .execution_options(synchronize_session=False))
        uow.flush()
        db.session.refresh(reg)
        return reg
    if reg.status == RegistrationStatus.CANCELLED:
        raise Conflict(f"registration {reg.id} is already cancelled")
    if reg.status != RegistrationStatus.REGISTERED:
        raise Conflict(f"{reg.plate} was already inspected; there is nothing to cancel")
    if now >= stop.arrives_at:
        raise Conflict("the stop has begun; a registration can be cancelled only before it")
    if not _cancel(tour, stop, reg, now, actor=actor if staff else None, by="office" if staff else "owner"):
        raise Conflict(f"registration {reg.id} was changed at the same moment; reload it")
    uow.flush()
    return reg


def _cancel(tour: Tour, stop: TourStop, reg: StopRegistration, now: datetime, *, actor: User | None,
            by: str) -> bool:
    """Cancel a standing registration in the caller's transaction; False when another cancel got there first."""
    # Guarded: of two cancels at once (owner and office), only the one that flips the row frees the place.
    flipped = db.session.execute(
        update(StopRegistration).where(StopRegistration.id == reg.id, StopRegistration.status == RegistrationStatus.REGISTERED)
        .values(status=RegistrationStatus.CANCELLED, active_plate=None, cancelled_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if flipped != 1:
        return False
    booking.release(stop.slot_id, 1)
    notify.queue(tour.office_id, reg.phone,
                 texts.REGISTRATION_CANCELLED.render(date=f"{tour.date:%m月%d日}",
                                                     place=place_name(stop.township, stop.venue), plate=reg.plate),
                 kind="tour_registration_cancel", key=f"tour_registration_cancel:{reg.id}",
                 subject_type="tour_registration", subject_id=reg.id)
    audit.record("tour.registration_cancel", "tour_registration", reg.id, actor=actor,
                 office_id=tour.office_id, before={"status": RegistrationStatus.REGISTERED},
                 after={"status": RegistrationStatus.CANCELLED, "by": by})
    return True


# `取消 K7P2QX9M` (full-width space or colon, any case): what the registration's text tells owners to reply.
_CANCEL_REPLY = re.compile(r"^取消[\s:：]*([A-Z0-9]{8})[。.！!]?$")


def cancel_by_reply(phone: str, text: str, now: datetime) -> bool:
    """A reply hook for the inbound SMS webhook: `取消 <code>` from the registration's own phone cancels it.

    Takes the reply (True) only when the code is a standing registration of that phone whose stop has
    not begun; anything else goes on to the follow-up matching. Runs in the webhook's transaction.
    """
    match = _CANCEL_REPLY.match(unicodedata.normalize("NFKC", text or "").strip().upper())
    if not match:
        return False
    reg = db.session.scalar(select(StopRegistration).where(
        StopRegistration.cancel_code_hash == _code_hash(match.group(1)), StopRegistration.phone == phone,
        StopRegistration.status == RegistrationStatus.REGISTERED))
    if reg is None or now >= reg.stop.arrives_at:
        return False
    return _cancel(reg.stop.tour, reg.stop, reg, now, actor=None, by="owner by text")


def reveal_phone(office_id: int, registration_id: str) -> str:
    """The owner's phone behind a registration of this office, for POST /phones/reveal."""
    phone = db.session.scalar(select(StopRegistration.phone).where(
        StopRegistration.id == int(registration_id), StopRegistration.office_id == office_id)) \
        if registration_id.isascii() and registration_id.isdigit() else None
    if phone is None:
        raise NotFound(f"no registration {registration_id}")
    return phone


def list_registrations(user: User, tour_id: int, stop_id: int):
    tour = get_tour(user, tour_id)
    if not any(s.id == stop_id for s in tour.stops):
        raise NotFound(f"tour {tour_id} has no stop {stop_id}")
    return (select(StopRegistration).where(StopRegistration.stop_id == stop_id,
                                           StopRegistration.status != RegistrationStatus.DUPLICATE)
            .order_by(StopRegistration.id))


def record_inspection(officer: User, tour_id: int, stop_id: int, data: dict, now: datetime,
                      settings: InspectionSettings) -> TourInspection:
    """An officer records an inspection done at a stop: the tablets' bulk path, with a list of one."""
    tour = get_tour(officer, tour_id)
    if not any(s.id == stop_id for s in tour.stops):
        raise NotFound(f"tour {tour_id} has no stop {stop_id}")
    record = {**data, "stop_id": stop_id, "client_id": str(data.get("client_id") or uuid.uuid4())}
    outcome, = inspections.record_inspections(officer, [record], now, settings)
    if outcome.status == SyncStatus.REJECTED:
        message = "; ".join(f"{name}: {problem}" for name, problem in _flat(outcome.errors))
        if outcome.reason == inspections.NOT_ASSIGNED:
            raise Forbidden(f"you are not assigned to tour {tour.id}; only its officers record its inspections")
        if outcome.reason == inspections.NOT_OPEN:
            raise Conflict(f"tour {tour.id} is {tour.status}; inspections are recorded on published tours' stops")
        raise RuleViolation(message, fields=outcome.errors)
    if outcome.status != SyncStatus.CREATED:
        raise Conflict(f"an inspection with client_id {record['client_id']} is already recorded")
    inspection = db.session.get(TourInspection, outcome.id)
    audit.record("tour.inspect", "tour_inspection", inspection.id, actor=officer,
                 after={"tour_id": tour.id, "stop_id": stop_id, "plate": inspection.plate,
                        "result": inspection.result, "walk_in": inspection.walk_in,
                        "clock_skew": inspection.clock_skew})
    uow.flush()
    return inspection


def _flat(errors: dict, prefix: str = ""):
    for name, value in errors.items():
        if isinstance(value, dict):
            yield from _flat(value, f"{prefix}{name}.")
        else:
            for problem in value:
                yield f"{prefix}{name}", problem
