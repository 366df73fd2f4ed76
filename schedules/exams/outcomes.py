"""Results of a sitting: one booking or a whole session at once, with scores, retakes and what follows.

A sitting is one attempt and, after a fail, one retake the same day (补考, article 47); its
outcome is `passed`, `failed` (the retake failed or was not taken) or `no_show`, which counts as
a failed sitting (article 46). What follows is in the candidate's record: a subject 1 pass issues
the learner permit (article 41), a pass is kept under the permit, and the fifth failed booking of
subject 2 or 3 voids the permit's passes (article 47).
"""
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, update

from schedules.exams import notifications as texts
from schedules.exams import permits, rules
from schedules.exams.eligibility import (
    SUBJECT_WORDS, Progress, _subject_progress, bookable_from, current_permit, standing,
)
from schedules.exams.models import BookingStatus, ExamBooking, ExamSession, Outcome, PermitStatus, SessionStatus
from schedules.exams.services import get_booking, get_session, sitting
from vmo import uow
from vmo.accounts.models import Candidate, User
from vmo.audit import services as audit
from vmo.errors import Conflict, RuleViolation
from vmo.extensions import db
from vmo.notify import services as notify
from vmo.types import values


@dataclass
class Result:
    """One row of a session's results as recorded (or found already recorded)."""

    booking: ExamBooking
    changed: bool

    def __getattr__(self, name):
        return getattr(self.booking, name)


def score_problems(subject: int, license_class: str, outcome: str, score: int | None,
                   retake_score: int | None) -> list[str]:
    """What is wrong with a result's scores for its outcome (rule `pass_marks`), as sentences."""
    if outcome not in values(Outcome):
        return [f"outcome must be one of {', '.join(Outcome)}"]
    mark = rules.pass_mark(subject, license_class)
    if outcome == Outcome.NO_SHOW:
        return ["a candidate who did not come has no score"] if score is not None or retake_score is not None else []
    if score is None:
        return ["retake_score needs the score of the first attempt"] if retake_score is not None else []
    if retake_score is not None and score >= mark:
        return [f"a first attempt of {score} passes (mark {mark}); there is no retake"]
    if outcome == Outcome.PASSED and score < mark and (retake_score is None or retake_score < mark):
        return [f"passed needs {mark} or more in the attempt or the retake (subject {subject}, class {license_class})"]
    if outcome == Outcome.FAILED and (score >= mark or (retake_score is not None and retake_score >= mark)):
        return [f"a score of {retake_score if retake_score is not None else score} passes subject {subject} "
                f"(mark {mark}); the outcome is passed"]
    return []


def _date_words(day: date) -> str:
    return f"{day:%m月%d日}"


def _openings(progress: Progress, today: date) -> str:
    """The subjects still to pass and when each may be booked, as the booking rules answer today."""
    parts = []
    for number in rules.subjects_for(progress.license_class):
        if number == 1 or progress.subject(number).passed:
            continue
        day = bookable_from(progress, number, today)
        if day == today:
            parts.append(texts.OPEN_NOW.render(subject=SUBJECT_WORDS[number]))
        elif day is not None:
            parts.append(texts.OPEN_FROM.render(subject=SUBJECT_WORDS[number], when=_date_words(day)))
    return "，".join(parts)


def _next_words(candidate: Candidate, subject: int, outcome: str, today: date) -> str:
    """What the candidate may book next, for the result text: asked of the same rules a booking asks."""
    progress = standing(candidate, today)
    permit, path = progress.permit, rules.subjects_for(progress.license_class)
    if outcome == Outcome.PASSED:
        if all(progress.subject(n).passed for n in path):
            return texts.NEXT_DONE.render()
        openings = _openings(progress, today)
        if subject == 1 and permit is not None and openings:
            return texts.NEXT_PERMIT.render(expires=f"{permit.expires_on:%Y年%m月%d日}", openings=openings)
        return texts.NEXT_OPENINGS.render(openings=openings) if openings else texts.NEXT_NOTHING_OPEN.render()
    if progress.permit_status == PermitStatus.VOID:
        return texts.NEXT_VOID.render()
    item = progress.subject(subject)
    day = bookable_from(progress, subject, today)
    if item.bookings_left is not None and permit is not None:
        if day is None:
            return texts.NEXT_REBOOK_CLOSED.render(used=item.bookings_used, left=item.bookings_left,
                                                   expires=f"{permit.expires_on:%Y年%m月%d日}")
        return texts.NEXT_REBOOK.render(used=item.bookings_used, left=item.bookings_left, when=_date_words(day))
    if day is None:
        return texts.NEXT_NOTHING_OPEN.render()
    if day == today:
        return texts.NEXT_REBOOK_UNLIMITED.render()
    return texts.NEXT_OPENINGS.render(openings=texts.OPEN_FROM.render(subject=SUBJECT_WORDS[subject],
                                                                       when=_date_words(day)))


def _score_words(score: int | None, retake_score: int | None) -> str:
    if score is None:
        return ""
    if retake_score is None:
        return texts.SCORE.render(score=score)
    return texts.SCORE_WITH_RETAKE.render(score=score, retake=retake_score)


def _apply(officer: User, row: ExamBooking, outcome: str, score: int | None, retake_score: int | None,
           now: datetime, today: date) -> None:
    """Record one outcome and what follows from it (permit, pass, void, texts). Does not commit."""
    recorded = db.session.execute(
        update(ExamBooking).where(ExamBooking.id == row.id, ExamBooking.outcome.is_(None),
                                  ExamBooking.status == BookingStatus.CONFIRMED)
        .values(outcome=outcome, score=score, retake_score=retake_score, outcome_at=now, outcome_by_id=officer.id,
                active_key=None, updated_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if recorded != 1:
        raise Conflict(f"booking {row.id} got its outcome at the same moment; reload it")
    db.session.refresh(row)
    session: ExamSession = row.session
    candidate = db.session.get(Candidate, row.candidate_id)
    day = session.local_date
    final = retake_score if retake_score is not None else score
    permit = current_permit(candidate.id_number)
    if outcome == Outcome.PASSED:
        if row.subject == 1:
            permits.issue_for_subject_1(candidate, row.id, day, final, now)
        elif permit is not None and permit.voided_on is None and day <= permit.expires_on:
            permits.add_pass(permit, row.subject, row.id, day, final)
    elif row.subject in (2, 3) and permit is not None and permit.voided_on is None:
        _, status, _, subjects, _ = _subject_progress(candidate, today)
        limit = rules.max_bookings(row.subject)
        if subjects[row.subject].bookings_used >= limit:
            permits.void(permit, day, "bookings_exhausted", now)
    audit.record("exam_booking.outcome", "exam_booking", row.id, actor=officer, before={"outcome": None},
                 after={"outcome": outcome, "score": score, "retake_score": retake_score})
    db.session.flush()
    template = {Outcome.PASSED: texts.RESULT_PASSED, Outcome.FAILED: texts.RESULT_FAILED,
                Outcome.NO_SHOW: texts.RESULT_NO_SHOW}[outcome]
    notify.queue(row.office_id, candidate.phone,
                 template.render(**sitting(session), score=_score_words(score, retake_score),
                                 next=_next_words(candidate, row.subject, outcome, today)),
                 kind="exam_result", key=f"exam:result:{row.id}", subject_type="exam_booking", subject_id=row.id)
    if outcome != Outcome.NO_SHOW:
        # A finished case: one follow-up text (satisfaction survey), naming the examiner by badge; a
        # dissatisfied reply opens its escalation with them (and so their supervisor).
        examiner = sitting_examiner(session, officer)
        notify.queue(row.office_id, candidate.phone,
                     texts.FOLLOW_UP.render(subject=SUBJECT_WORDS[row.subject],
                                            badge=examiner.badge_number or examiner.id),
                     kind="follow_up", key=f"follow_up:exam_booking:{row.id}", subject_type="exam_booking",
                     subject_id=row.id, officer_id=examiner.id)


def sitting_examiner(session: ExamSession, keyed_by: User) -> User:
    """Who answers for a sitting: the session's first examiner; with none named, whoever keyed the
    results (the only officer the record knows took part)."""
    examiners = session.examiners
    return db.session.get(User, examiners[0]) if examiners else keyed_by


def _license_class_of(candidate: Candidate) -> str:
    permit = current_permit(candidate.id_number)
    return permit.license_class if permit is not None else candidate.license_class


def _row_problems(row: ExamBooking | None, item: dict, session_id: int | None) -> tuple[list[str], bool]:
    """(problems, already recorded the same way) for one result row."""
    if row is None or (session_id is not None and row.session_id != session_id):
        where = f" of session {session_id}" if session_id is not None else ""
        return [f"no booking {item['booking_id']}{where}"], False
    if row.outcome is not None:
        same = (row.outcome, row.score, row.retake_score) == (item["outcome"], item.get("score"),
                                                              item.get("retake_score"))
        return ([] if same else [f"booking {row.id} already has the outcome {row.outcome}"]), same
    if row.status != BookingStatus.CONFIRMED:
        return [f"booking {row.id} is {row.status}; only a confirmed booking has an outcome"], False
    candidate = db.session.get(Candidate, row.candidate_id)
    return score_problems(row.subject, _license_class_of(candidate), item["outcome"], item.get("score"),
                          item.get("retake_score")), False


def _check_started(session: ExamSession, now: datetime) -> None:
    if session.status == SessionStatus.CANCELLED:
        raise Conflict(f"session {session.id} was cancelled; it has no results", reason="session_cancelled")
    if now < session.starts_at:
        raise RuleViolation(f"session {session.id} has not started yet; record the outcome after the test",
                            reason="session_not_started")


def record_outcome(officer: User, booking_id: int, data: dict, now: datetime, today: date) -> ExamBooking:
    """Record passed, failed or no_show (with scores) for one confirmed booking; the record follows."""
    row = get_booking(officer, booking_id)
    problems, same = _row_problems(row, {"booking_id": booking_id, **data}, None)
    if same:
        return row  # the same answer again (a retry) changes nothing
    if problems and row.outcome is not None:
        raise Conflict(problems[0])
    if problems and row.status != BookingStatus.CONFIRMED:
        raise Conflict(problems[0])
    if problems:
        raise RuleViolation(problems[0], fields={"outcome": problems})
    _check_started(row.session, now)
    _apply(officer, row, data["outcome"], data.get("score"), data.get("retake_score"), now, today)
    uow.flush()
    return row


def record_session(officer: User, session_id: int, results: list[dict], now: datetime, today: date
                   ) -> list[Result]:
    """Record a whole session's results at once: every row is checked first, and one bad row stops all.

    Rows already recorded the same way are answered unchanged (a retried upload changes nothing).
    """
    session = get_session(session_id, office_id=officer.office_id)
    _check_started(session, now)
    ids = [item["booking_id"] for item in results]
    rows = {r.id: r for r in db.session.scalars(select(ExamBooking).where(ExamBooking.id.in_(ids),
                                                                          ExamBooking.office_id == officer.office_id))}
    errors: dict[str, dict] = {}
    seen: set[int] = set()
    plan: list[tuple[ExamBooking, dict, bool]] = []
    for index, item in enumerate(results):
        if item["booking_id"] in seen:
            errors[str(index)] = {"booking_id": [f"booking {item['booking_id']} is listed twice"]}
            continue
        seen.add(item["booking_id"])
        row = rows.get(item["booking_id"])
        problems, same = _row_problems(row, item, session.id)
        if problems:
            field = "booking_id" if problems[0].startswith(("no booking", "booking")) else "outcome"
            errors[str(index)] = {field: problems}
        else:
            plan.append((row, item, same))
    if errors:
        raise RuleViolation(f"{len(errors)} of {len(results)} results are not valid; nothing was recorded",
                            fields={"results": errors})
    answer = []
    for row, item, same in plan:
        if not same:
            _apply(officer, row, item["outcome"], item.get("score"), item.get("retake_score"), now, today)
        answer.append(Result(row, not same))
    audit.record("test_session.outcomes", "test_session", session.id, actor=officer,
                 after={"recorded": sum(r.changed for r in answer), "unchanged": sum(not r.changed for r in answer)})
    uow.flush()
    return answer
