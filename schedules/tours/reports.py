"""What the tours did: per-stop report of one tour (JSON or CSV) and a season report over dates."""
import csv
import io
from datetime import date

from sqlalchemy import func, select

from schedules.tours.models import StopRegistration, Tour, TourInspection, TourStop
from schedules.tours.services import get_tour
from vmo.accounts.models import User
from vmo.errors import RuleViolation
from vmo.extensions import db

STOP_COLUMNS = ("stop_id", "position", "township", "venue", "arrives_at", "departs_at", "status", "capacity",
                "registered", "inspected", "passed", "failed", "walk_ins", "no_shows", "clock_skew")


def _outcomes(tour_ids: list[int]) -> dict[tuple[int, int], dict]:
    """Per (tour, stop): vehicles inspected, passed, failed, walk-ins and clock-skew flags.

    A vehicle inspected twice (failed, fixed, passed) counts once, with its last result.
    """
    rows = db.session.execute(
        select(TourInspection.tour_id, TourInspection.stop_id, TourInspection.plate, TourInspection.result,
               TourInspection.walk_in, TourInspection.clock_skew)
        .where(TourInspection.tour_id.in_(tour_ids)).order_by(TourInspection.recorded_at, TourInspection.id)
    ).all()
    last: dict[tuple[int, int, str], tuple[str, bool]] = {}
    skew: dict[tuple[int, int], int] = {}
    for tour_id, stop_id, plate, result, walk_in, clock_skew in rows:
        last[(tour_id, stop_id, plate)] = (result, walk_in)
        skew[(tour_id, stop_id)] = skew.get((tour_id, stop_id), 0) + bool(clock_skew)
    out: dict[tuple[int, int], dict] = {}
    for (tour_id, stop_id, _plate), (result, walk_in) in last.items():
        counts = out.setdefault((tour_id, stop_id), {"inspected": 0, "passed": 0, "failed": 0, "walk_ins": 0})
        counts["inspected"] += 1
        counts["passed" if result == "pass" else "failed"] += 1
        counts["walk_ins"] += bool(walk_in)
    for key, flagged in skew.items():
        out.setdefault(key, {"inspected": 0, "passed": 0, "failed": 0, "walk_ins": 0})["clock_skew"] = flagged
    return out


def tour_report(user: User, tour_id: int) -> dict:
    tour = get_tour(user, tour_id)
    registered = dict(db.session.execute(
        select(StopRegistration.stop_id, func.count()).where(StopRegistration.tour_id == tour.id,
                                                             StopRegistration.status != "cancelled")
        .group_by(StopRegistration.stop_id)).all())
    # Pre-registered vehicles that were inspected (at whichever stop) are not no-shows.
    shown = dict(db.session.execute(
        select(StopRegistration.stop_id, func.count()).where(StopRegistration.tour_id == tour.id,
                                                             StopRegistration.status == "inspected")
        .group_by(StopRegistration.stop_id)).all())
    outcomes = _outcomes([tour.id])
    stops = []
    for stop in tour.stops:
        counts = {"inspected": 0, "passed": 0, "failed": 0, "walk_ins": 0, "clock_skew": 0,
                  **outcomes.get((tour.id, stop.id), {})}
        stops.append({
            "stop_id": stop.id, "position": stop.position, "township": stop.township, "venue": stop.venue,
            "arrives_at": stop.arrives_at, "departs_at": stop.departs_at, "status": stop.status,
            "capacity": stop.slot.capacity, "registered": registered.get(stop.id, 0),
            "no_shows": registered.get(stop.id, 0) - shown.get(stop.id, 0), **counts,
        })
    totals = {name: sum(s[name] for s in stops)
              for name in ("capacity", "registered", "inspected", "passed", "failed", "walk_ins", "no_shows",
                           "clock_skew")}
    totals["pass_rate"] = round(totals["passed"] / totals["inspected"], 4) if totals["inspected"] else None
    return {"tour_id": tour.id, "name": tour.name, "date": tour.date, "status": tour.status,
            "distance_km": tour.distance_km, "stops": stops, "totals": totals}


def tour_report_csv(report: dict) -> str:
    """The per-stop report as CSV (UTF-8 with a BOM, so spreadsheet programs show the Chinese)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(("tour_id", "date", *STOP_COLUMNS))
    for stop in report["stops"]:
        writer.writerow((report["tour_id"], report["date"].isoformat(),
                         *(stop[c].isoformat() if hasattr(stop[c], "isoformat") else stop[c]
                           for c in STOP_COLUMNS)))
    return buffer.getvalue()


def season_report(user: User, start: date, end: date) -> dict:
    """Tours held (published, not cancelled) between two dates: stops, vehicles inspected, pass rate."""
    if end < start:
        raise RuleViolation("'to' is before 'from'", errors={"query": {"to": ["before from"]}})
    tours = list(db.session.scalars(select(Tour).where(Tour.office_id == user.office_id, Tour.date >= start,
                                                       Tour.date <= end)))
    held = [t for t in tours if t.status == "published"]
    ids = [t.id for t in held]
    outcomes = _outcomes(ids) if ids else {}
    stops = db.session.scalar(select(func.count()).select_from(TourStop).where(
        TourStop.tour_id.in_(ids), TourStop.status == "scheduled")) if ids else 0
    registered = db.session.scalar(select(func.count()).select_from(StopRegistration).where(
        StopRegistration.tour_id.in_(ids), StopRegistration.status != "cancelled")) if ids else 0
    inspected = sum(c["inspected"] for c in outcomes.values())
    passed = sum(c["passed"] for c in outcomes.values())
    return {
        "from": start, "to": end, "tours": len(held),
        "cancelled_tours": sum(1 for t in tours if t.status == "cancelled"),
        "stops": stops, "registered": registered, "vehicles_inspected": inspected, "passed": passed,
        "failed": inspected - passed, "walk_ins": sum(c["walk_ins"] for c in outcomes.values()),
        "pass_rate": round(passed / inspected, 4) if inspected else None,
        "distance_km": round(sum(t.distance_km or 0 for t in held), 3),
    }
