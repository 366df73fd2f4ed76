"""Where a candidate stands: the learner permit, subjects passed under it, waiting days, bookings used, seniority.

The numbers come from `rules` (Order 162, articles 38-47); this module only applies them to one
candidate's record: their current learner permit (with the subjects passed under it) and their
bookings here.
"""
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, literal, select

from schedules.exams import rules
from schedules.exams.models import (
    Application, BookingStatus, ExamBooking, ExamSession, LearnerPermit, Outcome, PermitPass, PermitStatus,
)
from schedules.exams.settings import ExamSettings
from vmo.accounts.models import Candidate, User
from vmo.accounts.services import candidate_of
from vmo.clock import zone_named
from vmo.errors import NotFound, RuleViolation
from vmo.extensions import db
from vmo.offices.models import Office

SUBJECT_WORDS = {1: "科目一", 2: "科目二", 3: "科目三", 4: "科目四"}


def ineligible(reason: str, message: str, **extra) -> RuleViolation:
    # `reason` is a stable code for programs; the message is for the person.
    return RuleViolation(message, reason=reason, **extra)


@dataclass
class SubjectProgress:
    subject: int
    passed_on: date | None = None
    score: int | None = None
    attempts: int = 0
    no_shows: int = 0
    last_failed_on: date | None = None
    retest_from: date | None = None
    active_booking_id: int | None = None
    bookings_used: int | None = None
    bookings_left: int | None = None
    eligible_from: date | None = None
    eligible: bool = False
    reason: str | None = None
    message: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.passed_on is not None


@dataclass
class Progress:
    candidate: Candidate
    license_class: str
    permit: LearnerPermit | None
    permit_status: str | None
    seniority_date: date | None  # None when only the subjects were asked for (`standing`)
    subjects: list[SubjectProgress]
    accepted_at: datetime | None = None

    @property
    def candidate_id(self) -> int:
        return self.candidate.id

    @property
    def permit_issued_on(self) -> date | None:
        return self.permit.issued_on if self.permit else None

    @property
    def permit_expires_on(self) -> date | None:
        return self.permit.expires_on if self.permit else None

    def subject(self, number: int) -> SubjectProgress:
        return self.subjects[number - 1]


def current_permit(id_number: str) -> LearnerPermit | None:
    """The person's latest learner permit (valid, expired or voided), or None."""
    return db.session.scalar(select(LearnerPermit).where(LearnerPermit.id_number == id_number)
                             .order_by(LearnerPermit.issued_on.desc(), LearnerPermit.id.desc()).limit(1))


def _permit_and_acceptance(candidate: Candidate) -> tuple[LearnerPermit | None, datetime | None]:
    """The person's latest learner permit, and when their application for its class (without a permit:
    the class they signed up for) was accepted; None for either that does not exist.

    One statement, since every booking reads it: the permit is outer-joined to a one-row anchor, so the
    acceptance comes back even for a person without a permit.
    """
    anchor = select(literal(1).label("one")).subquery("anchor")
    accepted = (select(func.max(Application.accepted_at))
                .where(Application.id_number == candidate.id_number,
                       Application.license_class == func.coalesce(LearnerPermit.license_class,
                                                                  candidate.license_class))
                .correlate(LearnerPermit).scalar_subquery())
    permit, accepted_at = db.session.execute(
        select(LearnerPermit, accepted.label("accepted_at")).select_from(anchor)
        .outerjoin(LearnerPermit, LearnerPermit.id_number == candidate.id_number)
        .order_by(LearnerPermit.issued_on.desc(), LearnerPermit.id.desc()).limit(1)).one()
    return permit, accepted_at


def permit_status(permit: LearnerPermit | None, today: date) -> PermitStatus | None:
    if permit is None:
        return None
    if permit.voided_on is not None:
        return PermitStatus.VOID
    if today > permit.expires_on:
        return PermitStatus.EXPIRED
    return PermitStatus.VALID


def _record(candidate: Candidate, today: date, facts: tuple | None = None
            ) -> tuple[LearnerPermit | None, str | None, dict[int, SubjectProgress], datetime | None]:
    """The candidate's permit and bookings here, subject by subject, and when their application was
    accepted. `facts` is (permit, history, accepted_at) when the caller has read them already (the booking
    reads everything in one statement: `bookings.read_caller`); the permit then only needs the attributes
    read here, and the history rows those of the query below."""
    if facts is None:
        permit, accepted_at = _permit_and_acceptance(candidate)
        rows = db.session.execute(
            select(ExamBooking.id, ExamBooking.subject, ExamBooking.status, ExamBooking.outcome,
                   ExamBooking.active_key, ExamSession.local_date)
            .join(ExamSession, ExamSession.id == ExamBooking.session_id)
            .where(ExamBooking.candidate_id == candidate.id)
            .order_by(ExamSession.starts_at, ExamBooking.id)
        ).all()
    else:
        permit, rows, accepted_at = facts
    status = permit_status(permit, today)
    subjects = {s: SubjectProgress(s) for s in (1, 2, 3, 4)}
    if status == PermitStatus.VALID:
        for item in permit.passes:
            subjects[item.subject].passed_on, subjects[item.subject].score = item.passed_on, item.score
    if permit is not None:
        subjects[2].bookings_used, subjects[3].bookings_used = permit.prior_bookings_2, permit.prior_bookings_3
    for row in rows:
        item = subjects[row.subject]
        if row.active_key is not None:
            item.active_booking_id = row.id
        if row.outcome in (Outcome.PASSED, Outcome.FAILED):
            item.attempts += 1
        if row.outcome in (Outcome.FAILED, Outcome.NO_SHOW):
            # Article 46: a missed test is a failed sitting, with the same waiting days after it.
            item.no_shows += row.outcome == Outcome.NO_SHOW
            item.last_failed_on = row.local_date
        # Article 47 counts bookings within the permit: every seat held (a cancelled one is not).
        if (permit is not None and item.bookings_used is not None and row.status == BookingStatus.CONFIRMED
                and row.local_date >= permit.issued_on):
            item.bookings_used += 1
    return permit, status, subjects, accepted_at


def _problem(subjects: dict[int, SubjectProgress], number: int, permit: LearnerPermit | None, status: str | None,
             license_class: str, today: date, accepted_at: datetime | None) -> tuple[str, str, dict] | None:
    """Why the subject cannot be booked today (reason code, message, extra body fields), or None."""
    item = subjects[number]
    name = SUBJECT_WORDS[number]
    if accepted_at is None:
        return "not_accepted", (f"no application for class {license_class} has been accepted (受理) for this ID "
                                "number: nothing can be booked before the office or the driving school has "
                                "accepted it"), {}
    if number not in rules.subjects_for(license_class):
        sits = ", ".join(str(n) for n in rules.subjects_for(license_class))
        return "not_required", (f"class {license_class} does not sit subject {number}; its subjects are {sits} "
                                "(rule `subjects`)"), {}
    if item.passed:
        return "already_passed", f"subject {number} was passed on {item.passed_on.isoformat()}", {}
    if number == 1:
        return None
    if permit is None:
        how = ("it is issued when subject 1 is passed (or the office enters a permit from another centre)"
               if 1 in rules.subjects_for(license_class)
               else f"class {license_class} is added to a held licence without subject 1: the office enters it")
        return "permit_missing", f"subject {number} needs a learner permit; {how}", {}
    if status == PermitStatus.VOID:
        return "bookings_exhausted", (
            f"the learner permit of {permit.issued_on.isoformat()} was voided on {permit.voided_on.isoformat()} "
            "after a fifth failed booking; the subjects passed under it no longer count: book subject 1 again"), {}
    if status == PermitStatus.EXPIRED:
        return "permit_expired", (
            f"the learner permit expired on {permit.expires_on.isoformat()}; the subjects passed under it no "
            "longer count (article 38): book subject 1 again"), {}
    missing = [n for n in rules.needed_before(number, license_class) if not subjects[n].passed]
    if missing:
        words = " and ".join(str(n) for n in missing)
        return "subject_order", (f"subject {words} must be passed before subject {number} can be booked "
                                 "(article 42)"), {}
    limit = rules.max_bookings(number)
    if limit is not None and item.bookings_used >= limit:
        return "bookings_exhausted", (f"the {limit} bookings of subject {number} allowed within the learner permit "
                                      "are used (article 47)"), {}
    if item.eligible_from is not None and today < item.eligible_from:
        if item.retest_from is not None and item.eligible_from == item.retest_from:
            return "waiting_period", (
                f"{name} was failed or missed on {item.last_failed_on.isoformat()}; the next booking is possible "
                f"from {item.retest_from.isoformat()} (article 47: ten days)"), {
                "eligible_from": item.retest_from.isoformat()}
        days = rules.wait_days(number, license_class)
        return "permit_waiting", (
            f"subject {number} for class {license_class} can be booked {days} days after the learner permit "
            f"was issued ({permit.issued_on.isoformat()}), from {item.eligible_from.isoformat()} "
            f"(article {43 if number == 2 else 44})"), {"eligible_from": item.eligible_from.isoformat()}
    return None


def bookable_from(progress: "Progress", number: int, today: date) -> date | None:
    """The first day from `today` on which the candidate may book the subject, as their record stands.

    Asks the same rules as a booking (`_problem`), on today and on the day the waiting ends, and
    answers None when neither day is open: a rule other than a wait refuses it, the permit ends
    before the wait does, or an active booking of the subject is held. Result texts use it so they
    never announce a booking that would be refused.
    """
    item = progress.subject(number)
    if item.active_booking_id is not None:
        return None
    subjects = {s.subject: s for s in progress.subjects}
    for day in (today, item.eligible_from):
        if day is None or day < today:
            continue
        if number != 1 and progress.permit is not None and day > progress.permit.expires_on:
            return None
        if _problem(subjects, number, progress.permit, progress.permit_status, progress.license_class, day,
                    progress.accepted_at) is None:
            return day
    return None


def _subject_progress(candidate: Candidate, today: date, license_class: str | None = None, facts: tuple | None = None
                      ) -> tuple[LearnerPermit | None, str | None, str, dict[int, SubjectProgress], datetime | None]:
    permit, status, subjects, accepted_at = _record(candidate, today, facts)
    license_class = license_class or (permit.license_class if permit is not None else candidate.license_class)
    for number, item in subjects.items():
        limit = rules.max_bookings(number)
        if limit is not None and item.bookings_used is not None:
            item.bookings_left = max(limit - item.bookings_used, 0)
        if number in (2, 3) and item.last_failed_on is not None and not item.passed:
            item.retest_from = item.last_failed_on + rules.rebook_wait()
        wait = rules.wait_days(number, license_class)
        if status == PermitStatus.VALID and not item.passed and wait is not None:
            dates = [permit.issued_on + timedelta(days=wait)]
            if item.retest_from is not None:
                dates.append(item.retest_from)
            item.eligible_from = max(dates)
        problem = _problem(subjects, number, permit, status, license_class, today, accepted_at)
        item.eligible = problem is None and item.active_booking_id is None
        if problem is not None:
            item.reason, item.message, item.extra = problem
        elif item.active_booking_id is not None:
            item.reason, item.message = "active_booking", f"booking {item.active_booking_id} is still active"
    return permit, status, license_class, subjects, accepted_at


def check_eligible(candidate: Candidate, session: ExamSession, settings: ExamSettings,
                   today: date, facts: tuple | None = None) -> SubjectProgress:
    """Raise the rule a booking of `session` would break (422 with its reason code), or return where the
    candidate stands in its subject (its `active_booking_id` is a booking this one would duplicate).
    `facts`: the candidate's (permit, history, accepted_at) already read (see `_record`)."""
    permit, status, license_class, subjects, accepted_at = _subject_progress(candidate, today, facts=facts)
    if not session.serves(license_class):
        raise ineligible("license_class", f"this session is for licence class {', '.join(session.license_classes)}; "
                                           f"you are training for {license_class}")
    problem = _problem(subjects, session.subject, permit, status, license_class, today, accepted_at)
    if problem is not None:
        reason, message, extra = problem
        raise ineligible(reason, message, **extra)
    if session.subject in (2, 3, 4) and session.local_date > permit.expires_on:
        raise ineligible("permit_expired", f"the learner permit is valid until {permit.expires_on.isoformat()}; "
                                           f"session {session.id} is on {session.local_date.isoformat()}")
    return subjects[session.subject]


def progress(candidate: Candidate, settings: ExamSettings, today: date) -> Progress:
    """Where the candidate stands in each subject, and their seniority date for the next draw."""
    permit, status, license_class, subjects, accepted_at = _subject_progress(candidate, today)
    ranked = seniority([candidate.id])[candidate.id]
    return Progress(candidate, license_class, permit, status, ranked.astimezone(candidate_zone(candidate)).date(),
                    list(subjects.values()), accepted_at)


def standing(candidate: Candidate, today: date) -> Progress:
    """Where the candidate stands in each subject today, without the seniority date (one query fewer)."""
    permit, status, license_class, subjects, accepted_at = _subject_progress(candidate, today)
    return Progress(candidate, license_class, permit, status, None, list(subjects.values()), accepted_at)


def my_progress(user: User, settings: ExamSettings, today: date) -> Progress:
    return progress(candidate_of(user), settings, today)


def office_candidate(staff: User, candidate_id: int) -> Candidate:
    candidate = db.session.scalar(select(Candidate).where(Candidate.id == candidate_id,
                                                          Candidate.office_id == staff.office_id))
    if candidate is None:
        raise NotFound(f"no candidate {candidate_id}")
    return candidate


def candidate_progress(staff: User, candidate_id: int, settings: ExamSettings, today: date) -> Progress:
    return progress(office_candidate(staff, candidate_id), settings, today)


def seniority(candidate_ids: Iterable[int]) -> dict[int, datetime]:
    """How long each candidate has waited, the way 交管12123 ranks bookings (see rules.RULES["ballot_order"]):
    an instant, to the second.

    The latest of: when their application for the class was accepted (受理, to the second), their last
    test (its start; passed, failed or missed; a pass entered from another centre counts from the start
    of its day, office time) and when they last gave up a confirmed seat. So a first subject 1 counts
    from acceptance, anything else from the last test, and a cancellation or a no-show moves the
    candidate back. A seat the office cancelled moves nobody. (Without an accepted application, which
    no booking allows any more, the account's creation stands in for it.)
    """
    ids = sorted(set(candidate_ids))
    if not ids:
        return {}
    moments: dict[int, datetime] = {}

    def later(candidate_id: int, moment: datetime) -> None:
        moment = moment.replace(microsecond=0)
        moments[candidate_id] = max(moments.get(candidate_id, moment), moment)

    accepted = (select(func.max(Application.accepted_at))
                .where(Application.id_number == Candidate.id_number,
                       Application.license_class == Candidate.license_class)
                .correlate(Candidate).scalar_subquery())
    zones: dict[int, ZoneInfo] = {}
    id_numbers: dict[str, int] = {}
    for cand_id, id_number, created_at, accepted_at, tz in db.session.execute(
            select(Candidate.id, Candidate.id_number, Candidate.created_at, accepted, Office.timezone)
            .join(Office, Office.id == Candidate.office_id).where(Candidate.id.in_(ids))):
        zones[cand_id] = zone_named(tz)
        id_numbers[id_number] = cand_id
        later(cand_id, accepted_at or created_at)
    for cand_id, starts_at in db.session.execute(
            select(ExamBooking.candidate_id, ExamSession.starts_at)
            .join(ExamSession, ExamSession.id == ExamBooking.session_id)
            .where(ExamBooking.candidate_id.in_(ids), ExamBooking.outcome.is_not(None))):
        later(cand_id, starts_at)
    for cand_id, forfeited_at in db.session.execute(
            select(ExamBooking.candidate_id, ExamBooking.forfeited_at)
            .where(ExamBooking.candidate_id.in_(ids), ExamBooking.forfeited_at.is_not(None))):
        later(cand_id, forfeited_at)
    for id_number, passed_on in db.session.execute(
            select(LearnerPermit.id_number, PermitPass.passed_on)
            .join(PermitPass, PermitPass.permit_id == LearnerPermit.id)
            .where(LearnerPermit.id_number.in_(list(id_numbers)))):
        cand_id = id_numbers[id_number]
        later(cand_id, datetime.combine(passed_on, time(0), tzinfo=zones[cand_id]))
    return moments


def candidate_zone(candidate: Candidate) -> ZoneInfo:
    return zone_named(db.session.get(Office, candidate.office_id).timezone)
