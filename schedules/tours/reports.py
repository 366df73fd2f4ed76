"""What the tours did: per-stop report of one tour (JSON or CSV) and a season report over dates."""
from datetime import date, datetime

from sqlalchemy import and_, case, func, select

from schedules.tours.models import (
    RegistrationStatus, StopRegistration, StopStatus, Tour, TourInspection, TourStatus, TourStop,
)
from schedules.tours.services import get_tour
from vmo import csvout
from vmo.accounts.models import User
from vmo.booking.models import Slot
from vmo.errors import RuleViolation
from vmo.extensions import db
from vmo.motorcycles import services as register_of_motorcycles
from vmo.motorcycles.rules import DueRules
from vmo.stats.services import count_if, rate
from vmo.timefmt import local_iso

STOP_COLUMNS = ("stop_id", "position", "township", "venue", "arrives_at", "departs_at", "status", "capacity",
                "registered", "inspected", "passed", "failed", "walk_ins", "not_on_register", "no_shows",
                "clock_skew")


def ranked_inspections(*where):
    """Inspections (with their tour) ranked per vehicle and stop, latest first: `rank == 1` is each
    vehicle's last inspection there, so a vehicle inspected twice (failed, fixed, passed) counts once,
    with its last result. One definition for the tour report, the season report and /stats."""
    last_first = func.row_number().over(
        partition_by=(TourInspection.tour_id, TourInspection.stop_id, TourInspection.plate),
        order_by=(TourInspection.recorded_at.desc(), TourInspection.id.desc())).label("rank")
    return (select(TourInspection.tour_id, TourInspection.stop_id, TourInspection.result, TourInspection.walk_in,
                   TourInspection.not_on_register, TourInspection.clock_skew, last_first)
            .join(Tour, Tour.id == TourInspection.tour_id).where(*where).subquery())


def _outcomes(tour_ids: list[int]) -> dict[tuple[int, int], dict]:
    """Per (tour, stop), in one aggregate: vehicles inspected, passed, failed, walk-ins, clock-skew flags."""
    ranked = ranked_inspections(TourInspection.tour_id.in_(tour_ids))
    last = ranked.c.rank == 1
    rows = db.session.execute(
        select(ranked.c.tour_id, ranked.c.stop_id, count_if(last), count_if(and_(last, ranked.c.result == "pass")),
               count_if(and_(last, ranked.c.walk_in.is_(True))),
               count_if(and_(last, ranked.c.not_on_register.is_(True))), count_if(ranked.c.clock_skew.is_(True)))
        .group_by(ranked.c.tour_id, ranked.c.stop_id)
    ).all()
    return {(tour_id, stop_id): {"inspected": int(n), "passed": int(passed), "failed": int(n) - int(passed),
                                 "walk_ins": int(walk_ins), "not_on_register": int(off), "clock_skew": int(skew)}
            for tour_id, stop_id, n, passed, walk_ins, off, skew in rows}


def tour_report(user: User, tour_id: int, now: datetime, rules: DueRules) -> dict:
    """Per stop and in total; a stop's no-shows are counted once it has ended (before, they may still come).
    Motorcycles due for compulsory scrapping are counted apart: on the register in the tour's townships
    (told to deregister, never invited) and among the pre-registrations."""
    tour = get_tour(user, tour_id)
    registered = dict(db.session.execute(
        select(StopRegistration.stop_id, func.count()).where(StopRegistration.tour_id == tour.id,
                                                             StopRegistration.status.in_(
                                                                 (RegistrationStatus.REGISTERED, RegistrationStatus.INSPECTED)))
        .group_by(StopRegistration.stop_id)).all())
    # Pre-registered vehicles that were inspected (at whichever stop) are not no-shows.
    shown = dict(db.session.execute(
        select(StopRegistration.stop_id, func.count()).where(StopRegistration.tour_id == tour.id,
                                                             StopRegistration.status == RegistrationStatus.INSPECTED)
        .group_by(StopRegistration.stop_id)).all())
    outcomes = _outcomes([tour.id])
    stops = []
    for stop in tour.stops:
        counts = {"inspected": 0, "passed": 0, "failed": 0, "walk_ins": 0, "not_on_register": 0, "clock_skew": 0,
                  **outcomes.get((tour.id, stop.id), {})}
        ended = now >= stop.departs_at
        stops.append({
            "stop_id": stop.id, "position": stop.position, "township": stop.township, "venue": stop.venue,
            "arrives_at": stop.arrives_at, "departs_at": stop.departs_at, "status": stop.status,
            "capacity": stop.slot.capacity, "registered": registered.get(stop.id, 0),
            "ended": ended, "no_shows": registered.get(stop.id, 0) - shown.get(stop.id, 0) if ended else 0, **counts,
        })
    totals = {name: sum(s[name] for s in stops)
              for name in ("capacity", "registered", "inspected", "passed", "failed", "walk_ins", "not_on_register",
                           "no_shows", "clock_skew")}
    totals["pass_rate"] = round(totals["passed"] / totals["inspected"], 4) if totals["inspected"] else None
    townships = {stop.township for stop in tour.stops}
    totals["scrap_due"] = len(register_of_motorcycles.scrap_due_in_townships(tour.office_id, townships, tour.date,
                                                                            rules))
    plates = db.session.scalars(select(StopRegistration.plate).where(
        StopRegistration.tour_id == tour.id, StopRegistration.status.in_(
                                                                 (RegistrationStatus.REGISTERED, RegistrationStatus.INSPECTED))))
    totals["scrap_due_registered"] = len(register_of_motorcycles.scrap_due_plates(tour.office_id, plates, tour.date,
                                                                                 rules))
    return {"tour_id": tour.id, "name": tour.name, "date": tour.date, "status": tour.status,
            "distance_km": tour.distance_km, "stops": stops, "totals": totals}


def tour_report_csv(report: dict) -> str:
    """The per-stop report as CSV (UTF-8 with a BOM, so spreadsheet programs show the Chinese); times in office time."""
    return csvout.render(("tour_id", "date", *STOP_COLUMNS), (
        (report["tour_id"], report["date"].isoformat(),
         *(local_iso(stop[c]) if isinstance(stop[c], datetime) else stop[c] for c in STOP_COLUMNS))
        for stop in report["stops"]), bom=True)


def _tours_in(office_id: int, start: date, end: date):
    return and_(Tour.office_id == office_id, Tour.date >= start, Tour.date <= end)


def held(office_id: int, start: date, end: date):
    """Tours held between two local dates: published (a cancelled or draft tour did not happen)."""
    return and_(_tours_in(office_id, start, end), Tour.status == TourStatus.PUBLISHED)


def last_inspections(office_id: int, start: date, end: date):
    """Each vehicle's last inspection at each stop of the tours held in the period."""
    ranked = ranked_inspections(TourInspection.office_id == office_id, held(office_id, start, end))
    return select(ranked.c.tour_id, ranked.c.result, ranked.c.walk_in).where(ranked.c.rank == 1).subquery()


def season_figures(office_id: int, start: date, end: date) -> dict:
    """Tours, stops, registrations and vehicles inspected between two local dates, by SQL aggregates."""
    published = Tour.status == TourStatus.PUBLISHED
    tours, cancelled, drafts, distance = db.session.execute(
        select(count_if(published), count_if(Tour.status == TourStatus.CANCELLED), count_if(Tour.status == TourStatus.DRAFT),
               func.coalesce(func.sum(case((published, Tour.distance_km), else_=0)), 0))
        .where(_tours_in(office_id, start, end))
    ).one()
    stops, capacity = db.session.execute(
        select(func.count(TourStop.id), func.coalesce(func.sum(Slot.capacity), 0))
        .select_from(TourStop).join(Tour, Tour.id == TourStop.tour_id).join(Slot, Slot.id == TourStop.slot_id)
        .where(held(office_id, start, end), TourStop.status == StopStatus.SCHEDULED)
    ).one()
    registered = db.session.scalar(
        select(func.count(StopRegistration.id)).join(Tour, Tour.id == StopRegistration.tour_id)
        .where(held(office_id, start, end), StopRegistration.status.in_(
                                                                 (RegistrationStatus.REGISTERED, RegistrationStatus.INSPECTED))))
    last = last_inspections(office_id, start, end)
    inspected, passed, walk_ins = (int(v) for v in db.session.execute(
        select(func.count(), count_if(last.c.result == "pass"), count_if(last.c.walk_in.is_(True)))
        .select_from(last)).one())
    return {"tours": int(tours), "cancelled_tours": int(cancelled), "draft_tours": int(drafts),
            "stops": stops, "capacity": int(capacity), "vehicles_registered": registered,
            "vehicles_inspected": inspected, "passed": passed, "failed": inspected - passed, "walk_ins": walk_ins,
            "pass_rate": rate(passed, inspected), "distance_km": round(float(distance), 3)}


def season_report(user: User, start: date, end: date) -> dict:
    """Tours held (published, not cancelled) between two dates: stops, vehicles inspected, pass rate."""
    if end < start:
        raise RuleViolation("'to' is before 'from'", fields={"to": ["before from"]})
    figures = season_figures(user.office_id, start, end)
    return {"from": start, "to": end, **figures, "registered": figures["vehicles_registered"]}
