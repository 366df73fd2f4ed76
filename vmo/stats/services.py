"""The office's figures for a period, each computed by one SQL aggregate (no rows are loaded).

Other packages add their own figures through providers: callables `(office_id, start, end) -> dict`
listed in vmo.hooks.STATS_PROVIDERS (vmo never imports them). A provider's keys are
merged into the answer; a `charts` list (`[{"id", "title", "unit", "points": [{"label", "value"}]}]`)
is appended to the report's charts. The package documents its sections' shape with
`vmo.stats.schemas.document_section`. A provider that fails is named under `unavailable` and logged,
so one broken package cannot take the statistics down.
"""
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select

from vmo.accounts.models import Role, User
from vmo.booking.models import Slot
from vmo.errors import RuleViolation
from vmo.extensions import db
from vmo.fleet.models import AppointmentStatus, FleetAppointment, FleetInspection, FleetVehicle, VehicleStatus
from vmo.followup.models import Escalation, EscalationStatus, InboundMessage, InboundOutcome
from vmo.greenchannel.models import GreenChannelDay
from vmo.notify.models import Answer, MessageStatus, OutboxMessage
from vmo.offices.models import Office
from vmo.priority.models import REASONS, PriorityBooking, PriorityDay, PriorityStatus

log = logging.getLogger("vmo.stats")
# Reviews look back up to five years (1,827 days hold any five calendar years), in monthly buckets.
MAX_DAYS = 1827
# The service a finished case belongs to, by the follow-up's subject (other packages' subjects included:
# vmo only names them). An unknown subject is counted under its own name.
SERVICES = ("green_channel", "priority", "tests", "tours")
SERVICE_OF_SUBJECT = {"fleet_vehicle": "green_channel", "fleet_batch": "green_channel",
                      "priority_booking": "priority", "exam_booking": "tests", "tour_inspection": "tours",
                      "home_visit": "home_visits"}


@dataclass(frozen=True)
class Period:
    """Local dates `start`..`end` (both included) in the office's zone, and the UTC instants around them."""

    start: date
    end: date
    zone: ZoneInfo

    @property
    def start_utc(self) -> datetime:
        return datetime.combine(self.start, time(), self.zone).astimezone(timezone.utc)

    @property
    def end_utc(self) -> datetime:
        """Exclusive: local midnight after the last day."""
        return datetime.combine(self.end + timedelta(days=1), time(), self.zone).astimezone(timezone.utc)

    def contains(self, column):
        return and_(column >= self.start_utc, column < self.end_utc)


def period(start: date | None, end: date | None, today: date, zone: ZoneInfo, default_days: int = 30) -> Period:
    end = end or today
    start = start or end - timedelta(days=default_days - 1)
    if start > end:
        raise RuleViolation("`from` is after `to`", fields={"from": ["must not be after `to`"]})
    if (end - start).days >= MAX_DAYS:
        raise RuleViolation(f"at most five years ({MAX_DAYS} days) at once",
                            fields={"from": [f"at most {MAX_DAYS} days before `to`"]})
    return Period(start, end, zone)


# ---- portable SQL pieces (count_if, rate and as_date are used by providers too) -----------

def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _local_date(column, p: Period):
    """The office-local date of a UTC timestamp column, computed in SQL."""
    if _dialect() == "postgresql":
        return func.date(func.timezone(p.zone.key, column))
    # SQLite has no zone database: use the zone's offset for the period (exact for zones without DST,
    # such as the default Asia/Shanghai).
    minutes = int(p.start_utc.astimezone(p.zone).utcoffset().total_seconds() // 60)
    return func.date(column, f"{minutes:+d} minutes")


def _local_month(column, p: Period):
    """The office-local month (`YYYY-MM`) of a UTC timestamp column, computed in SQL."""
    if _dialect() == "postgresql":
        return func.to_char(func.timezone(p.zone.key, column), "YYYY-MM")
    minutes = int(p.start_utc.astimezone(p.zone).utcoffset().total_seconds() // 60)
    return func.strftime("%Y-%m", column, f"{minutes:+d} minutes")


def months(p: Period) -> list[str]:
    """Every month the period touches, `YYYY-MM`, in order."""
    out, year, month = [], p.start.year, p.start.month
    while (year, month) <= (p.end.year, p.end.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _seconds_between(later, earlier):
    if _dialect() == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def as_date(value) -> date:
    """A DATE column's value as a date (SQLite's date() gives a string)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def count_if(condition):
    """SUM(CASE WHEN condition THEN 1 ELSE 0 END), 0 when no rows: one figure of a single aggregate query."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def rate(part: int, whole: int) -> float | None:
    """part / whole to 4 places; None when there is nothing to divide by."""
    return round(part / whole, 4) if whole else None


# ---- the figures -----------------------------------------------------------------------

def green_channel(office_id: int, p: Period) -> dict:
    in_days = and_(GreenChannelDay.office_id == office_id, GreenChannelDay.day >= p.start, GreenChannelDay.day <= p.end)
    ordinary = Slot.__table__.alias("ordinary")
    kept = Slot.__table__.alias("kept")
    days = db.session.execute(
        select(func.count(GreenChannelDay.id), func.coalesce(func.sum(ordinary.c.capacity), 0),
               func.coalesce(func.sum(kept.c.capacity), 0))
        .select_from(GreenChannelDay)
        .join(ordinary, ordinary.c.id == GreenChannelDay.slot_id)
        .outerjoin(kept, kept.c.id == GreenChannelDay.priority_slot_id)
        .where(in_days)
    ).one()
    appointments = db.session.execute(
        select(func.count(FleetAppointment.id), func.coalesce(func.sum(FleetAppointment.units), 0))
        .join(GreenChannelDay, GreenChannelDay.id == FleetAppointment.day_id)
        .where(in_days, FleetAppointment.status == AppointmentStatus.BOOKED)
    ).one()
    # The priority lane's bookings of the green-channel days (the lane keeps days of its own; these are
    # the ones that share a date, and so the places, with an open green-channel day).
    by_reason = dict(db.session.execute(
        select(PriorityBooking.reason, func.count(PriorityBooking.id))
        .join(PriorityDay, PriorityDay.id == PriorityBooking.day_id)
        .join(GreenChannelDay, and_(GreenChannelDay.office_id == PriorityDay.office_id, GreenChannelDay.day == PriorityDay.day))
        .where(in_days, PriorityBooking.status == PriorityStatus.BOOKED)
        .group_by(PriorityBooking.reason)
    ).all())
    priority = sum(by_reason.values())
    capacity = int(days[1]) + int(days[2])
    return {
        "days_open": days[0], "capacity": capacity, "priority_capacity": int(days[2]),
        "appointments": appointments[0], "vehicles_booked": int(appointments[1]),
        "priority_bookings": priority,
        "priority_by_reason": {reason: by_reason.get(reason, 0) for reason in REASONS},
        "utilisation": rate(int(appointments[1]) + priority, capacity),
    }


def follow_ups(office_id: int, p: Period) -> dict:
    """Follow-ups sent in the period and what became of them (replies may come after the period)."""
    row = db.session.execute(
        select(func.count(OutboxMessage.id),
               count_if(OutboxMessage.replied_at.is_not(None)),
               count_if(OutboxMessage.answer == Answer.SATISFIED),
               count_if(OutboxMessage.answer == Answer.DISSATISFIED),
               func.coalesce(func.sum(OutboxMessage.segments), 0))
        .where(OutboxMessage.office_id == office_id, OutboxMessage.kind == "follow_up",
               OutboxMessage.status == MessageStatus.SENT, p.contains(OutboxMessage.sent_at))
    ).one()
    sent, replies, satisfied, dissatisfied, segments = (int(v) for v in row)
    unsent = dict(db.session.execute(
        select(OutboxMessage.status, func.count(OutboxMessage.id))
        .where(OutboxMessage.office_id == office_id, OutboxMessage.kind == "follow_up",
               OutboxMessage.status != MessageStatus.SENT, p.contains(OutboxMessage.created_at))
        .group_by(OutboxMessage.status)
    ).all())
    comments = db.session.scalar(
        select(func.count(InboundMessage.id))
        .where(InboundMessage.office_id == office_id, InboundMessage.outcome == InboundOutcome.COMMENT,
               p.contains(InboundMessage.received_at)))
    return {
        "sent": sent, "segments": segments, "replies": replies, "reply_rate": rate(replies, sent),
        "satisfied": satisfied, "dissatisfied": dissatisfied,
        "satisfaction_rate": rate(satisfied, satisfied + dissatisfied),
        "comments": comments, "pending": unsent.get(MessageStatus.PENDING, 0),
        "failed": unsent.get(MessageStatus.FAILED, 0), "opted_out": unsent.get(MessageStatus.OPTED_OUT, 0),
    }


def texts(office_id: int, p: Period) -> dict:
    """Every text sent in the period and the segments the gateway bills for them, by kind."""
    rows = db.session.execute(
        select(OutboxMessage.kind, func.count(OutboxMessage.id), func.coalesce(func.sum(OutboxMessage.segments), 0))
        .where(OutboxMessage.office_id == office_id, OutboxMessage.status == MessageStatus.SENT,
               p.contains(OutboxMessage.sent_at))
        .group_by(OutboxMessage.kind).order_by(OutboxMessage.kind)
    ).all()
    return {"sent": sum(int(n) for _, n, _ in rows), "segments": sum(int(s) for _, _, s in rows),
            "by_kind": {kind: {"sent": int(n), "segments": int(s)} for kind, n, s in rows}}


def escalations(office_id: int, p: Period, now: datetime, highlight_after: timedelta) -> dict:
    mine = Escalation.office_id == office_id
    row = db.session.execute(
        select(count_if(p.contains(Escalation.opened_at)),
               count_if(p.contains(Escalation.resolved_at)),
               count_if(Escalation.status == EscalationStatus.OPEN),
               count_if(and_(Escalation.status == EscalationStatus.OPEN,
                             Escalation.opened_at <= now - highlight_after)))
        .where(mine)
    ).one()
    hours = db.session.scalar(
        select(func.avg(_seconds_between(Escalation.resolved_at, Escalation.opened_at)) / 3600.0)
        .where(mine, Escalation.status == EscalationStatus.RESOLVED, p.contains(Escalation.resolved_at)))
    return {"opened": int(row[0]), "resolved": int(row[1]), "open_now": int(row[2]), "overdue_now": int(row[3]),
            "average_hours_to_resolve": round(float(hours), 2) if hours is not None else None}


def handling(office_id: int, p: Period) -> dict:
    """Fleet vehicles registered in the period, timed from arrival (the vehicle's first inspection,
    the first moment the office records it on site) to registration, the finished case."""
    arrival = (select(FleetInspection.vehicle_id, func.min(FleetInspection.inspected_at).label("arrived_at"))
               .group_by(FleetInspection.vehicle_id).subquery())
    seconds = _seconds_between(FleetVehicle.registered_at, arrival.c.arrived_at)
    same_day = _local_date(FleetVehicle.registered_at, p) == _local_date(arrival.c.arrived_at, p)
    row = db.session.execute(
        select(func.count(FleetVehicle.id), func.avg(seconds), count_if(same_day))
        .select_from(FleetVehicle)
        .join(arrival, arrival.c.vehicle_id == FleetVehicle.id)
        .where(FleetVehicle.office_id == office_id, FleetVehicle.status == VehicleStatus.REGISTERED,
               p.contains(FleetVehicle.registered_at))
    ).one()
    finished, avg_seconds, same = int(row[0]), row[1], int(row[2])
    return {"cases_finished": finished,
            "average_minutes": round(float(avg_seconds) / 60, 1) if avg_seconds is not None else None,
            "same_day": same, "same_day_share": rate(same, finished)}


def satisfaction_by_week(office_id: int, p: Period) -> list[dict]:
    """Per week (Monday), follow-ups sent and their answers: grouped by local day in SQL, weeks here."""
    day = _local_date(OutboxMessage.sent_at, p).label("day")
    rows = db.session.execute(
        select(day, func.count(OutboxMessage.id), count_if(OutboxMessage.replied_at.is_not(None)),
               count_if(OutboxMessage.answer == Answer.SATISFIED),
               count_if(OutboxMessage.answer == Answer.DISSATISFIED))
        .where(OutboxMessage.office_id == office_id, OutboxMessage.kind == "follow_up",
               OutboxMessage.status == MessageStatus.SENT, p.contains(OutboxMessage.sent_at))
        .group_by(day).order_by(day)
    ).all()
    weeks: dict[date, list[int]] = {}
    for value, *counts in rows:
        local = as_date(value)
        monday = local - timedelta(days=local.weekday())
        totals = weeks.setdefault(monday, [0, 0, 0, 0])
        for i, n in enumerate(counts):
            totals[i] += int(n)
    return [{"week": monday, "sent": s, "replies": r, "satisfied": ok, "dissatisfied": bad,
             "satisfaction_rate": rate(ok, ok + bad)} for monday, (s, r, ok, bad) in sorted(weeks.items())]


# ---- per officer, per service, per month (for the office's reviews) -------------------------

def _case_figures(office_id: int, p: Period, *group_by):
    """Finished cases (one follow-up each, queued when the case finished in the period) and their answers,
    grouped by the given columns: one statement."""
    return db.session.execute(
        select(*group_by, func.count(OutboxMessage.id), count_if(OutboxMessage.status == MessageStatus.SENT),
               count_if(OutboxMessage.answer.is_not(None)), count_if(OutboxMessage.answer == Answer.SATISFIED),
               count_if(OutboxMessage.answer == Answer.DISSATISFIED))
        .where(OutboxMessage.office_id == office_id, OutboxMessage.kind == "follow_up",
               p.contains(OutboxMessage.created_at))
        .group_by(*group_by)
    ).all()


def _escalation_figures(office_id: int, p: Period, *group_by):
    """Escalations opened in the period, those of them closed, and the hours they took in all: one statement."""
    hours = _seconds_between(Escalation.resolved_at, Escalation.opened_at) / 3600.0
    return db.session.execute(
        select(*group_by, func.count(Escalation.id), count_if(Escalation.status == EscalationStatus.RESOLVED),
               func.coalesce(func.sum(case((Escalation.status == EscalationStatus.RESOLVED, hours), else_=0)), 0))
        .where(Escalation.office_id == office_id, p.contains(Escalation.opened_at))
        .group_by(*group_by)
    ).all()


def _figures(cases, sent, answered, satisfied, dissatisfied, escalations, closed, hours) -> dict:
    """One row of figures; `hours`: the hours the closed escalations took, in all."""
    closed = int(closed)
    return {"cases": int(cases), "follow_ups_sent": int(sent), "answered": int(answered),
            "satisfied": int(satisfied), "dissatisfied": int(dissatisfied),
            "satisfaction_rate": rate(int(satisfied), int(satisfied) + int(dissatisfied)),
            "escalations": int(escalations), "escalations_closed": int(closed),
            "average_hours_to_close": round(float(hours) / closed, 2) if closed else None}


_NO_CASES, _NO_ESCALATIONS = (0, 0, 0, 0, 0), (0, 0, 0)


def per_officer(office_id: int, p: Period) -> list[dict]:
    """Each officer of the office (and anyone who handled a case in the period): cases handled,
    follow-ups answered, satisfied, dissatisfied, escalations and how fast they closed. Three statements."""
    cases = {row[0]: row[1:] for row in _case_figures(office_id, p, OutboxMessage.officer_id)}
    escalations = {row[0]: row[1:] for row in _escalation_figures(office_id, p, Escalation.officer_id)}
    ids = (set(cases) | set(escalations)) - {None}
    people = db.session.execute(
        select(User.id, User.username, User.badge_number, User.display_name, User.role)
        .where(User.office_id == office_id, or_(User.role == Role.OFFICER, User.id.in_(ids)))
        .order_by(User.username)
    ).all()
    rows = [{"username": u.username, "badge_number": u.badge_number, "display_name": u.display_name, "role": u.role,
             **_figures(*cases.get(u.id, _NO_CASES), *escalations.get(u.id, _NO_ESCALATIONS))} for u in people]
    if None in cases or None in escalations:  # cases with no recorded officer still count somewhere
        rows.append({"username": None, "badge_number": None, "display_name": None, "role": None,
                     **_figures(*cases.get(None, _NO_CASES), *escalations.get(None, _NO_ESCALATIONS))})
    return rows


def _by_service(rows) -> dict:
    """Rows grouped by subject type, summed per service."""
    out: dict = {}
    for subject, *values in rows:
        name = SERVICE_OF_SUBJECT.get(subject, subject or "other")
        out[name] = [a + float(b or 0) for a, b in zip(out.get(name, [0] * len(values)), values)]
    return out


def per_service(office_id: int, p: Period) -> dict:
    """Per service (green channel, priority, tests, tours): the same figures as per officer. Two statements."""
    cases = _by_service(_case_figures(office_id, p, OutboxMessage.subject_type))
    escalations = _by_service(_escalation_figures(office_id, p, Escalation.subject_type))
    return {name: _figures(*cases.get(name, _NO_CASES), *escalations.get(name, _NO_ESCALATIONS))
            for name in [*SERVICES, *sorted((set(cases) | set(escalations)) - set(SERVICES))]}


def by_month(office_id: int, p: Period) -> list[dict]:
    """Each month of the period: cases per service, follow-ups, answers, segments, escalations. Two statements."""
    month = _local_month(OutboxMessage.created_at, p).label("month")
    rows = db.session.execute(
        select(month, OutboxMessage.subject_type, func.count(OutboxMessage.id),
               count_if(OutboxMessage.status == MessageStatus.SENT),
               count_if(OutboxMessage.answer.is_not(None)), count_if(OutboxMessage.answer == Answer.SATISFIED),
               count_if(OutboxMessage.answer == Answer.DISSATISFIED), func.coalesce(func.sum(OutboxMessage.segments), 0))
        .where(OutboxMessage.office_id == office_id, OutboxMessage.kind == "follow_up",
               p.contains(OutboxMessage.created_at))
        .group_by(month, OutboxMessage.subject_type)
    ).all()
    opened_month = _local_month(Escalation.opened_at, p).label("month")
    escalations = dict(db.session.execute(
        select(opened_month, func.count(Escalation.id))
        .where(Escalation.office_id == office_id, p.contains(Escalation.opened_at)).group_by(opened_month)
    ).all())
    buckets = {m: {"month": m, "cases": 0, "by_service": dict.fromkeys(SERVICES, 0), "follow_ups_sent": 0,
                   "answered": 0, "satisfied": 0, "dissatisfied": 0, "segments": 0} for m in months(p)}
    for m, subject, n, sent, answered, ok, bad, segments in rows:
        bucket = buckets[m]
        name = SERVICE_OF_SUBJECT.get(subject, subject or "other")
        bucket["by_service"][name] = bucket["by_service"].get(name, 0) + int(n)
        for key, value in (("cases", n), ("follow_ups_sent", sent), ("answered", answered), ("satisfied", ok),
                           ("dissatisfied", bad), ("segments", segments)):
            bucket[key] += int(value)
    return [{**b, "satisfaction_rate": rate(b["satisfied"], b["satisfied"] + b["dissatisfied"]),
             "escalations": int(escalations.get(m, 0))} for m, b in sorted(buckets.items())]


# ---- the whole answer ------------------------------------------------------------------

def _satisfaction_chart(weekly: list[dict], monthly: list[dict], p: Period) -> dict:
    """Satisfaction by week for a quarter or less, by month beyond (five years of weeks is no chart)."""
    def pct(value):
        return round(value * 100, 2) if value is not None else None

    if (p.end - p.start).days < 92:
        return {"id": "satisfaction_by_week", "title": "满意率（按周）", "unit": "%",
                "points": [{"label": w["week"].strftime("%m-%d"), "value": pct(w["satisfaction_rate"])} for w in weekly]}
    return {"id": "satisfaction_by_month", "title": "满意率（按月）", "unit": "%",
            "points": [{"label": m["month"], "value": pct(m["satisfaction_rate"])} for m in monthly]}


def collect(office: Office, p: Period, now: datetime, highlight_after: timedelta,
            providers: Iterable[Callable] = ()) -> dict:
    weekly = satisfaction_by_week(office.id, p)
    monthly = by_month(office.id, p)
    answer = {
        "office": office.code, "from": p.start, "to": p.end, "generated_at": now,
        "green_channel": green_channel(office.id, p),
        "follow_ups": follow_ups(office.id, p),
        "texts": texts(office.id, p),
        "escalations": escalations(office.id, p, now, highlight_after),
        "handling": handling(office.id, p),
        "satisfaction_by_week": weekly,
        "by_month": monthly,
        "per_officer": per_officer(office.id, p),
        "per_service": per_service(office.id, p),
        "charts": [_satisfaction_chart(weekly, monthly, p)],
        "unavailable": [],
    }
    for provider in providers:
        name = getattr(provider, "__qualname__", repr(provider))
        try:
            with db.session.begin_nested():  # a failed query must not abort the request's transaction
                extra = provider(office.id, p.start, p.end) or {}
        except Exception:  # a broken package must not take the office's statistics down
            log.exception("stats provider %s failed", name)
            answer["unavailable"].append(name)
            continue
        _merge(answer, extra, name)
    return answer


def _merge(answer: dict, extra: dict, name: str) -> None:
    for key, value in extra.items():
        if key == "charts":
            answer["charts"].extend(value)
        elif key not in answer:
            answer[key] = value
        elif isinstance(answer[key], dict) and isinstance(value, dict):
            answer[key] = {**answer[key], **value}
        else:
            log.warning("stats provider %s: key %r is taken; ignored", name, key)
