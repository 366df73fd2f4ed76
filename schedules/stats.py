"""Driving-test and tour figures for GET /api/v1/stats: two providers on vmo's statistics hook.

Each figure comes from an SQL aggregate (COUNT, SUM of CASE, GROUP BY); no rows are loaded. Both
features store the office-local date of what happened (`test_sessions.local_date`, `tours.date`),
so the period `start`..`end` (local dates, both included) is a plain date comparison on SQLite and
PostgreSQL alike. Only the given office's rows are counted.
"""
from datetime import date, timedelta

from marshmallow import Schema, fields
from sqlalchemy import and_, case, func, select

from schedules.exams.models import BookingStatus, ExamBooking, ExamSession, Outcome, SessionKind
from schedules.tours import reports
from schedules.tours.models import Tour
from vmo.booking.models import Slot
from vmo.extensions import db
from vmo.stats.services import as_date, count_if, rate

DRIVING_TESTS = "driving_tests"
TOURS = "tours"


# ---- the sections' wire format (documented in GET /stats through vmo.stats.schemas.document_section) ----

class DrivingTestStatsSchema(Schema):
    """Test sessions held in the period (by their local date) and what became of their bookings."""

    sessions = fields.Integer(required=True, metadata={"description": "Test sessions in the period"})
    weekend_sessions = fields.Integer(required=True, metadata={"description": "Of those, on a Saturday or Sunday"})
    extra_sessions = fields.Integer(required=True, metadata={"description": "Of those, extra sessions"})
    seats = fields.Integer(required=True, metadata={"description": "Seats over the sessions"})
    booked = fields.Integer(required=True, metadata={"description": "Confirmed bookings (seats taken)"})
    candidates = fields.Integer(required=True, metadata={"description": "Different candidates with a seat"})
    applied = fields.Integer(required=True, metadata={"description": "Ballot applications not drawn yet"})
    waitlisted = fields.Integer(required=True)
    cancelled = fields.Integer(required=True)
    took_test = fields.Integer(required=True, metadata={"description": "Outcome recorded: passed or failed"})
    passed = fields.Integer(required=True)
    failed = fields.Integer(required=True)
    no_shows = fields.Integer(required=True, metadata={"description": "Outcome recorded: no_show"})
    pass_rate = fields.Float(allow_none=True, metadata={"description": "passed / took_test"})
    seat_utilisation = fields.Float(allow_none=True, metadata={"description": "booked / seats"})


class TourStatsSchema(Schema):
    """Tours dated in the period; stops, registrations and inspections count on published tours only."""

    tours = fields.Integer(required=True, metadata={"description": "Tours held (published, not cancelled)"})
    cancelled_tours = fields.Integer(required=True)
    draft_tours = fields.Integer(required=True)
    stops = fields.Integer(required=True, metadata={"description": "Stops of the tours held (not cancelled)"})
    capacity = fields.Integer(required=True, metadata={"description": "Pre-registration places at those stops"})
    vehicles_registered = fields.Integer(required=True, metadata={"description": "Pre-registrations not "
                                                                                 "cancelled"})
    vehicles_inspected = fields.Integer(required=True, metadata={
        "description": "Vehicles inspected; one inspected again at the same stop counts once, with its last "
                       "result (as in the tour report)"})
    passed = fields.Integer(required=True)
    failed = fields.Integer(required=True)
    walk_ins = fields.Integer(required=True, metadata={"description": "Inspected without pre-registering"})
    pass_rate = fields.Float(allow_none=True, metadata={"description": "passed / vehicles_inspected"})
    distance_km = fields.Float(required=True, metadata={"description": "Routed distance of the tours held"})


# ---- driving tests -----------------------------------------------------------------------

def _sessions_in(office_id: int, start: date, end: date):
    return and_(ExamSession.office_id == office_id, ExamSession.local_date >= start, ExamSession.local_date <= end)


def driving_test_figures(office_id: int, start: date, end: date) -> dict:
    in_period = _sessions_in(office_id, start, end)
    sessions, weekend, extra, seats = db.session.execute(
        select(func.count(ExamSession.id), count_if(ExamSession.is_weekend.is_(True)),
               count_if(ExamSession.kind == SessionKind.EXTRA), func.coalesce(func.sum(Slot.capacity), 0))
        .select_from(ExamSession).join(Slot, Slot.id == ExamSession.slot_id).where(in_period)
    ).one()
    status, outcome = ExamBooking.status, ExamBooking.outcome
    confirmed = status == BookingStatus.CONFIRMED
    row = db.session.execute(
        select(count_if(confirmed), func.count(func.distinct(case((confirmed, ExamBooking.candidate_id)))),
               count_if(status == BookingStatus.APPLIED), count_if(status == BookingStatus.WAITLISTED),
               count_if(status == BookingStatus.CANCELLED), count_if(outcome == Outcome.PASSED),
               count_if(outcome == Outcome.FAILED), count_if(outcome == Outcome.NO_SHOW))
        .select_from(ExamBooking).join(ExamSession, ExamSession.id == ExamBooking.session_id).where(in_period)
    ).one()
    booked, candidates, applied, waitlisted, cancelled, passed, failed, no_shows = (int(v) for v in row)
    took = passed + failed
    return {"sessions": sessions, "weekend_sessions": int(weekend), "extra_sessions": int(extra),
            "seats": int(seats), "booked": booked, "candidates": candidates, "applied": applied,
            "waitlisted": waitlisted, "cancelled": cancelled, "took_test": took, "passed": passed,
            "failed": failed, "no_shows": no_shows, "pass_rate": rate(passed, took),
            "seat_utilisation": rate(booked, int(seats))}


def bookings_per_weekend(office_id: int, start: date, end: date) -> list[dict]:
    """Confirmed bookings of weekend sessions per weekend (labelled by its Saturday), weekends with
    sessions but no bookings included: counted per local day in SQL, Saturday and Sunday added here."""
    day = ExamSession.local_date
    rows = db.session.execute(
        select(day, count_if(ExamBooking.status == BookingStatus.CONFIRMED))
        .select_from(ExamSession).outerjoin(ExamBooking, ExamBooking.session_id == ExamSession.id)
        .where(_sessions_in(office_id, start, end), ExamSession.is_weekend.is_(True))
        .group_by(day).order_by(day)
    ).all()
    weekends: dict[date, int] = {}
    for value, booked in rows:
        local = as_date(value)
        saturday = local - timedelta(days=local.weekday() - 5)
        weekends[saturday] = weekends.get(saturday, 0) + int(booked)
    return [{"label": saturday.strftime("%m-%d"), "value": booked} for saturday, booked in sorted(weekends.items())]


def driving_tests(office_id: int, start: date, end: date) -> dict:
    """Provider: the `driving_tests` section and the "bookings per weekend" chart."""
    return {DRIVING_TESTS: driving_test_figures(office_id, start, end),
            "charts": [{"id": "bookings_per_weekend", "title": "考试预约（按周末） Bookings per weekend",
                        "unit": "", "points": bookings_per_weekend(office_id, start, end)}]}


# ---- tours -------------------------------------------------------------------------------

def _short(name: str, keep: int = 5) -> str:
    # Chart labels sit in a narrow column; the date and the name's start tell tours apart.
    return name if len(name) <= keep else name[:keep - 1] + "…"


def inspected_per_tour(office_id: int, start: date, end: date) -> list[dict]:
    """Vehicles inspected on each tour held, in date order (tours with none included)."""
    last = reports.last_inspections(office_id, start, end)
    per_tour = select(last.c.tour_id, func.count().label("vehicles")).group_by(last.c.tour_id).subquery()
    rows = db.session.execute(
        select(Tour.date, Tour.name, func.coalesce(per_tour.c.vehicles, 0))
        .outerjoin(per_tour, per_tour.c.tour_id == Tour.id)
        .where(reports.held(office_id, start, end)).order_by(Tour.date, Tour.id)
    ).all()
    return [{"label": f"{as_date(day):%m-%d} {_short(name)}", "value": int(n)} for day, name, n in rows]


def tours(office_id: int, start: date, end: date) -> dict:
    """Provider: the `tours` section and the "vehicles inspected per tour" chart."""
    return {TOURS: reports.season_figures(office_id, start, end),
            "charts": [{"id": "vehicles_inspected_per_tour", "title": "下乡检验车辆（按巡回） Vehicles inspected per tour",
                        "unit": "", "points": inspected_per_tour(office_id, start, end)}]}


def init_app(app, api) -> None:
    """Register both providers and document their sections in the OpenAPI answer of GET /stats."""
    from vmo.stats.schemas import document_section
    from vmo import hooks

    hooks.add(app, hooks.STATS_PROVIDERS, driving_tests, tours)
    document_section(api, DRIVING_TESTS, DrivingTestStatsSchema)
    document_section(api, TOURS, TourStatsSchema)
