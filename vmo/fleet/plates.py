"""Plates: the office's pool, 50 random choices per vehicle (50选1), self-composed numbers (自编自选) and issue.

A pool row is free, held (among one vehicle's choices until `held_until`), reserved (the owner chose
it) or issued (`vehicle_id`). Every change of state is one conditional UPDATE whose WHERE clause
says "still free", so two vehicles racing for a plate cannot both get it. Randomness comes from
the operating system's CSPRNG (`secrets`): neither the choices nor the plate issued without a
choice can be predicted from the pool's order.

The plate rules themselves (kinds, GA 36-2018 formats) are vmo.plates.rules'; this module provides
the office's plate registers for fleet vehicles and the pool (vmo.plates.registers).
"""
import secrets
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from vmo import validators
from vmo.accounts.models import User
from vmo.audit import services as audit
from vmo.errors import Conflict, NotFound, RuleViolation
from vmo.extensions import db
from vmo.dbutil import insert_ignoring_conflicts
from vmo.fleet.models import FleetVehicle, PlatePool, VehicleStatus
from vmo.fleet.settings import FleetSettings
from vmo.offices.models import Office
from vmo.plates import registers
from vmo.plates.rules import PlateKind, composed_plate_problems, kind_for, normalise, reserved_numbers
from vmo.plates.rules import energy_letter as _energy_letter
from vmo.types import values

_csprng = secrets.SystemRandom()


def plate_kind(vehicle: FleetVehicle) -> PlateKind:
    return kind_for(vehicle.fuel_type, vehicle.vehicle_type)


def energy_letter(vehicle: FleetVehicle) -> str:
    return _energy_letter(vehicle.fuel_type)


# ---- the office's registers ------------------------------------------------------------

FLEET_VEHICLES = "fleet_vehicles"
PLATE_POOL = "plate_pool"


def _on_fleet_vehicles(office_id: int, plates) -> set[str]:
    """Plates issued to a fleet vehicle (in any office: the column is unique across the deployment)."""
    return set(db.session.scalars(select(FleetVehicle.plate).where(FleetVehicle.plate.in_(plates))))


def _in_plate_pool(office_id: int, plates) -> set[str]:
    """Pool plates issued or reserved (free and merely offered ones are not held)."""
    return set(db.session.scalars(select(PlatePool.plate).where(
        PlatePool.plate.in_(plates), or_(PlatePool.vehicle_id.is_not(None), PlatePool.reserved_for_id.is_not(None)))))


registers.provide(FLEET_VEHICLES, _on_fleet_vehicles)
registers.provide(PLATE_POOL, _in_plate_pool)


def _free(now: datetime):
    """Not issued, not reserved, and not held for anyone (a hold past its time counts as free)."""
    return and_(PlatePool.vehicle_id.is_(None), PlatePool.reserved_for_id.is_(None),
                or_(PlatePool.held_for_id.is_(None), PlatePool.held_until <= now))


def _fits(office: Office, vehicle: FleetVehicle, kept_back=()) -> list:
    """Pool rows of the vehicle's kind (and, for new-energy plates, its D/F letter), not kept back."""
    kind = plate_kind(vehicle)
    wanted = [PlatePool.office_id == office.id, PlatePool.kind == kind]
    letter = energy_letter(vehicle)
    if kind == PlateKind.NEW_ENERGY:
        wanted.append(PlatePool.plate.startswith(office.plate_prefix + letter, autoescape=True))
    elif kind == PlateKind.NEW_ENERGY_LARGE:
        wanted.append(PlatePool.plate.endswith(letter, autoescape=True))
    kept = reserved_numbers(office.plate_prefix, kept_back)
    if kept:
        wanted.append(PlatePool.plate.not_in(sorted(kept)))
    return wanted


def _elsewhere() -> list[str]:
    """Every register but the pool's (whose own row decides for a pool plate)."""
    return [name for name in registers.names() if name != PLATE_POOL]


def _held_elsewhere(office_id: int, plates) -> set[str]:
    """Of `plates`, those another register holds (a motorcycle's, a fleet vehicle's)."""
    return set(registers.holding(office_id, plates, among=_elsewhere()))


def _not_registered(vehicle: FleetVehicle) -> None:
    if vehicle.status == VehicleStatus.REGISTERED:
        raise Conflict(f"vehicle {vehicle.vin} is already registered as {vehicle.plate}", reason="registered")


def _scheduled(vehicle: FleetVehicle) -> None:
    """Plates are given out for a vehicle that is coming: its batch has a green-channel appointment."""
    _not_registered(vehicle)
    if vehicle.batch.appointment is None:
        raise Conflict(f"vehicle {vehicle.vin} has no green-channel appointment; plates are chosen once "
                       f"its batch is booked", reason="not_scheduled")


def _reserved_row(vehicle: FleetVehicle) -> PlatePool | None:
    return db.session.scalar(select(PlatePool).where(PlatePool.reserved_for_id == vehicle.id))


def _final(vehicle: FleetVehicle, row: PlatePool) -> Conflict:
    return Conflict(f"vehicle {vehicle.vin} has reserved {row.plate}; a reserved plate is final "
                    f"(an officer may release it)", reason="plate_final")


# ---- 50 choices ------------------------------------------------------------------------

def plate_choices(vehicle: FleetVehicle, now: datetime, config: FleetSettings) -> dict:
    """The vehicle's held choices while they last; otherwise a fresh random draw held until `expires_at`.

    A vehicle gets `plate_choice_draws` draws in all (409 draws_exhausted after them), so a company
    can never hold more than `plate_choice_count` plates per vehicle at once, nor see more than
    draws x count over time. None once a plate is reserved (it is final) or the vehicle registered.
    """
    _scheduled(vehicle)
    row = _reserved_row(vehicle)
    if row is not None:
        raise _final(vehicle, row)
    office = db.session.get(Office, vehicle.office_id)
    held = _held_choices(office, vehicle, now, config)
    if held:
        return held
    # Lock the vehicle's row, then look again: two requests for a fresh draw at once make one draw.
    draws = db.session.scalar(select(FleetVehicle.plate_draws).where(FleetVehicle.id == vehicle.id)
                              .with_for_update())
    held = _held_choices(office, vehicle, now, config)
    if held:
        return held
    counted = db.session.execute(
        update(FleetVehicle).where(FleetVehicle.id == vehicle.id, FleetVehicle.plate_draws < config.plate_choice_draws)
        .values(plate_draws=FleetVehicle.plate_draws + 1).execution_options(synchronize_session=False)).rowcount
    if counted != 1:
        raise Conflict(f"vehicle {vehicle.vin} has had its {config.plate_choice_draws} draws of plate choices; "
                       f"reserve a self-composed number, or the plate is drawn at registration",
                       reason="draws_exhausted")
    expires_at = now + timedelta(minutes=config.plate_choice_minutes)
    # The old draw has expired: its plates go back to the pool before the new draw.
    _drop_holds(vehicle)
    wanted = [*_fits(office, vehicle, config.plate_reserved), _free(now)]
    rows = dict(db.session.execute(select(PlatePool.id, PlatePool.plate).where(*wanted)).all())
    if len(rows) < config.plate_choice_count:
        add_plates(office, plate_kind(vehicle), max(config.plate_pool_topup, config.plate_choice_count),
                   letter=energy_letter(vehicle), kept_back=config.plate_reserved)
        rows = dict(db.session.execute(select(PlatePool.id, PlatePool.plate).where(*wanted)).all())
    candidates = list(rows)
    _csprng.shuffle(candidates)
    won = 0
    while candidates and won < config.plate_choice_count:
        batch, candidates = candidates[:config.plate_choice_count - won], candidates[config.plate_choice_count - won:]
        # A pool plate some other register holds (a motorcycle's) is never offered.
        elsewhere = _held_elsewhere(office.id, [rows[i] for i in batch])
        batch = [i for i in batch if rows[i] not in elsewhere]
        # Another vehicle drawing at the same moment may hold some of these first: only still-free rows change.
        won += db.session.execute(
            update(PlatePool).where(PlatePool.id.in_(batch), _free(now))
            .values(held_for_id=vehicle.id, held_until=expires_at)
            .execution_options(synchronize_session=False)).rowcount
    db.session.flush()
    choices = sorted(db.session.scalars(select(PlatePool.plate).where(PlatePool.held_for_id == vehicle.id,
                                                                     PlatePool.held_until == expires_at)))
    return {"vin": vehicle.vin, "kind": plate_kind(vehicle), "choices": choices, "expires_at": expires_at,
            "draws_left": config.plate_choice_draws - draws - 1}


def _held_choices(office: Office, vehicle: FleetVehicle, now: datetime, config: FleetSettings) -> dict | None:
    held = db.session.execute(
        select(PlatePool.plate, PlatePool.held_until)
        .where(PlatePool.held_for_id == vehicle.id, PlatePool.held_until > now, *_fits(office, vehicle))
        .order_by(PlatePool.plate)).all()
    if not held:
        return None
    draws = db.session.scalar(select(FleetVehicle.plate_draws).where(FleetVehicle.id == vehicle.id))
    return {"vin": vehicle.vin, "kind": plate_kind(vehicle), "choices": [p for p, _ in held],
            "expires_at": held[0].held_until, "draws_left": max(0, config.plate_choice_draws - draws)}


def _drop_holds(vehicle: FleetVehicle) -> None:
    db.session.execute(update(PlatePool).where(PlatePool.held_for_id == vehicle.id)
                       .values(held_for_id=None, held_until=None).execution_options(synchronize_session=False))


# ---- reserving one ---------------------------------------------------------------------

def reserve_plate(user: User, vehicle: FleetVehicle, wanted: str, now: datetime, config: FleetSettings) -> dict:
    """Reserve one of the vehicle's choices, or a free self-composed number within the rules.

    A reservation is final: the same plate again answers the reservation (a retry), another is 409
    plate_final until an officer releases it. The vehicle's other held choices go back to the pool.
    A number the office keeps back is 422 reserved; one any register holds is 409 taken.
    """
    _scheduled(vehicle)
    office = db.session.get(Office, vehicle.office_id)
    plate = normalise(wanted)
    mine = _reserved_row(vehicle)
    if mine is not None:
        if mine.plate == plate:
            return _reservation(vehicle, mine)
        raise _final(vehicle, mine)
    row = db.session.scalar(select(PlatePool).where(PlatePool.plate == plate))
    offered = (row is not None and row.held_for_id == vehicle.id and row.held_until is not None
               and row.held_until > now)
    if not offered:
        problems = composed_plate_problems(plate, office.plate_prefix, plate_kind(vehicle), energy_letter(vehicle))
        if problems:
            raise RuleViolation(f"{plate} does not follow the plate rules", fields={"plate": problems})
    if plate in reserved_numbers(office.plate_prefix, config.plate_reserved):
        raise RuleViolation(f"{plate} is one of the numbers the office keeps back; choose another",
                            reason="reserved")
    taken = Conflict(f"{plate} is taken; choose another", reason="taken")
    if registers.held_by(office.id, plate, among=_elsewhere()):
        raise taken
    try:
        if row is None:
            # Not in the pool: the number joins it, reserved. Two owners composing it at once meet
            # the unique plate column; one of them gets the 409.
            row = PlatePool(office_id=office.id, plate=plate, kind=plate_kind(vehicle), origin="composed",
                            reserved_for_id=vehicle.id, reserved_at=now)
            with db.session.begin_nested():
                db.session.add(row)
        else:
            won = db.session.execute(
                update(PlatePool)
                .where(PlatePool.id == row.id, PlatePool.office_id == office.id, PlatePool.vehicle_id.is_(None),
                       PlatePool.reserved_for_id.is_(None),
                       or_(PlatePool.held_for_id.is_(None), PlatePool.held_for_id == vehicle.id,
                           PlatePool.held_until <= now))
                .values(reserved_for_id=vehicle.id, reserved_at=now, held_for_id=None, held_until=None)
                .execution_options(synchronize_session=False)).rowcount
            if won != 1:
                raise taken
        _drop_holds(vehicle)
        audit.record("fleet.plate_reserve", "fleet_vehicle", vehicle.vin, actor=user,
                     after={"plate": plate, "offered": offered})
        db.session.flush()
    except (Conflict, IntegrityError):
        raise taken from None
    db.session.refresh(row)
    return _reservation(vehicle, row)


def release_plate(officer: User, vehicle: FleetVehicle, now: datetime) -> dict:
    """An officer takes back a vehicle's reserved plate (a mistake at the counter); it is free again."""
    _not_registered(vehicle)
    row = _reserved_row(vehicle)
    if row is None:
        raise NotFound(f"vehicle {vehicle.vin} has no reserved plate")
    released = _reservation(vehicle, row)
    freed = db.session.execute(
        update(PlatePool).where(PlatePool.id == row.id, PlatePool.reserved_for_id == vehicle.id,
                                PlatePool.vehicle_id.is_(None))
        .values(reserved_for_id=None, reserved_at=None).execution_options(synchronize_session=False)).rowcount
    if freed != 1:
        raise Conflict(f"the plate of vehicle {vehicle.vin} changed meanwhile; reload it")
    audit.record("fleet.plate_release", "fleet_vehicle", vehicle.vin, actor=officer,
                 before={"plate": row.plate, "origin": row.origin}, after={"plate": None})
    db.session.flush()
    return {**released, "released_at": now}


def _reservation(vehicle: FleetVehicle, row: PlatePool) -> dict:
    return {"vin": vehicle.vin, "plate": row.plate, "kind": row.kind, "origin": row.origin,
            "reserved_at": row.reserved_at}


# ---- issue at registration -------------------------------------------------------------

def issue_plate(office: Office, vehicle: FleetVehicle, now: datetime, topup: int = 200, kept_back=()) -> str:
    """The vehicle's reserved plate, or a uniformly random free one of its kind; never one issued before,
    one another register holds, or one the office keeps back."""
    reserved = db.session.scalar(select(PlatePool.id).where(PlatePool.reserved_for_id == vehicle.id))
    if reserved is not None and _assign(reserved, vehicle, now, PlatePool.reserved_for_id == vehicle.id):
        return db.session.scalar(select(PlatePool.plate).where(PlatePool.id == reserved))
    wanted = [*_fits(office, vehicle, kept_back), _free(now)]
    for _ in range(10):
        free = db.session.scalar(select(func.count()).select_from(PlatePool).where(*wanted))
        if not free:
            add_plates(office, plate_kind(vehicle), topup, letter=energy_letter(vehicle), kept_back=kept_back)
            continue
        # Uniform over the free plates, whatever order they were added in.
        plate_id, plate = db.session.execute(select(PlatePool.id, PlatePool.plate).where(*wanted)
                                             .order_by(PlatePool.id).offset(secrets.randbelow(free)).limit(1)).one()
        if _held_elsewhere(office.id, [plate]):
            continue
        if _assign(plate_id, vehicle, now, _free(now)):
            return plate
    raise Conflict("no plate could be reserved; retry")


def _assign(plate_id: int, vehicle: FleetVehicle, now: datetime, still) -> bool:
    # Another officer may take the same plate at the same moment: only one UPDATE wins.
    return db.session.execute(
        update(PlatePool).where(PlatePool.id == plate_id, PlatePool.vehicle_id.is_(None), still)
        .values(vehicle_id=vehicle.id, assigned_at=now, reserved_for_id=None, held_for_id=None, held_until=None)
        .execution_options(synchronize_session=False)).rowcount == 1


# ---- the pool --------------------------------------------------------------------------

def add_plates(office: Office, kind: str, count: int, rng=None, letter: str | None = None, kept_back=()) -> int:
    """Put `count` fresh random plates of `kind` into the office's pool (existing ones are skipped, and
    so are plates any register holds and the numbers the office keeps back).

    `letter` (D or F) limits new-energy plates to one energy letter; by default both are drawn.
    """
    if kind not in values(PlateKind):
        raise RuleViolation(f"plate kind is one of {', '.join(PlateKind)}")
    rng = rng or _csprng
    plates = set()
    for _ in range(count):
        plate = validators.random_plate(office.plate_prefix, kind != PlateKind.ORDINARY, rng,
                                           large=kind == PlateKind.NEW_ENERGY_LARGE)
        if letter and kind == PlateKind.NEW_ENERGY:
            plate = plate[:2] + letter + plate[3:]
        elif letter and kind == PlateKind.NEW_ENERGY_LARGE:
            plate = plate[:-1] + letter
        plates.add(plate)
    # Also skip plates already held through another route (imported registrations, the motorcycle register).
    issued = _held_elsewhere(office.id, plates)
    fresh = list(plates - issued - reserved_numbers(office.plate_prefix, kept_back))
    rng.shuffle(fresh)  # rows in random order too: nothing about a plate follows from its id
    rows = [{"office_id": office.id, "plate": p, "kind": kind} for p in fresh]
    return insert_ignoring_conflicts(PlatePool, rows, index_elements=["plate"])


def plate_pool_counts(office_id: int) -> dict:
    rows = db.session.execute(
        select(PlatePool.kind, PlatePool.vehicle_id.is_(None), PlatePool.reserved_for_id.is_(None))
        .where(PlatePool.office_id == office_id)).all()
    counts = {kind: {"free": 0, "reserved": 0, "issued": 0} for kind in PlateKind}
    for kind, not_issued, not_reserved in rows:
        counts[kind]["issued" if not not_issued else "free" if not_reserved else "reserved"] += 1
    return counts


def annotate(vehicles: list[FleetVehicle], now: datetime) -> None:
    """Set each vehicle's `plate_choice` (for the batch answer) with two queries for the whole batch."""
    ids = [v.id for v in vehicles]
    reserved = dict(db.session.execute(select(PlatePool.reserved_for_id, PlatePool.plate)
                                       .where(PlatePool.reserved_for_id.in_(ids))).all())
    held = dict(db.session.execute(select(PlatePool.held_for_id, func.max(PlatePool.held_until))
                                   .where(PlatePool.held_for_id.in_(ids), PlatePool.held_until > now)
                                   .group_by(PlatePool.held_for_id)).all())
    for vehicle in vehicles:
        if vehicle.plate:
            state = {"state": "issued", "plate": vehicle.plate, "expires_at": None}
        elif vehicle.id in reserved:
            state = {"state": "reserved", "plate": reserved[vehicle.id], "expires_at": None}
        elif vehicle.id in held:
            state = {"state": "choosing", "plate": None, "expires_at": held[vehicle.id]}
        else:
            state = {"state": "none", "plate": None, "expires_at": None}
        vehicle.plate_choice = state
