"""Fleet rules: atomic batches, green-channel capacity, inspections and plate issue."""
from datetime import date, datetime

from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from vmo import hooks, uow
from vmo.accounts import companies
from vmo.accounts.models import Company, Role, User
from vmo.audit import services as audit
from vmo.booking import services as booking
from vmo.errors import Conflict, NotFound, RuleViolation
from vmo.extensions import db
from vmo.fleet.models import (
    AppointmentStatus, BatchStatus, FleetAppointment, FleetBatch, FleetInspection, FleetVehicle, GreenChannelRequest,
    RequestStatus, VehicleStatus,
)
from vmo.fleet import notifications as texts
from vmo.fleet import papers, plates
from vmo.fleet.settings import FleetSettings
from vmo.greenchannel import notifications as gc_texts
from vmo.greenchannel import services as greenchannel
from vmo.greenchannel.notifications import month_day
from vmo.greenchannel.models import GreenChannelDay
from vmo.notify import services as notify
from vmo.offices.models import Office
from vmo.redact import mask_phone

# ---- batches --------------------------------------------------------------------------

def submit_batch(company: Company, vehicles: list[dict], note: str | None, actor: User,
                 max_vehicles: int) -> FleetBatch:
    """Create a batch with all its vehicles, or nothing: every bad vehicle is named by index."""
    if not 1 <= len(vehicles) <= max_vehicles:
        message = f"a batch has 1 to {max_vehicles} vehicles"
        raise RuleViolation(message, fields={"vehicles": [message]})
    errors, first_seen = vin_problems([v["vin"] for v in vehicles], company.office_id)
    if errors:
        raise _batch_errors(errors)

    batch = FleetBatch(office_id=company.office_id, company_id=company.id, status=BatchStatus.SUBMITTED, note=note)
    db.session.add(batch)
    db.session.flush()
    try:
        # A savepoint: if another batch took one of these VINs between our check and this flush, the
        # transaction survives to read which ones and name them.
        with db.session.begin_nested():
            db.session.add_all(
                FleetVehicle(office_id=company.office_id, batch_id=batch.id, position=i, status=VehicleStatus.SUBMITTED, **v)
                for i, v in enumerate(vehicles)
            )
    except IntegrityError:
        known = _known_vins(list(first_seen), company.office_id)
        if not known:
            raise
        raise _batch_errors({first_seen[v]: {"vin": ["already known to the office"]} for v in known}) from None
    audit.record("fleet.submit", "fleet_batch", batch.id, actor=actor,
                 after={"vehicles": [v["vin"] for v in vehicles], "note": note})
    uow.flush()
    return batch


def vin_problems(vins: list[str | None], office_id: int | None) -> tuple[dict[int, dict], dict[str, int]]:
    """Per index: a VIN given twice in the batch, or already known to the office; None (a malformed VIN)
    is skipped. A VIN another office knows is not this office's concern (`office_id` None: asks no office).

    Also called when the batch has other bad fields, so one answer names every bad index.
    """
    errors: dict[int, dict] = {}
    first_seen: dict[str, int] = {}
    for index, vin in enumerate(vins):
        if vin is None:
            continue
        if vin in first_seen:
            errors[index] = {"vin": [f"appears twice in this batch (also at index {first_seen[vin]})"]}
        else:
            first_seen[vin] = index
    known = _known_vins(list(first_seen), office_id) if office_id is not None else set()
    for vin in known:
        errors.setdefault(first_seen[vin], {})["vin"] = ["already known to the office"]
    return errors, first_seen


def _known_vins(vins: list[str], office_id: int) -> set[str]:
    return set(db.session.scalars(select(FleetVehicle.vin).where(FleetVehicle.vin.in_(vins),
                                                                 FleetVehicle.office_id == office_id)))


def _batch_errors(errors: dict[int, dict]) -> RuleViolation:
    count = len(errors)
    return RuleViolation(f"{count} vehicle{'s' if count != 1 else ''} rejected; nothing was submitted",
                         fields={"vehicles": dict(sorted(errors.items()))})


def _batches_visible_to(user: User) -> Select:
    stmt = select(FleetBatch).where(FleetBatch.office_id == user.office_id)
    if user.role == Role.COMPANY:
        stmt = stmt.join(Company, Company.id == FleetBatch.company_id).where(Company.user_id == user.id)
    return stmt


def list_batches(user: User, status: str | None = None) -> Select:
    stmt = _batches_visible_to(user).options(selectinload(FleetBatch.vehicles), selectinload(FleetBatch.appointments))
    if status:
        stmt = stmt.where(FleetBatch.status == status)
    return stmt.order_by(FleetBatch.id.desc())


def get_batch(user: User, batch_id: int) -> FleetBatch:
    """The batch if the user may see it; another company's batch is 'not found', as if absent."""
    batch = db.session.scalar(_batches_visible_to(user).where(FleetBatch.id == batch_id))
    if batch is None:
        raise NotFound(f"no batch {batch_id}")
    return batch


def batch_case(batch_id: int) -> hooks.Case | None:
    """A batch as other features see it (vmo.hooks.CASES): finished once every vehicle is registered."""
    batch = db.session.get(FleetBatch, batch_id)
    if batch is None:
        return None
    return hooks.Case("fleet_batch", batch.id, batch.office_id, batch.status == BatchStatus.COMPLETED,
                      owner_user_id=batch.company.user_id, label=f"车队批次{batch.id}（{batch.company.name}）")


def batch_with_plates(user: User, batch_id: int, now: datetime) -> FleetBatch:
    """The batch, each vehicle showing its plate choice (none, choosing, reserved, issued)."""
    batch = get_batch(user, batch_id)
    plates.annotate(batch.vehicles, now)
    return batch


def vehicle_with_plate(user: User, vin: str, now: datetime) -> FleetVehicle:
    vehicle = get_vehicle(user, vin)
    plates.annotate([vehicle], now)
    return vehicle


def get_vehicle(user: User, vin: str) -> FleetVehicle:
    stmt = select(FleetVehicle).join(FleetBatch).where(FleetVehicle.vin == vin.strip().upper(),
                                                      FleetVehicle.office_id == user.office_id)
    if user.role == Role.COMPANY:
        stmt = stmt.join(Company, Company.id == FleetBatch.company_id).where(Company.user_id == user.id)
    vehicle = db.session.scalar(stmt)
    if vehicle is None:
        raise NotFound(f"no vehicle with VIN {vin}")
    return vehicle


def _refresh_batch_status(batch: FleetBatch, now: datetime) -> None:
    # Lock the batch, then read its vehicles' statuses from the database, not from this session:
    # two officers registering the batch's last two vehicles at once would otherwise each see the
    # other's vehicle unregistered, and the batch would stay in_progress for good (seen on PostgreSQL).
    # FOR NO KEY UPDATE, not FOR UPDATE: updating a vehicle row twice in one transaction makes
    # PostgreSQL take a KEY SHARE lock on its batch (the foreign key check), which FOR UPDATE waits
    # for, so two registrations deadlocked; NO KEY UPDATE still serialises the status refresh.
    db.session.execute(select(FleetBatch.id).where(FleetBatch.id == batch.id).with_for_update(key_share=True))
    statuses = set(db.session.scalars(select(FleetVehicle.status).where(FleetVehicle.batch_id == batch.id)))
    if statuses == {VehicleStatus.REGISTERED}:
        status = BatchStatus.COMPLETED
    elif statuses & {VehicleStatus.INSPECTED, VehicleStatus.FAILED_INSPECTION, VehicleStatus.REGISTERED}:
        status = BatchStatus.IN_PROGRESS
    elif batch.appointment is not None:
        status = BatchStatus.SCHEDULED
    else:
        status = BatchStatus.SUBMITTED
    if status != batch.status:
        batch.status = status
        batch.completed_at = now if status == BatchStatus.COMPLETED else None


# ---- appointments ---------------------------------------------------------------------

def book_appointment(user: User, batch_id: int, day: date, today: date, now: datetime) -> FleetAppointment:
    """Hold the whole batch's vehicles on one day, or nothing (409)."""
    batch = get_batch(user, batch_id)
    companies.require_approved(batch.company)
    _bookable(batch)
    green_day = _open_day(batch, day, today)
    units = len(batch.vehicles)
    booking.take(green_day.slot_id, units,
                 message=f"{day.isoformat()} has fewer than {units} places left for this batch")
    appointment = _hold(batch, green_day, units, user, now)
    _tell(batch, texts.APPOINTMENT_BOOKED, green_day, units, now)
    uow.flush()
    return appointment


def _bookable(batch: FleetBatch) -> None:
    if batch.appointment is not None:
        raise Conflict(f"batch {batch.id} already has an appointment on {batch.appointment.day.day.isoformat()}")
    if batch.status != BatchStatus.SUBMITTED:
        raise Conflict(f"batch {batch.id} is {batch.status}; only a submitted batch can be booked")


def _open_day(batch: FleetBatch, day: date, today: date) -> GreenChannelDay:
    if day < today:
        raise RuleViolation("the date is in the past", fields={"date": ["in the past"]})
    green_day = greenchannel.find_day(batch.office_id, day)
    if green_day is None:
        raise RuleViolation(f"the green channel is not open on {day.isoformat()}",
                            fields={"date": ["no green-channel day open on this date"]})
    return green_day


def _hold(batch: FleetBatch, green_day: GreenChannelDay, units: int, actor: User, now: datetime) -> FleetAppointment:
    """The appointment row for places already taken on `green_day` (flushed, not committed)."""
    appointment = FleetAppointment(office_id=batch.office_id, batch_id=batch.id, active_batch_id=batch.id,
                                   day_id=green_day.id, units=units, status=AppointmentStatus.BOOKED,
                                   created_at=now)
    db.session.add(appointment)
    for vehicle in batch.vehicles:
        vehicle.status = VehicleStatus.SCHEDULED
    batch.appointments.append(appointment)
    # Flush here: the unique active_batch_id refuses a concurrent second booking of this batch (a 409,
    # vmo.integrity), and our capacity hold rolls back with the request.
    db.session.flush()
    _refresh_batch_status(batch, now)
    audit.record("fleet.book", "fleet_batch", batch.id, actor=actor, before={"status": BatchStatus.SUBMITTED},
                 after={"status": batch.status, "date": green_day.day.isoformat(), "vehicles": units})
    return appointment


def _tell(batch: FleetBatch, template, green_day: GreenChannelDay, units: int, now: datetime) -> None:
    """A text to the company's contact naming the day and its arrival window."""
    office = db.session.get(Office, batch.office_id)
    body = template.render(company=batch.company.name, count=units, date=month_day(green_day.day),
                           arrive_from=green_day.arrive_from, arrive_until=green_day.arrive_until,
                           place=office.address or office.name)
    notify.queue(batch.office_id, batch.company.contact_phone, body, kind="fleet_appointment",
                 key=f"{template.key}:{batch.id}:{green_day.day.isoformat()}:{now.isoformat()}",
                 subject_type="fleet_batch", subject_id=batch.id)


def move_appointment(user: User, batch_id: int, day: date, today: date, now: datetime) -> FleetAppointment:
    """Move the whole batch to another day: the new places are taken before the old are freed.

    A 409 (the new day is full) rolls everything back, so the old appointment stays as it was.
    """
    batch = get_batch(user, batch_id)
    companies.require_approved(batch.company)
    appointment = batch.appointment
    if appointment is None:
        raise NotFound(f"batch {batch_id} has no appointment")
    started = Conflict("inspection has started for this batch; the appointment can no longer be moved")
    if any(v.status != VehicleStatus.SCHEDULED for v in batch.vehicles):
        raise started
    old_day = appointment.day
    if old_day.day == day:
        return appointment
    green_day = _open_day(batch, day, today)
    units = appointment.units
    booking.take(green_day.slot_id, units,
                 message=f"{day.isoformat()} has fewer than {units} places left for this batch; "
                         f"the appointment stays on {old_day.day.isoformat()}")
    # Lock the vehicles as they are: an inspection committed since the check above makes this touch
    # fewer rows, and the move gives way (an inspection after this waits, then finds the new day).
    still = db.session.execute(
        update(FleetVehicle).where(FleetVehicle.batch_id == batch.id, FleetVehicle.status == VehicleStatus.SCHEDULED)
        .values(status=VehicleStatus.SCHEDULED).execution_options(synchronize_session=False)).rowcount
    moved = db.session.execute(
        update(FleetAppointment)
        .where(FleetAppointment.id == appointment.id, FleetAppointment.status == AppointmentStatus.BOOKED,
               FleetAppointment.day_id == old_day.id)
        .values(day_id=green_day.id).execution_options(synchronize_session=False)).rowcount
    if still != len(batch.vehicles) or moved != 1:
        raise started if still != len(batch.vehicles) else Conflict("the appointment changed meanwhile; reload it")
    booking.release(old_day.slot_id, units)
    audit.record("fleet.move", "fleet_batch", batch.id, actor=user, before={"date": old_day.day.isoformat()},
                 after={"date": day.isoformat(), "vehicles": units})
    _tell(batch, texts.APPOINTMENT_MOVED, green_day, units, now)
    uow.flush()
    db.session.refresh(appointment)
    return appointment


# ---- green-channel requests ------------------------------------------------------------

def request_green_channel(user: User, batch_id: int, wanted_date: date, note: str | None, today: date,
                          now: datetime) -> GreenChannelRequest:
    """A company asks for a green channel for one batch; one open request per batch."""
    batch = get_batch(user, batch_id)
    companies.require_approved(batch.company)
    _bookable(batch)
    if wanted_date < today:
        raise RuleViolation("the date is in the past", fields={"wanted_date": ["in the past"]})
    request = GreenChannelRequest(office_id=batch.office_id, batch_id=batch.id, open_batch_id=batch.id,
                                  wanted_date=wanted_date, note=note, status=RequestStatus.REQUESTED,
                                  requested_by_id=user.id, created_at=now)
    db.session.add(request)
    db.session.flush()  # the unique open_batch_id refuses a concurrent second request (a 409, vmo.integrity)
    audit.record("green_channel.request", "fleet_batch", batch.id, actor=user,
                 after={"wanted_date": wanted_date.isoformat(), "note": note})
    uow.flush()
    return request


def list_requests(user: User, status: str | None) -> Select:
    stmt = select(GreenChannelRequest).where(GreenChannelRequest.office_id == user.office_id)
    if user.role == Role.COMPANY:
        stmt = stmt.join(FleetBatch, FleetBatch.id == GreenChannelRequest.batch_id).join(
            Company, Company.id == FleetBatch.company_id).where(Company.user_id == user.id)
    if status:
        stmt = stmt.where(GreenChannelRequest.status == status)
    return stmt.order_by(GreenChannelRequest.status != RequestStatus.REQUESTED, GreenChannelRequest.wanted_date,
                         GreenChannelRequest.id)


def _decide(officer: User, request_id: int, now: datetime, **values) -> GreenChannelRequest:
    request = db.session.scalar(select(GreenChannelRequest).where(GreenChannelRequest.id == request_id,
                                                                  GreenChannelRequest.office_id == officer.office_id))
    if request is None:
        raise NotFound(f"no green-channel request {request_id}")
    # Only the officer whose UPDATE flips the request decides it: a second grant or decline is a 409.
    flipped = db.session.execute(
        update(GreenChannelRequest)
        .where(GreenChannelRequest.id == request.id, GreenChannelRequest.status == RequestStatus.REQUESTED)
        .values(open_batch_id=None, decided_by_id=officer.id, decided_at=now, **values)
        .execution_options(synchronize_session=False)).rowcount
    if flipped != 1:
        raise Conflict(f"green-channel request {request_id} is already {request.status}")
    return request


def grant_request(officer: User, request_id: int, day: date, window: tuple[str, str], today: date,
                  now: datetime) -> GreenChannelRequest:
    """Grant a request: the day is opened or raised as needed and the whole batch booked, in one transaction."""
    if day < today:
        raise RuleViolation("the date is in the past", fields={"date": ["in the past"]})
    if window[0] >= window[1]:
        message = f"the arrival window ends ({window[1]}) before it starts ({window[0]})"
        raise RuleViolation(message, fields={"arrive_until": [message]})
    request = _decide(officer, request_id, now, status=RequestStatus.GRANTED, granted_date=day, arrive_from=window[0],
                      arrive_until=window[1])
    batch = request.batch
    companies.require_approved(batch.company)
    _bookable(batch)
    units = len(batch.vehicles)
    green_day = greenchannel.open_or_extend(batch.office_id, day, units, window)
    appointment = _hold(batch, green_day, units, officer, now)
    audit.record("green_channel.grant", "fleet_batch", batch.id, actor=officer,
                 after={"date": day.isoformat(), "arrive_from": window[0], "arrive_until": window[1]})
    db.session.execute(update(GreenChannelRequest).where(GreenChannelRequest.id == request.id)
                       .values(appointment_id=appointment.id).execution_options(synchronize_session=False))
    office = db.session.get(Office, batch.office_id)
    notify.queue(batch.office_id, batch.company.contact_phone,
                 gc_texts.REQUEST_GRANTED.render(company=batch.company.name, count=units, date=month_day(day),
                                                 arrive_from=window[0], arrive_until=window[1],
                                                 place=office.address or office.name),
                 kind="fleet_appointment", key=f"green_channel.request:{request.id}",
                 subject_type="fleet_batch", subject_id=batch.id)
    uow.flush()
    db.session.refresh(request)
    return request


def decline_request(officer: User, request_id: int, reason: str, now: datetime) -> GreenChannelRequest:
    request = _decide(officer, request_id, now, status=RequestStatus.DECLINED, reason=reason)
    batch = request.batch
    office = db.session.get(Office, batch.office_id)
    notify.queue(batch.office_id, batch.company.contact_phone,
                 gc_texts.REQUEST_DECLINED.render(company=batch.company.name, date=month_day(request.wanted_date),
                                                  reason=reason, phone=office.phone or "本所窗口"),
                 kind="fleet_appointment", key=f"green_channel.request:{request.id}",
                 subject_type="fleet_batch", subject_id=batch.id)
    audit.record("green_channel.decline", "fleet_batch", batch.id, actor=officer, after={"reason": reason})
    uow.flush()
    db.session.refresh(request)
    return request


@greenchannel.queue_source(order=1)
def queue_entries(green_day: GreenChannelDay) -> list[dict]:
    """The day's fleet batches, in booking order: served after the priority bookings."""
    return [{"kind": "fleet", "id": appointment.id, "reference": None, "name": batch.company.name,
             "reason": None, "business": f"fleet batch {batch.id}", "phone": mask_phone(batch.company.contact_phone),
             "vehicles": appointment.units, "batch_id": batch.id, "booked_at": appointment.created_at}
            for appointment, batch in db.session.execute(
                select(FleetAppointment, FleetBatch).join(FleetBatch, FleetBatch.id == FleetAppointment.batch_id)
                .where(FleetAppointment.day_id == green_day.id, FleetAppointment.status == AppointmentStatus.BOOKED)
                .order_by(FleetAppointment.created_at, FleetAppointment.id))]


def contact_phone(office_id: int, batch_id: str) -> str:
    """The company contact's phone behind a batch of this office, for POST /phones/reveal."""
    batch = db.session.scalar(select(FleetBatch).where(FleetBatch.id == int(batch_id), FleetBatch.office_id == office_id)) \
        if batch_id.isascii() and batch_id.isdigit() else None
    if batch is None:
        raise NotFound(f"no batch {batch_id}")
    return batch.company.contact_phone


def get_appointment(user: User, batch_id: int) -> FleetAppointment:
    batch = get_batch(user, batch_id)
    if batch.appointment is None:
        raise NotFound(f"batch {batch_id} has no appointment")
    return batch.appointment


def cancel_appointment(user: User, batch_id: int, now: datetime) -> FleetAppointment:
    batch = get_batch(user, batch_id)
    appointment = batch.appointment
    if appointment is None:
        raise NotFound(f"batch {batch_id} has no appointment")
    started = Conflict("inspection has started for this batch; the appointment can no longer be cancelled")
    if any(v.status != VehicleStatus.SCHEDULED for v in batch.vehicles):
        raise started
    # The vehicles go back with one guarded UPDATE: an inspection committed since the check above
    # makes it touch fewer rows, and the cancel gives way instead of leaving the batch half inspected.
    # (An inspection that comes after waits on these row locks, then finds no scheduled vehicle.)
    reverted = db.session.execute(
        update(FleetVehicle)
        .where(FleetVehicle.batch_id == batch.id, FleetVehicle.status == VehicleStatus.SCHEDULED)
        .values(status=VehicleStatus.SUBMITTED)
        .execution_options(synchronize_session=False)
    ).rowcount
    if reverted != len(batch.vehicles):
        raise started
    # Guarded like a capacity change: only the request that flips the row frees the capacity.
    flipped = db.session.execute(
        update(FleetAppointment)
        .where(FleetAppointment.id == appointment.id, FleetAppointment.status == AppointmentStatus.BOOKED)
        .values(status=AppointmentStatus.CANCELLED, active_batch_id=None, cancelled_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if flipped != 1:
        raise NotFound(f"batch {batch_id} has no appointment")
    booking.release(appointment.day.slot_id, appointment.units)
    db.session.refresh(appointment)
    # The batch status is read from the vehicles' rows, not from these (now stale) objects, which
    # uow.flush expires: reloading up to 500 vehicles here would be wasted queries.
    _refresh_batch_status(batch, now)
    audit.record("fleet.cancel", "fleet_batch", batch.id, actor=user,
                 before={"status": BatchStatus.SCHEDULED, "date": appointment.day.day.isoformat(),
                         "vehicles": appointment.units},
                 after={"status": batch.status})
    uow.flush()
    return appointment


# ---- inspection and registration ------------------------------------------------------

def inspection_checklist(office_id: int, first: date, last: date) -> list[dict]:
    """The green-channel days from `first` to `last` with every booked batch and each vehicle's papers, as
    the officers check them at inspection (the tablet's assignments). Three queries whatever the size."""
    rows = db.session.execute(
        select(FleetAppointment, GreenChannelDay, FleetBatch)
        .join(GreenChannelDay, GreenChannelDay.id == FleetAppointment.day_id)
        .join(FleetBatch, FleetBatch.id == FleetAppointment.batch_id)
        .where(FleetAppointment.office_id == office_id, FleetAppointment.status == AppointmentStatus.BOOKED,
               GreenChannelDay.day >= first, GreenChannelDay.day <= last)
        .options(selectinload(FleetBatch.vehicles))
        .order_by(GreenChannelDay.day, FleetAppointment.created_at, FleetAppointment.id)).all()
    days: dict[date, dict] = {}
    for appointment, green_day, batch in rows:
        day = days.setdefault(green_day.day, {"date": green_day.day, "arrive_from": green_day.arrive_from,
                                              "arrive_until": green_day.arrive_until, "batches": []})
        day["batches"].append({"batch_id": batch.id, "company": batch.company.name, "vehicles": batch.vehicles})
    return list(days.values())


def inspect_vehicle(officer: User, vin: str, result: str, defects: list[str], now: datetime) -> FleetInspection:
    vehicle = get_vehicle(officer, vin)
    if vehicle.status not in (VehicleStatus.SCHEDULED, VehicleStatus.FAILED_INSPECTION):
        raise Conflict(_state_message(vehicle, "inspected"))
    if result == "fail" and not defects:
        raise RuleViolation("a failed inspection names at least one defect",
                            fields={"defects": ["name at least one defect"]})
    before = vehicle.status
    status = VehicleStatus.INSPECTED if result == "pass" else VehicleStatus.FAILED_INSPECTION
    # Guarded on the status just read: a cancel (or another officer) that changed the vehicle since
    # then makes this touch no row, and the inspection is refused rather than half applied.
    changed = db.session.execute(
        update(FleetVehicle)
        .where(FleetVehicle.id == vehicle.id, FleetVehicle.status == before)
        .values(status=status, inspected_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        # The request fails anyway: roll back first so that SQLite's next read sees the other
        # request's inspection, which the message names.
        db.session.rollback()
        db.session.refresh(vehicle)
        raise Conflict(_state_message(vehicle, "inspected"))
    db.session.refresh(vehicle)
    inspection = FleetInspection(vehicle_id=vehicle.id, officer_id=officer.id, result=result,
                                 defects=defects, inspected_at=now)
    db.session.add(inspection)
    vehicle.inspections.append(inspection)
    _refresh_batch_status(vehicle.batch, now)
    audit.record("fleet.inspect", "fleet_vehicle", vehicle.vin, actor=officer,
                 before={"status": before}, after={"status": vehicle.status, "defects": defects})
    uow.flush()
    return inspection


def plate_choices(user: User, vin: str, now: datetime, config: FleetSettings) -> dict:
    vehicle = get_vehicle(user, vin)
    companies.require_approved(vehicle.batch.company)
    return plates.plate_choices(vehicle, now, config)


def reserve_plate(user: User, vin: str, plate: str, now: datetime, config: FleetSettings) -> dict:
    vehicle = get_vehicle(user, vin)
    companies.require_approved(vehicle.batch.company)
    return plates.reserve_plate(user, vehicle, plate, now, config)


def release_plate(officer: User, vin: str, now: datetime) -> dict:
    return plates.release_plate(officer, get_vehicle(officer, vin), now)


def update_papers(user: User, vin: str, data: dict) -> FleetVehicle:
    """The owner company or an officer fills in a vehicle's papers."""
    return papers.update_papers(user, get_vehicle(user, vin), data)


def _state_message(vehicle: FleetVehicle, action: str) -> str:
    if vehicle.status == VehicleStatus.SUBMITTED:
        return f"vehicle {vehicle.vin} has no green-channel appointment yet"
    if vehicle.status == VehicleStatus.REGISTERED:
        return f"vehicle {vehicle.vin} is already registered as {vehicle.plate}"
    if vehicle.status == VehicleStatus.FAILED_INSPECTION:
        return f"vehicle {vehicle.vin} failed its last inspection; it must pass before it is {action}"
    if vehicle.status == VehicleStatus.SCHEDULED:
        return f"vehicle {vehicle.vin} has not passed an inspection yet"
    return f"vehicle {vehicle.vin} is {vehicle.status}; it cannot be {action} now"


def register_vehicle(officer: User, vin: str, now: datetime, topup: int, kept_back=()) -> FleetVehicle:
    """Issue a plate from the pool: only after a passed inspection, never the same plate twice."""
    vehicle = get_vehicle(officer, vin)
    if vehicle.status != VehicleStatus.INSPECTED:
        raise Conflict(_state_message(vehicle, "registered"))
    papers.require_papers(vehicle)
    office = db.session.get(Office, vehicle.office_id)
    # Claim the vehicle before the plate: a concurrent second registration of the same VIN stops
    # here (409) instead of taking a second plate for it (a unique violation, a 500, before).
    changed = db.session.execute(
        update(FleetVehicle)
        .where(FleetVehicle.id == vehicle.id, FleetVehicle.status == VehicleStatus.INSPECTED)
        .values(status=VehicleStatus.REGISTERED, registered_at=now, registered_by_id=officer.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise Conflict(f"vehicle {vin} was registered by someone else just now")
    plate = plates.issue_plate(office, vehicle, now, topup, kept_back)
    db.session.execute(update(FleetVehicle).where(FleetVehicle.id == vehicle.id).values(plate=plate)
                       .execution_options(synchronize_session=False))
    db.session.refresh(vehicle)
    _refresh_batch_status(vehicle.batch, now)
    company = vehicle.batch.company
    audit.record("fleet.register", "fleet_vehicle", vehicle.vin, actor=officer,
                 before={"status": VehicleStatus.INSPECTED},
                 after={"status": VehicleStatus.REGISTERED, "plate": plate})
    batch = vehicle.batch
    if batch.status == BatchStatus.COMPLETED:
        # One follow-up per batch, to the company's contact, when its last vehicle is registered: a
        # company registering 15 cars gets one question, not 15.
        notify.queue(vehicle.office_id, company.contact_phone,
                     texts.BATCH_FOLLOW_UP.render(count=len(batch.vehicles), badge=officer.badge_number or officer.id),
                     kind="follow_up", key=f"follow_up:fleet_batch:{batch.id}", subject_type="fleet_batch",
                     subject_id=batch.id, officer_id=officer.id)
    uow.flush()
    return vehicle
