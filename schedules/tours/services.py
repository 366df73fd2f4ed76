"""Tour planning: create, edit, route, publish and cancel, with the texts each step owes owners."""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select

from schedules.tours import routing
from schedules.tours import access
from schedules.tours import notifications as texts
from schedules.tours.models import (
    RegistrationStatus, StopRegistration, StopStatus, Tour, TourOfficer, TourStatus, TourStop,
)
from vmo import uow
from vmo.accounts.models import Role, User
from vmo.audit import services as audit
from vmo.booking import services as booking
from vmo.errors import Conflict, NotFound, RuleViolation
from vmo.extensions import db
from vmo.motorcycles import services as register_of_motorcycles
from vmo.motorcycles.rules import DueRules
from vmo.notify import services as notify
from vmo.settings import setting

STOP_FIELDS = ("township", "venue", "lat", "lon", "arrives_at", "departs_at", "capacity")


@dataclass(frozen=True)
class TourSettings:
    """Tour settings (env `VMO_TOUR_*`), installed by schedules.register."""

    # Average speed on the office's rural roads, for the drive between stops (same range as a route request's).
    speed_kmh: float = setting(35.0, key="TOUR_AVERAGE_SPEED_KMH", low=5, high=130)
    # When a routed tour leaves the depot unless the request says otherwise (office time).
    depart_time: time = setting(time(8, 0), key="TOUR_DEPART_TIME")
    max_stops: int = setting(40, key="TOUR_MAX_STOPS", low=1)
    max_stop_distance_km: float = setting(150.0, key="TOUR_MAX_STOP_DISTANCE_KM", low=1)
    # Tours of up to this many stops are routed exactly; longer ones by a heuristic.
    exact_limit: int = setting(9, key="TOUR_EXACT_LIMIT", low=0, high=routing.MAX_EXACT_LIMIT)


def zone_of(tour_or_office) -> ZoneInfo:
    office = getattr(tour_or_office, "office", tour_or_office)
    return office.zone


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)


def local_hm(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%H:%M")


def place_name(township: str, venue: str) -> str:
    """Where a stop is, for texts: venues are often named after their township ("大观镇人民政府前坝子"), so say it once."""
    return venue if venue.startswith(township) else f"{township}{venue}"


# ---- checks ----------------------------------------------------------------------------

def _check_stops(stops: list[dict], day: date, zone: ZoneInfo, depot: tuple[float, float],
                 settings: TourSettings, keys: list | None = None) -> None:
    """Windows inside the tour's local day, in order, not overlapping, and stops near the depot."""
    keys = keys if keys is not None else list(range(len(stops)))
    errors: dict = {}

    def add(index, name, message):
        errors.setdefault(keys[index], {}).setdefault(name, []).append(message)

    if not stops:
        raise RuleViolation("a tour needs at least one stop", fields={"stops": ["at least one stop"]})
    if len(stops) > settings.max_stops:
        raise RuleViolation(f"a tour has at most {settings.max_stops} stops",
                            fields={"stops": [f"at most {settings.max_stops} stops"]})
    start, end = day_bounds(day, zone)
    for i, stop in enumerate(stops):
        if not start <= stop["arrives_at"] < end:
            add(i, "arrives_at", f"must be on the tour's day, {day.isoformat()} ({zone.key})")
        if not start < stop["departs_at"] <= end:
            add(i, "departs_at", f"must be on the tour's day, {day.isoformat()} ({zone.key})")
        if stop["departs_at"] <= stop["arrives_at"]:
            add(i, "departs_at", "must be after arrives_at")
        if stop["capacity"] < 1:
            add(i, "capacity", "must be at least 1 vehicle")
        km = routing.haversine_km(depot, (stop["lat"], stop["lon"]))
        if km > settings.max_stop_distance_km:
            add(i, "lat", f"{km:.0f} km from the depot (more than {settings.max_stop_distance_km:.0f} km): "
                          "are latitude and longitude swapped?")
    order = sorted(range(len(stops)), key=lambda i: stops[i]["arrives_at"])
    for before, after in zip(order, order[1:]):
        if stops[after]["arrives_at"] < stops[before]["departs_at"]:
            add(after, "arrives_at", f"overlaps the window of stop {keys[before]}")
    if errors:
        count = len(errors)
        raise RuleViolation(f"{count} stop{'s' if count != 1 else ''} rejected",
                            fields={"stops": dict(sorted(errors.items(), key=lambda kv: str(kv[0])))})


def _officers(office_id: int, usernames: list[str]) -> list[User]:
    users, errors = [], {}
    for index, name in enumerate(dict.fromkeys(usernames)):
        user = db.session.scalar(select(User).where(User.username == name, User.office_id == office_id))
        # Someone of another office is "no such officer", as if they did not exist.
        if user is None or not user.active:
            errors[index] = [f"no officer {name!r} in this office"]
        elif user.role != Role.OFFICER:
            errors[index] = [f"{name!r} is a {user.role}, not an officer"]
        else:
            users.append(user)
    if errors:
        raise RuleViolation("officers must be officers of this office", fields={"officers": errors})
    if not users:
        raise RuleViolation("a tour needs at least one officer", fields={"officers": ["at least one"]})
    return users


def _check_date(day: date, today: date) -> None:
    if day < today:
        raise RuleViolation("the tour's date is in the past", fields={"date": ["in the past"]})


def _tour_to_change(user: User, tour_id: int, today: date, doing: str) -> Tour:
    """A tour `user` may change that is neither cancelled (409: it cannot be `doing`) nor past (422)."""
    tour = get_tour(user, tour_id)
    access.check_change(user, tour)
    if tour.status == TourStatus.CANCELLED:
        raise Conflict(f"tour {tour.id} is cancelled; it cannot be {doing}")
    _check_date(tour.date, today)
    return tour


# ---- reading ---------------------------------------------------------------------------

def _visible(user: User) -> Select:
    return select(Tour).where(Tour.office_id == user.office_id)


def list_tours(user: User, status: str | None, start: date | None, end: date | None) -> Select:
    stmt = _visible(user)
    if status:
        stmt = stmt.where(Tour.status == status)
    if start:
        stmt = stmt.where(Tour.date >= start)
    if end:
        stmt = stmt.where(Tour.date <= end)
    return stmt.order_by(Tour.date.desc(), Tour.id.desc())


def get_tour(user: User, tour_id: int) -> Tour:
    """The tour if it is of the user's office; another office's tour is 'not found', as if absent."""
    tour = db.session.scalar(_visible(user).where(Tour.id == tour_id))
    if tour is None:
        raise NotFound(f"no tour {tour_id}")
    return tour


def _snapshot(tour: Tour) -> dict:
    return {"name": tour.name, "date": tour.date, "status": tour.status, "sequence": tour.sequence,
            "officers": [u.username for u in tour.officers],
            "stops": [{"id": s.id, "township": s.township, "venue": s.venue, "arrives_at": s.arrives_at,
                       "departs_at": s.departs_at, "capacity": s.slot.capacity, "status": s.status}
                      for s in tour.stops]}


# ---- create and edit -------------------------------------------------------------------

def _add_stop(tour: Tour, data: dict, position: int) -> TourStop:
    slot = booking.create_slot(tour.office_id, "tour_stop", data["capacity"])
    stop = TourStop(office_id=tour.office_id, position=position, slot_id=slot.id, status=StopStatus.SCHEDULED,
                    **{k: data[k] for k in STOP_FIELDS if k != "capacity"})
    stop.slot = slot
    tour.stops.append(stop)
    return stop


def _renumber(tour: Tour) -> None:
    # Windows never overlap, so arrival order is the driving order.
    active = sorted(tour.active_stops, key=lambda s: s.arrives_at)
    cancelled = [s for s in tour.stops if s.status != StopStatus.SCHEDULED]
    for position, stop in enumerate(active + cancelled):
        stop.position = position


def create_tour(user: User, data: dict, today: date, now: datetime, settings: TourSettings) -> Tour:
    """A draft tour with its stops (each with a capacity slot) and officers."""
    office = user.office
    zone = zone_of(office)
    _check_date(data["date"], today)
    depot = (data["depot"]["lat"], data["depot"]["lon"])
    _check_stops(data["stops"], data["date"], zone, depot, settings)
    officers = _officers(user.office_id, data["officers"])
    tour = Tour(office_id=user.office_id, name=data["name"], date=data["date"], depot_lat=depot[0],
                depot_lon=depot[1], status=TourStatus.DRAFT, sequence=0, created_by_id=user.id, created_at=now,
                changed_at=now)
    db.session.add(tour)
    for position, stop in enumerate(sorted(data["stops"], key=lambda s: s["arrives_at"])):
        _add_stop(tour, stop, position)
    tour.officer_links = [TourOfficer(user_id=o.id) for o in officers]
    db.session.flush()
    audit.record("tour.create", "tour", tour.id, actor=user, after=_snapshot(tour))
    uow.flush()
    return tour


def update_tour(user: User, tour_id: int, data: dict, today: date, now: datetime, settings: TourSettings,
                rules: DueRules) -> Tour:
    """Change a tour; after publishing, SEQUENCE rises and everyone registered is told."""
    tour = _tour_to_change(user, tour_id, today, "changed")
    before = _snapshot(tour)
    if "date" in data:
        _check_date(data["date"], today)
        tour.date = data["date"]
    if "name" in data:
        tour.name = data["name"]
    if "depot" in data:
        tour.depot_lat, tour.depot_lon = data["depot"]["lat"], data["depot"]["lon"]
    if "officers" in data:
        officers = _officers(user.office_id, data["officers"])
        tour.officer_links = [TourOfficer(user_id=o.id) for o in officers]
    by_id = {stop.id: stop for stop in tour.active_stops}
    new_stops, removed = [], []
    for index, entry in enumerate(data.get("stops", [])):
        if entry.get("id") is None:
            missing = [k for k in STOP_FIELDS if entry.get(k) is None]
            if missing or entry.get("remove"):
                raise RuleViolation("a new stop needs all its fields",
                                    fields={"stops": {index: {k: ["required for a new stop"]
                                                                       for k in missing or ["id"]}}})
            new_stops.append(entry)
            continue
        stop = by_id.get(entry["id"])
        if stop is None:
            raise RuleViolation(f"tour {tour.id} has no stop {entry['id']}",
                                fields={"stops": {index: {"id": ["no such stop in this tour"]}}})
        if entry.get("remove"):
            removed.append(stop)
            continue
        for name in STOP_FIELDS:
            if entry.get(name) is not None and name != "capacity":
                setattr(stop, name, entry[name])
        if entry.get("capacity") is not None and entry["capacity"] != stop.slot.capacity:
            if entry["capacity"] < 1:
                raise RuleViolation("capacity must be at least 1 vehicle",
                                    fields={"stops": {index: {"capacity": ["at least 1"]}}})
            booking.resize(stop.slot_id, entry["capacity"])
            booking.refresh(stop.slot)
    for stop in removed:
        if tour.status == TourStatus.DRAFT:
            tour.stops.remove(stop)
        else:
            stop.status = StopStatus.CANCELLED
    for entry in new_stops:
        _add_stop(tour, entry, len(tour.stops))
    db.session.flush()
    active = tour.active_stops
    _check_stops([_stop_dict(s) for s in active], tour.date, zone_of(tour), (tour.depot_lat, tour.depot_lon),
                 settings, keys=[s.id for s in active])
    _renumber(tour)
    if tour.status == TourStatus.PUBLISHED:
        _published_change(tour, now, rules, cancelled_stops=removed)
    audit.record("tour.update", "tour", tour.id, actor=user, before=before, after=_snapshot(tour))
    uow.flush()
    return tour


def _stop_dict(stop: TourStop) -> dict:
    return {"township": stop.township, "venue": stop.venue, "lat": stop.lat, "lon": stop.lon,
            "arrives_at": stop.arrives_at, "departs_at": stop.departs_at, "capacity": stop.slot.capacity}


def _active_registrations(tour: Tour) -> list[StopRegistration]:
    return list(db.session.scalars(
        select(StopRegistration).where(StopRegistration.tour_id == tour.id,
                                       StopRegistration.status == RegistrationStatus.REGISTERED)
        .order_by(StopRegistration.id)))


def _published_change(tour: Tour, now: datetime, rules: DueRules, cancelled_stops=()) -> None:
    """A published tour changed: new SEQUENCE, and a text to everyone registered."""
    tour.sequence += 1
    tour.changed_at = now
    zone = zone_of(tour)
    cancelled_ids = {s.id for s in cancelled_stops}
    for reg in _active_registrations(tour):
        stop = reg.stop
        if stop.id in cancelled_ids:
            reg.status = RegistrationStatus.CANCELLED
            reg.active_plate = None
            booking.release(stop.slot_id, 1)
            body = texts.STOP_CANCELLED.render(date=f"{tour.date:%m月%d日}",
                                               place=place_name(stop.township, stop.venue), plate=reg.plate)
        else:
            body = texts.CHANGED.render(date=f"{tour.date:%m月%d日}", plate=reg.plate,
                                        place=place_name(stop.township, stop.venue),
                                        start=local_hm(stop.arrives_at, zone), end=local_hm(stop.departs_at, zone))
        notify.queue(tour.office_id, reg.phone, body, kind="tour_change",
                     key=f"tour_change:{tour.id}:{tour.sequence}:{reg.id}", subject_type="tour_registration",
                     subject_id=reg.id)
    _invite_due_owners(tour, rules)


# ---- route -----------------------------------------------------------------------------

def route_tour(user: User, tour_id: int, data: dict, today: date, now: datetime, settings: TourSettings,
               rules: DueRules) -> Tour:
    """Order the stops for the shortest round trip, then recompute every window from the drive."""
    tour = _tour_to_change(user, tour_id, today, "routed")
    stops = sorted(tour.active_stops, key=lambda s: s.position)
    zone = zone_of(tour)
    speed = data.get("speed_kmh") or settings.speed_kmh
    try:
        route = routing.plan_route((tour.depot_lat, tour.depot_lon), [(s.lat, s.lon) for s in stops],
                                   matrix=data.get("matrix"), exact_limit=settings.exact_limit)
    except ValueError as exc:
        raise RuleViolation(f"cannot route this tour: {exc}", fields={"matrix": [str(exc)]}) from None
    service = [data["service_minutes"] if data.get("service_minutes") is not None
               else int((s.departs_at - s.arrives_at).total_seconds() // 60) for s in stops]
    start, end = day_bounds(tour.date, zone)
    depart = data.get("depart_at") or datetime.combine(tour.date, settings.depart_time, tzinfo=zone)
    if not start <= depart < end:
        raise RuleViolation("depart_at must be on the tour's day",
                            fields={"depart_at": [f"must be on {tour.date.isoformat()}"]})
    plan = routing.timetable(depart, route.legs_km, [service[i] for i in route.order], speed)
    if plan.return_at > end:
        raise RuleViolation(
            f"at {speed:g} km/h this route is back at the depot only at "
            f"{plan.return_at.astimezone(zone):%Y-%m-%d %H:%M}; leave earlier or drop a stop",
            fields={"speed_kmh": ["the route does not fit in the tour's day"]})
    changed = False
    for rank, index in enumerate(route.order):
        stop = stops[index]
        arrives, departs = plan.stops[rank]
        changed |= (stop.arrives_at, stop.departs_at) != (arrives, departs)
        stop.position, stop.arrives_at, stop.departs_at = rank, arrives, departs
    tour.distance_km = round(route.distance_km, 3)
    tour.route_method, tour.route_exact, tour.returns_at = route.method, route.exact, plan.return_at
    if tour.status == TourStatus.PUBLISHED and changed:
        _published_change(tour, now, rules)
    audit.record("tour.route", "tour", tour.id, actor=user,
                 after={"order": [s.id for s in sorted(stops, key=lambda s: s.position)],
                        "distance_km": tour.distance_km, "speed_kmh": speed, "method": route.method})
    uow.flush()
    return tour


# ---- publish and cancel ----------------------------------------------------------------

def _invite_due_owners(tour: Tour, rules: DueRules) -> int:
    """One text per phone per tour to owners of due motorcycles in the tour's townships (not those due
    for scrapping: register_of_motorcycles.due_in_townships leaves them out)."""
    stops_by_township: dict[str, list[TourStop]] = {}
    for stop in sorted(tour.active_stops, key=lambda s: s.position):
        stops_by_township.setdefault(stop.township, []).append(stop)
    if not stops_by_township:
        return 0
    zone = zone_of(tour)
    prefix = f"tour_invite:{tour.id}:"
    from vmo.notify.models import OutboxMessage  # the keys already queued, in one query
    sent = set(db.session.scalars(select(OutboxMessage.key).where(OutboxMessage.key.like(prefix + "%"))))
    queued = 0
    for moto in register_of_motorcycles.due_in_townships(tour.office_id, stops_by_township, tour.date, rules):
        key = prefix + moto.phone
        if key in sent:
            continue
        sent.add(key)
        where = "；".join(f"{s.venue} {local_hm(s.arrives_at, zone)}-{local_hm(s.departs_at, zone)}"
                         for s in stops_by_township[moto.township])
        notify.queue(tour.office_id, moto.phone,
                     texts.INVITE.render(date=f"{tour.date:%m月%d日}", township=moto.township, where=where,
                                         plate=moto.plate),
                     kind="tour_invite", key=key, subject_type="tour", subject_id=tour.id)
        queued += 1
    return queued


def publish_tour(user: User, tour_id: int, today: date, now: datetime, rules: DueRules) -> Tour:
    """Show the stops in the township feeds and text owners of due motorcycles (once per phone)."""
    tour = _tour_to_change(user, tour_id, today, "published")
    if not tour.active_stops:
        raise RuleViolation("a tour without stops cannot be published")
    first = tour.status == TourStatus.DRAFT
    if first:
        tour.status, tour.published_at, tour.changed_at = TourStatus.PUBLISHED, now, now
    invited = _invite_due_owners(tour, rules)
    # Owners of motorcycles due for compulsory scrapping get no invitation, but once the deregistration text.
    told_to_deregister = register_of_motorcycles.tell_scrap_due(
        tour.office_id, {s.township for s in tour.active_stops}, tour.date, rules, tour.office.phone)
    audit.record("tour.publish", "tour", tour.id, actor=user,
                 before={"status": TourStatus.DRAFT if first else TourStatus.PUBLISHED},
                 after={"status": TourStatus.PUBLISHED, "invited": invited, "scrap_due_told": told_to_deregister})
    uow.flush()
    return tour


def cancel_tour(user: User, tour_id: int, reason: str | None, now: datetime) -> Tour:
    """Cancel: feeds show STATUS:CANCELLED with a higher SEQUENCE; everyone registered is told."""
    tour = get_tour(user, tour_id)
    access.check_change(user, tour)
    if tour.status == TourStatus.CANCELLED:
        raise Conflict(f"tour {tour.id} is already cancelled")
    before = tour.status
    if tour.status == TourStatus.PUBLISHED:
        tour.sequence += 1
        tour.changed_at = now
    tour.status, tour.cancelled_at = TourStatus.CANCELLED, now
    for reg in _active_registrations(tour):
        stop = reg.stop
        reg.status = RegistrationStatus.CANCELLED
        reg.active_plate = None
        booking.release(stop.slot_id, 1)
        notify.queue(tour.office_id, reg.phone,
                     texts.TOUR_CANCELLED.render(date=f"{tour.date:%m月%d日}", place=place_name(stop.township, stop.venue),
                                                 reason=f"（{reason}）" if reason else "", plate=reg.plate),
                     kind="tour_cancel", key=f"tour_cancel:{tour.id}:{reg.id}",
                     subject_type="tour_registration", subject_id=reg.id)
    audit.record("tour.cancel", "tour", tour.id, actor=user, before={"status": before},
                 after={"status": TourStatus.CANCELLED, "reason": reason})
    uow.flush()
    return tour

