"""Where a candidate stands: subjects passed, waiting periods after a failure, and seniority for the draw."""
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from schedules.exams.models import ExamBooking, ExamSession
from schedules.exams.settings import ExamSettings, local_date
from vmo.accounts.models import Candidate, User
from vmo.accounts.services import candidate_of
from vmo.clock import zone_named
from vmo.errors import NotFound, RuleViolation
from vmo.extensions import db
from vmo.offices.models import Office


def ineligible(reason: str, message: str, **extra) -> RuleViolation:
    # `reason` is a stable code for programs; the message is for the person.
    return RuleViolation(message, reason=reason, **extra)


@dataclass
class SubjectProgress:
    subject: int
    passed_on: date | None = None
    attempts: int = 0
    no_shows: int = 0
    last_failed_on: date | None = None
    retest_from: date | None = None
    active_booking_id: int | None = None
    eligible: bool = False
    reason: str | None = None
    message: str | None = None

    @property
    def passed(self) -> bool:
        return self.passed_on is not None


@dataclass
class Progress:
    candidate: Candidate
    seniority_date: date
    subjects: list[SubjectProgress]

    @property
    def candidate_id(self) -> int:
        return self.candidate.id

    @property
    def license_class(self) -> str:
        return self.candidate.license_class


def _subject_progress(candidate: Candidate, settings: ExamSettings, today: date) -> dict[int, SubjectProgress]:
    office = db.session.get(Office, candidate.office_id)
    rows = db.session.execute(
        select(ExamBooking.id, ExamBooking.subject, ExamBooking.outcome, ExamBooking.active_key,
               ExamSession.starts_at)
        .join(ExamSession, ExamSession.id == ExamBooking.session_id)
        .where(ExamBooking.candidate_id == candidate.id)
        .order_by(ExamSession.starts_at, ExamBooking.id)
    ).all()
    subjects = {s: SubjectProgress(s) for s in (1, 2, 3, 4)}
    for row in rows:
        item = subjects[row.subject]
        exam_day = local_date(row.starts_at, office)
        if row.active_key is not None:
            item.active_booking_id = row.id
        if row.outcome == "passed":
            item.attempts += 1
            item.passed_on = item.passed_on or exam_day
        elif row.outcome == "failed":
            item.attempts += 1
            item.last_failed_on = exam_day
        elif row.outcome == "no_show":
            item.no_shows += 1
    for item in subjects.values():
        if item.last_failed_on is not None and item.subject in (2, 3) and not item.passed:
            item.retest_from = item.last_failed_on + timedelta(days=settings.retest_wait_days)
        problem = _eligibility_problem(subjects, item.subject, settings, today)
        item.eligible = problem is None and item.active_booking_id is None
        if problem is not None:
            item.reason, item.message = problem[0], problem[1]
        elif item.active_booking_id is not None:
            item.reason, item.message = "active_booking", f"booking {item.active_booking_id} is still active"
    return subjects


def _eligibility_problem(subjects: dict[int, SubjectProgress], subject: int, settings: ExamSettings,
                         today: date) -> tuple[str, str, dict] | None:
    item = subjects[subject]
    if item.passed:
        return "already_passed", f"subject {subject} was passed on {item.passed_on.isoformat()}", {}
    if subject in (2, 3) and not subjects[1].passed:
        return "subject_order", f"subject 1 must be passed before subject {subject} can be booked", {}
    if subject == 4 and not subjects[3].passed:
        return "subject_order", "subject 3 must be passed before subject 4 can be booked", {}
    if item.retest_from is not None and today < item.retest_from:
        return ("waiting_period",
                f"subject {subject} was failed on {item.last_failed_on.isoformat()}; after a failed subject "
                f"{subject} the next booking is possible from {item.retest_from.isoformat()} "
                f"({settings.retest_wait_days} days)",
                {"eligible_from": item.retest_from.isoformat()})
    return None


def check_eligible(candidate: Candidate, session: ExamSession, settings: ExamSettings, today: date) -> None:
    if candidate.license_class != session.license_class:
        raise ineligible("license_class", f"this session is for licence class {session.license_class}; "
                                           f"you are training for {candidate.license_class}")
    subjects = _subject_progress(candidate, settings, today)
    problem = _eligibility_problem(subjects, session.subject, settings, today)
    if problem is not None:
        reason, message, extra = problem
        raise ineligible(reason, message, **extra)


def progress(candidate: Candidate, settings: ExamSettings, today: date) -> Progress:
    """Where the candidate stands in each subject, and their seniority date for the next draw."""
    subjects = _subject_progress(candidate, settings, today)
    return Progress(candidate, seniority_dates([candidate.id])[candidate.id], list(subjects.values()))


def my_progress(user: User, settings: ExamSettings, today: date) -> Progress:
    return progress(candidate_of(user), settings, today)


def candidate_progress(staff: User, candidate_id: int, settings: ExamSettings, today: date) -> Progress:
    candidate = db.session.scalar(select(Candidate).where(Candidate.id == candidate_id,
                                                          Candidate.office_id == staff.office_id))
    if candidate is None:
        raise NotFound(f"no candidate {candidate_id}")
    return progress(candidate, settings, today)


def seniority_dates(candidate_ids: Iterable[int]) -> dict[int, date]:
    """How long each candidate has waited, the way the national booking system ranks them.

    The latest of: the day their application was accepted (account created), the day of their
    last exam (passed, failed or missed) and the day they last gave up a confirmed seat. So a
    first subject 1 counts from acceptance, a retake from the last exam, and a cancellation or
    a no-show moves the candidate back.
    """
    ids = sorted(set(candidate_ids))
    if not ids:
        return {}
    dates: dict[int, date] = {}

    def later(candidate_id: int, day: date) -> None:
        dates[candidate_id] = max(dates.get(candidate_id, day), day)

    zones: dict[int, ZoneInfo] = {}
    for cand_id, created_at, tz in db.session.execute(
            select(Candidate.id, Candidate.created_at, Office.timezone)
            .join(Office, Office.id == Candidate.office_id).where(Candidate.id.in_(ids))):
        zones[cand_id] = zone_named(tz)
        later(cand_id, created_at.astimezone(zones[cand_id]).date())
    for cand_id, starts_at in db.session.execute(
            select(ExamBooking.candidate_id, ExamSession.starts_at)
            .join(ExamSession, ExamSession.id == ExamBooking.session_id)
            .where(ExamBooking.candidate_id.in_(ids), ExamBooking.outcome.is_not(None))):
        later(cand_id, starts_at.astimezone(zones[cand_id]).date())
    for cand_id, forfeited_at in db.session.execute(
            select(ExamBooking.candidate_id, ExamBooking.forfeited_at)
            .where(ExamBooking.candidate_id.in_(ids), ExamBooking.forfeited_at.is_not(None))):
        later(cand_id, forfeited_at.astimezone(zones[cand_id]).date())
    return dates

