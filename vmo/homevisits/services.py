"""Home visits: requested by staff for a person who cannot come to the hall, given to one officer with a
day and a window (the person is texted), ended by that officer with an outcome; `done` is a finished case
and queues the satisfaction follow-up, whose escalations go to that officer and their supervisor."""
from datetime import date, datetime, timedelta

from sqlalchemy import Select, and_, case, func, select, update
from sqlalchemy.orm import joinedload

from vmo import uow
from vmo.accounts.models import Role, User
from vmo.audit import services as audit
from vmo.errors import Conflict, Forbidden, NotFound, field_error
from vmo.extensions import db
from vmo.homevisits import notifications as texts
from vmo.homevisits.models import HomeVisit, VisitOutcome, VisitStatus
from vmo.homevisits.settings import HomeVisitSettings
from vmo.notify import services as notify
from vmo.offices.models import Office

SUBJECT = "home_visit"  # the follow-up's and the audit entries' subject type
# A visit may be given an officer and a day while it waits, again while scheduled (moved), and again
# after nobody was home (another try); a visit done or cancelled is over.
ASSIGNABLE = (VisitStatus.REQUESTED, VisitStatus.SCHEDULED, VisitStatus.NOT_HOME)


def _month_day(day: date) -> str:
    return f"{day.month}月{day.day}日"


def _strip(data: dict, *names: str) -> dict:
    """Text fields without their surrounding spaces; one left empty is refused by name."""
    out = dict(data)
    for name in names:
        out[name] = (data.get(name) or "").strip()
        if not out[name]:
            raise field_error(name, "must not be blank")
    return out


# ---- requests ---------------------------------------------------------------------------

def request_visit(user: User, data: dict, today: date, now: datetime) -> HomeVisit:
    """Record a visit asked for on the person's behalf (by phone or at the counter): status `requested`."""
    data = _strip(data, "name", "address", "township", "business")
    if data.get("wanted_date") is not None and data["wanted_date"] < today:
        raise field_error("wanted_date", "the date is in the past")
    visit = HomeVisit(office_id=user.office_id, name=data["name"], phone=data["phone"], address=data["address"],
                      township=data["township"], reason=data["reason"], business=data["business"],
                      wanted_date=data.get("wanted_date"), status=VisitStatus.REQUESTED, requested_by_id=user.id,
                      requested_at=now, requested_on=today)
    db.session.add(visit)
    db.session.flush()
    audit.record("home_visit.request", SUBJECT, visit.id, actor=user,
                 after={"reason": visit.reason, "township": visit.township, "business": visit.business,
                        "wanted_date": visit.wanted_date})
    return visit


def _visible(user: User) -> Select:
    return (select(HomeVisit).where(HomeVisit.office_id == user.office_id)
            .options(joinedload(HomeVisit.officer)))


def get_visit(user: User, visit_id: int) -> HomeVisit:
    """One of the office's visits; another office's is 404, as if it did not exist."""
    visit = db.session.scalar(_visible(user).where(HomeVisit.id == visit_id))
    if visit is None:
        raise NotFound(f"no home visit {visit_id}")
    return visit


def list_visits(user: User, status: str | None = None, day: date | None = None) -> Select:
    """The office's visits, by day (those without one first: they wait for an officer), then window."""
    stmt = _visible(user)
    if status:
        stmt = stmt.where(HomeVisit.status == status)
    if day:
        stmt = stmt.where(HomeVisit.date == day)
    return stmt.order_by(HomeVisit.date.is_not(None), HomeVisit.date, HomeVisit.window_from, HomeVisit.id)


# ---- assignment -------------------------------------------------------------------------

def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _check_window(data: dict, today: date, settings: HomeVisitSettings) -> None:
    day = data["date"]
    if day < today:
        raise field_error("date", "the date is in the past")
    if day > today + timedelta(days=settings.max_days_ahead):
        raise field_error("date", f"at most {settings.max_days_ahead} days ahead")
    start, end = _minutes(data["window_from"]), _minutes(data["window_until"])
    if start >= end:
        raise field_error("window_until", "must be after window_from")
    first = settings.hours_from.hour * 60 + settings.hours_from.minute
    last = settings.hours_until.hour * 60 + settings.hours_until.minute
    if start < first or end > last:
        raise field_error("window_from" if start < first else "window_until",
                          f"visits are made between {settings.hours_from:%H:%M} and {settings.hours_until:%H:%M}")
    if end - start > settings.max_window_hours * 60:
        raise field_error("window_until", f"a window is at most {settings.max_window_hours:g} hours: "
                                          "the person waits at home for all of it")


def _officer(office_id: int, username: str) -> User:
    officer = db.session.scalar(select(User).where(User.office_id == office_id, User.username == username.strip(),
                                                   User.role == Role.OFFICER))
    if officer is None:
        raise field_error("officer", f"no officer {username} in this office")
    return officer


def assign(user: User, visit_id: int, data: dict, today: date, now: datetime,
           settings: HomeVisitSettings) -> HomeVisit:
    """Give the visit an officer, a day and a window (office time); the person is texted them.

    Assigning again moves the visit (a new text goes out for the new day or window, none for the same).
    """
    visit = get_visit(user, visit_id)
    _check_window(data, today, settings)
    officer = _officer(user.office_id, data["officer"])
    if visit.status not in ASSIGNABLE:
        raise Conflict(f"home visit {visit_id} is {visit.status}: it can no longer be assigned", reason="ended")
    before = {"status": visit.status, "officer_id": visit.officer_id, "date": visit.date,
              "window": visit.window_from and f"{visit.window_from}-{visit.window_until}"}
    # Guarded: an outcome recorded meanwhile is not overwritten.
    changed = db.session.execute(
        update(HomeVisit).where(HomeVisit.id == visit.id, HomeVisit.status.in_(ASSIGNABLE))
        .values(status=VisitStatus.SCHEDULED, officer_id=officer.id, date=data["date"],
                window_from=data["window_from"], window_until=data["window_until"], assigned_by_id=user.id,
                assigned_at=now, outcome=None, note=None, recorded_at=None, outcome_at=None,
                outcome_client_id=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise Conflict(f"home visit {visit_id} was ended just now", reason="ended")
    audit.record("home_visit.assign", SUBJECT, visit.id, actor=user, before=before,
                 after={"status": VisitStatus.SCHEDULED, "officer_id": officer.id, "date": data["date"],
                        "window": f"{data['window_from']}-{data['window_until']}"})
    office = db.session.get(Office, visit.office_id)
    notify.queue(visit.office_id, visit.phone,
                 texts.VISIT_SCHEDULED.render(name=visit.name, badge=officer.badge_number or officer.id,
                                              date=_month_day(data["date"]), window_from=data["window_from"],
                                              window_until=data["window_until"], business=visit.business,
                                              phone=office.phone or "本所窗口"),
                 kind="home_visit", subject_type=SUBJECT, subject_id=visit.id, officer_id=officer.id,
                 key=f"home_visit:{visit.id}:{data['date'].isoformat()}:{data['window_from']}-{data['window_until']}")
    uow.flush()
    return get_visit(user, visit_id)


# ---- the outcome ------------------------------------------------------------------------

def record_outcome(user: User, visit_id: int, data: dict, now: datetime) -> HomeVisit:
    """The assigned officer ends the visit: done, not_home or cancelled. Only that officer may.

    With the tablet's `client_id`, the same outcome sent again (a sync whose answer was lost) changes
    nothing and answers the visit. `done` queues the follow-up, to the person, naming this officer.
    """
    visit = get_visit(user, visit_id)
    if visit.officer_id != user.id:
        raise Forbidden(f"home visit {visit_id} is not assigned to you: only its officer records the outcome",
                        reason="not_assigned")
    client_id = str(data["client_id"]) if data.get("client_id") else None
    if client_id and visit.outcome_client_id == client_id:
        return visit  # this outcome, already recorded
    if visit.status != VisitStatus.SCHEDULED:
        raise Conflict(f"home visit {visit_id} already has its outcome ({visit.status})", reason="ended")
    outcome = VisitOutcome(data["outcome"])
    note = (data.get("note") or "").strip() or None
    changed = db.session.execute(
        update(HomeVisit).where(HomeVisit.id == visit.id, HomeVisit.status == VisitStatus.SCHEDULED,
                                HomeVisit.officer_id == user.id)
        .values(status=VisitStatus(outcome.value), outcome=outcome, note=note,
                recorded_at=data.get("recorded_at") or now, outcome_at=now, outcome_client_id=client_id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise Conflict(f"home visit {visit_id} was changed just now; look at it again", reason="ended")
    audit.record("home_visit.outcome", SUBJECT, visit.id, actor=user, before={"status": VisitStatus.SCHEDULED},
                 after={"status": outcome.value, "note": note, "client_id": client_id})
    if outcome == VisitOutcome.DONE:
        # A finished case: one follow-up, whose answer and escalations belong to this officer.
        notify.queue(visit.office_id, visit.phone,
                     texts.VISIT_FOLLOW_UP.render(badge=user.badge_number or user.id),
                     kind="follow_up", key=f"follow_up:{SUBJECT}:{visit.id}", subject_type=SUBJECT,
                     subject_id=visit.id, officer_id=user.id)
    uow.flush()
    return get_visit(user, visit_id)


# ---- for the officer's tablet and the phone reveal ------------------------------------------

def scheduled_for(officer: User, first: date, last: date) -> list[HomeVisit]:
    """The officer's scheduled visits from `first` to `last` (office-local days), in visiting order."""
    return list(db.session.scalars(
        select(HomeVisit).where(HomeVisit.office_id == officer.office_id, HomeVisit.officer_id == officer.id,
                                HomeVisit.status == VisitStatus.SCHEDULED, HomeVisit.date >= first,
                                HomeVisit.date <= last)
        .order_by(HomeVisit.date, HomeVisit.window_from, HomeVisit.id)))


def phone_of(office_id: int, visit_id: str) -> str:
    """The person's phone, for POST /phones/reveal (vmo.audit.phones: staff of the office, audited)."""
    phone = None
    if visit_id.isascii() and visit_id.isdigit() and int(visit_id) <= 2**31 - 1:
        phone = db.session.scalar(select(HomeVisit.phone).where(HomeVisit.id == int(visit_id),
                                                                HomeVisit.office_id == office_id))
    if phone is None:
        raise NotFound(f"no home visit {visit_id}")
    return phone


# ---- statistics (vmo.hooks.STATS_PROVIDERS) -------------------------------------------------

def _count_if(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _month(value) -> str:
    return str(value)[:7]  # a DATE column's value (SQLite gives text) as YYYY-MM


def _months(start: date, end: date) -> list[str]:
    out, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def figures(office_id: int, start: date, end: date) -> dict:
    """Requests by their day, visits by theirs (local dates, both ends included); per officer and month.
    Three statements, grouped by day and summed into months here."""
    status = HomeVisit.status
    on_day = and_(HomeVisit.office_id == office_id, HomeVisit.date >= start, HomeVisit.date <= end)
    per_day = db.session.execute(
        select(HomeVisit.date, _count_if(status == VisitStatus.SCHEDULED), _count_if(status == VisitStatus.DONE),
               _count_if(status == VisitStatus.NOT_HOME), _count_if(status == VisitStatus.CANCELLED))
        .where(on_day).group_by(HomeVisit.date)
    ).all()
    requested = db.session.execute(
        select(HomeVisit.requested_on, func.count(HomeVisit.id))
        .where(HomeVisit.office_id == office_id, HomeVisit.requested_on >= start, HomeVisit.requested_on <= end)
        .group_by(HomeVisit.requested_on)
    ).all()
    per_officer = db.session.execute(
        select(User.username, User.display_name, User.badge_number, _count_if(status == VisitStatus.SCHEDULED),
               _count_if(status == VisitStatus.DONE), _count_if(status == VisitStatus.NOT_HOME),
               _count_if(status == VisitStatus.CANCELLED))
        .select_from(HomeVisit).join(User, User.id == HomeVisit.officer_id)
        .where(on_day).group_by(User.username, User.display_name, User.badge_number).order_by(User.username)
    ).all()
    months = {m: {"month": m, "requested": 0, "done": 0, "not_home": 0, "cancelled": 0} for m in _months(start, end)}
    totals = {"scheduled": 0, "done": 0, "not_home": 0, "cancelled": 0}
    for day, scheduled, done, not_home, cancelled in per_day:
        bucket = months[_month(day)]
        for key, n in (("scheduled", scheduled), ("done", done), ("not_home", not_home), ("cancelled", cancelled)):
            totals[key] += int(n)
            if key in bucket:
                bucket[key] += int(n)
    for day, n in requested:
        months[_month(day)]["requested"] += int(n)
    return {
        "requested": sum(int(n) for _, n in requested), **totals,
        "per_officer": [{"username": u, "display_name": name, "badge_number": badge, "scheduled": int(s),
                         "done": int(d), "not_home": int(nh), "cancelled": int(c)}
                        for u, name, badge, s, d, nh, c in per_officer],
        "by_month": list(months.values()),
    }
