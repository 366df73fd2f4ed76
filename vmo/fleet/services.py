"""Fleet rules: atomic batches, green-channel capacity, inspections and plate issue."""
import random
from datetime import date, datetime

from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from vmo import validators
from vmo.accounts.models import Company, User
from vmo.audit import services as audit
from vmo.booking import services as booking
from vmo.errors import Conflict, NotFound, RuleViolation
from vmo.extensions import db
from vmo.dbutil import insert_ignoring_conflicts
from vmo.fleet.models import (
    LARGE_VEHICLE_TYPES, PLATE_KINDS, FleetAppointment, FleetBatch, FleetInspection, FleetVehicle, PlatePool,
)
from vmo.greenchannel import services as greenchannel
from vmo.greenchannel.models import GreenChannelDay
from vmo.notify import services as notify
from vmo.offices.models import Office

_rng = random.SystemRandom()


# ---- batches --------------------------------------------------------------------------

def submit_batch(company: Company, vehicles: list[dict], note: str | None, actor: User,
                 max_vehicles: int = 500) -> FleetBatch:
    """Create a batch with all its vehicles, or nothing: every bad vehicle is named by index."""
    if not 1 <= len(vehicles) <= max_vehicles:
        message = f"a batch has 1 to {max_vehicles} vehicles"
        raise RuleViolation(message, errors={"json": {"vehicles": [message]}})
    errors, first_seen = vin_problems([v["vin"] for v in vehicles])
    if errors:
        raise _batch_errors(errors)

    batch = FleetBatch(office_id=company.office_id, company_id=company.id, status="submitted", note=note)
    db.session.add(batch)
    db.session.flush()
    db.session.add_all(
        FleetVehicle(office_id=company.office_id, batch_id=batch.id, position=i, status="submitted", **v)
        for i, v in enumerate(vehicles)
    )
    audit.record("fleet.submit", "fleet_batch", batch.id, actor=actor,
                 after={"vehicles": [v["vin"] for v in vehicles], "note": note})
    try:
        db.session.commit()
    except IntegrityError:
        # Another batch took one of these VINs between our check and our commit.
        db.session.rollback()
        known = set(db.session.scalars(select(FleetVehicle.vin).where(FleetVehicle.vin.in_(list(first_seen)))))
        raise _batch_errors({first_seen[v]: {"vin": ["already known to the office"]} for v in known}) from None
    return batch


def vin_problems(vins: list[str | None]) -> tuple[dict[int, dict], dict[str, int]]:
    """Per index: a VIN given twice in the batch, or already known; None (a malformed VIN) is skipped.

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
    known = set(db.session.scalars(select(FleetVehicle.vin).where(FleetVehicle.vin.in_(list(first_seen)))))
    for vin in known:
        errors.setdefault(first_seen[vin], {})["vin"] = ["already known to the office"]
    return errors, first_seen


def _batch_errors(errors: dict[int, dict]) -> RuleViolation:
    count = len(errors)
    return RuleViolation(f"{count} vehicle{'s' if count != 1 else ''} rejected; nothing was submitted",
                         errors={"json": {"vehicles": dict(sorted(errors.items()))}})


def _batches_visible_to(user: User) -> Select:
    stmt = select(FleetBatch).where(FleetBatch.office_id == user.office_id)
    if user.role == "company":
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


def get_vehicle(user: User, vin: str) -> FleetVehicle:
    stmt = select(FleetVehicle).join(FleetBatch).where(FleetVehicle.vin == vin.strip().upper(),
                                                      FleetVehicle.office_id == user.office_id)
    if user.role == "company":
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
    if statuses == {"registered"}:
        status = "completed"
    elif statuses & {"inspected", "failed_inspection", "registered"}:
        status = "in_progress"
    elif batch.appointment is not None:
        status = "scheduled"
    else:
        status = "submitted"
    if status != batch.status:
        batch.status = status
        batch.completed_at = now if status == "completed" else None


# ---- appointments ---------------------------------------------------------------------

def book_appointment(user: User, batch_id: int, day: date, today: date, now: datetime) -> FleetAppointment:
    """Hold the whole batch's vehicles on one day, or nothing (409)."""
    batch = get_batch(user, batch_id)
    if batch.appointment is not None:
        raise Conflict(f"batch {batch.id} already has an appointment on {batch.appointment.day.day.isoformat()}")
    if batch.status != "submitted":
        raise Conflict(f"batch {batch.id} is {batch.status}; only a submitted batch can be booked")
    if day < today:
        raise RuleViolation("the date is in the past", errors={"json": {"date": ["in the past"]}})
    green_day = greenchannel.find_day(batch.office_id, day)
    if green_day is None:
        raise RuleViolation(f"the green channel is not open on {day.isoformat()}",
                            errors={"json": {"date": ["no green-channel day open on this date"]}})
    units = len(batch.vehicles)
    booking.take(green_day.slot_id, units,
                 message=f"{day.isoformat()} has fewer than {units} places left for this batch")
    appointment = FleetAppointment(office_id=batch.office_id, batch_id=batch.id, active_batch_id=batch.id,
                                   day_id=green_day.id, units=units, status="booked", created_at=now)
    db.session.add(appointment)
    for vehicle in batch.vehicles:
        vehicle.status = "scheduled"
    batch.appointments.append(appointment)
    try:
        # Flush here: the unique active_batch_id refuses a concurrent second booking of this batch.
        db.session.flush()
        _refresh_batch_status(batch, now)
        audit.record("fleet.book", "fleet_batch", batch.id, actor=user, before={"status": "submitted"},
                     after={"status": batch.status, "date": day.isoformat(), "vehicles": units})
        db.session.commit()
    except IntegrityError:
        # A concurrent request booked this batch first; our capacity hold rolls back with us.
        db.session.rollback()
        raise Conflict(f"batch {batch_id} already has an appointment") from None
    return appointment


@greenchannel.queue_source(order=1)
def queue_entries(green_day: GreenChannelDay) -> list[dict]:
    """The day's fleet batches, in booking order: served after the priority bookings."""
    return [{"kind": "fleet", "id": appointment.id, "reference": None, "name": batch.company.name,
             "reason": None, "business": f"fleet batch {batch.id}", "phone": batch.company.contact_phone,
             "vehicles": appointment.units, "batch_id": batch.id, "booked_at": appointment.created_at}
            for appointment, batch in db.session.execute(
                select(FleetAppointment, FleetBatch).join(FleetBatch, FleetBatch.id == FleetAppointment.batch_id)
                .where(FleetAppointment.day_id == green_day.id, FleetAppointment.status == "booked")
                .order_by(FleetAppointment.created_at, FleetAppointment.id))]


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
    if any(v.status != "scheduled" for v in batch.vehicles):
        raise started
    # The vehicles go back with one guarded UPDATE: an inspection committed since the check above
    # makes it touch fewer rows, and the cancel gives way instead of leaving the batch half inspected.
    # (An inspection that comes after waits on these row locks, then finds no scheduled vehicle.)
    reverted = db.session.execute(
        update(FleetVehicle)
        .where(FleetVehicle.batch_id == batch.id, FleetVehicle.status == "scheduled")
        .values(status="submitted")
        .execution_options(synchronize_session=False)
    ).rowcount
    if reverted != len(batch.vehicles):
        db.session.rollback()
        raise started
    # Guarded like a capacity change: only the request that flips the row frees the capacity.
    flipped = db.session.execute(
        update(FleetAppointment)
        .where(FleetAppointment.id == appointment.id, FleetAppointment.status == "booked")
        .values(status="cancelled", active_batch_id=None, cancelled_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if flipped != 1:
        db.session.rollback()
        raise NotFound(f"batch {batch_id} has no appointment")
    booking.release(appointment.day.slot_id, appointment.units)
    db.session.refresh(appointment)
    # The batch status is read from the vehicles' rows, not from these (now stale) objects, which
    # the commit expires: reloading up to 500 vehicles here would be wasted queries.
    _refresh_batch_status(batch, now)
    audit.record("fleet.cancel", "fleet_batch", batch.id, actor=user,
                 before={"status": "scheduled", "date": appointment.day.day.isoformat(),
                         "vehicles": appointment.units},
                 after={"status": batch.status})
    db.session.commit()
    return appointment


# ---- inspection and registration ------------------------------------------------------

def inspect_vehicle(officer: User, vin: str, result: str, defects: list[str], now: datetime) -> FleetInspection:
    vehicle = get_vehicle(officer, vin)
    if vehicle.status not in ("scheduled", "failed_inspection"):
        raise Conflict(_state_message(vehicle, "inspected"))
    if result == "fail" and not defects:
        raise RuleViolation("a failed inspection names at least one defect",
                            errors={"json": {"defects": ["name at least one defect"]}})
    before = vehicle.status
    status = "inspected" if result == "pass" else "failed_inspection"
    # Guarded on the status just read: a cancel (or another officer) that changed the vehicle since
    # then makes this touch no row, and the inspection is refused rather than half applied.
    changed = db.session.execute(
        update(FleetVehicle)
        .where(FleetVehicle.id == vehicle.id, FleetVehicle.status == before)
        .values(status=status, inspected_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
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
    db.session.commit()
    return inspection


def _state_message(vehicle: FleetVehicle, action: str) -> str:
    if vehicle.status == "submitted":
        return f"vehicle {vehicle.vin} has no green-channel appointment yet"
    if vehicle.status == "registered":
        return f"vehicle {vehicle.vin} is already registered as {vehicle.plate}"
    if vehicle.status == "failed_inspection":
        return f"vehicle {vehicle.vin} failed its last inspection; it must pass before it is {action}"
    if vehicle.status == "scheduled":
        return f"vehicle {vehicle.vin} has not passed an inspection yet"
    return f"vehicle {vehicle.vin} is {vehicle.status}; it cannot be {action} now"


def register_vehicle(officer: User, vin: str, now: datetime, topup: int = 200) -> FleetVehicle:
    """Issue a plate from the pool: only after a passed inspection, never the same plate twice."""
    vehicle = get_vehicle(officer, vin)
    if vehicle.status != "inspected":
        raise Conflict(_state_message(vehicle, "registered"))
    office = db.session.get(Office, vehicle.office_id)
    # Claim the vehicle before the plate: a concurrent second registration of the same VIN stops
    # here (409) instead of taking a second plate for it (a unique violation, a 500, before).
    changed = db.session.execute(
        update(FleetVehicle)
        .where(FleetVehicle.id == vehicle.id, FleetVehicle.status == "inspected")
        .values(status="registered", registered_at=now, registered_by_id=officer.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        db.session.rollback()
        raise Conflict(f"vehicle {vin} was registered by someone else just now")
    plate = _take_plate(office, vehicle, now, topup)
    db.session.execute(update(FleetVehicle).where(FleetVehicle.id == vehicle.id).values(plate=plate)
                       .execution_options(synchronize_session=False))
    db.session.refresh(vehicle)
    _refresh_batch_status(vehicle.batch, now)
    company = vehicle.batch.company
    audit.record("fleet.register", "fleet_vehicle", vehicle.vin, actor=officer,
                 before={"status": "inspected"}, after={"status": "registered", "plate": plate})
    notify.queue(
        vehicle.office_id, company.contact_phone,
        f"【{office.name}】{company.name}的车辆（车架号后六位{vehicle.vin[-6:]}）已登记，号牌{plate}，"
        f"经办民警警号{officer.badge_number or officer.id}。满意请回复1，不满意请回复2。",
        kind="follow_up", key=f"follow_up:fleet_vehicle:{vehicle.id}", subject_type="fleet_vehicle",
        subject_id=vehicle.id, officer_id=officer.id,
    )
    db.session.commit()
    return vehicle


def _take_plate(office: Office, vehicle: FleetVehicle, now: datetime, topup: int) -> str:
    kind = plate_kind(vehicle)
    wanted = [PlatePool.office_id == office.id, PlatePool.kind == kind, PlatePool.vehicle_id.is_(None)]
    # GA 36: D for battery-electric vehicles, F for the other new-energy ones (hybrids, fuel cells);
    # first in the serial on small vehicles, last on large ones.
    letter = "D" if vehicle.fuel_type == "electric" else "F"
    if kind == "new_energy":
        wanted.append(PlatePool.plate.startswith(office.plate_prefix + letter, autoescape=True))
    elif kind == "new_energy_large":
        wanted.append(PlatePool.plate.endswith(letter, autoescape=True))
    for _ in range(10):
        plate_id = db.session.scalar(select(PlatePool.id).where(*wanted).order_by(PlatePool.id).limit(1))
        if plate_id is None:
            add_plates(office, kind, topup)
            continue
        # Another officer may take the same free plate at the same moment: only one UPDATE wins.
        won = db.session.execute(
            update(PlatePool).where(PlatePool.id == plate_id, PlatePool.vehicle_id.is_(None))
            .values(vehicle_id=vehicle.id, assigned_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if won == 1:
            return db.session.scalar(select(PlatePool.plate).where(PlatePool.id == plate_id))
    raise Conflict("no plate could be reserved; retry")


def plate_kind(vehicle: FleetVehicle) -> str:
    if not vehicle.new_energy:
        return "ordinary"
    return "new_energy_large" if vehicle.vehicle_type in LARGE_VEHICLE_TYPES else "new_energy"


def add_plates(office: Office, kind: str, count: int, rng: random.Random | None = None) -> int:
    """Put `count` fresh random plates of `kind` into the office's pool (existing ones are skipped)."""
    if kind not in PLATE_KINDS:
        raise RuleViolation(f"plate kind is one of {', '.join(PLATE_KINDS)}")
    rng = rng or _rng
    plates = {validators.random_plate(office.plate_prefix, kind != "ordinary", rng, large=kind == "new_energy_large")
              for _ in range(count)}
    # Also skip plates already issued through another route (e.g. imported registrations).
    issued = set(db.session.scalars(select(FleetVehicle.plate).where(FleetVehicle.plate.in_(plates))))
    rows = [{"office_id": office.id, "plate": p, "kind": kind} for p in sorted(plates - issued)]
    return insert_ignoring_conflicts(PlatePool, rows, index_elements=["plate"])


def plate_pool_counts(office_id: int) -> dict:
    rows = db.session.execute(
        select(PlatePool.kind, PlatePool.vehicle_id.is_(None)).where(PlatePool.office_id == office_id)
    ).all()
    counts = {kind: {"free": 0, "issued": 0} for kind in PLATE_KINDS}
    for kind, free in rows:
        counts[kind]["free" if free else "issued"] += 1
    return counts
