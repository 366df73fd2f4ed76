"""Factories for the driving-test tests: sessions, candidates, history (bulk candidates: testkit.factories)."""
import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from vmo.extensions import db

SHANGHAI = ZoneInfo("Asia/Shanghai")
# FROZEN_NOW in conftest is Wednesday 2026-11-25 10:00 in Chongqing.
SATURDAY = date(2026, 11, 28)
SUNDAY = date(2026, 11, 29)
MONDAY = date(2026, 11, 30)


def local(day: date, hour: int = 9, minute: int = 0) -> str:
    """An ISO 8601 instant at `hour`:`minute` on `day` in Chongqing."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI).isoformat()


def total(response) -> int:
    """The list total from the pagination header."""
    return json.loads(response.headers["X-Pagination"])["total"]


def session_body(**overrides) -> dict:
    body = {"subject": 1, "license_class": "C1", "starts_at": local(SATURDAY, 9), "ends_at": local(SATURDAY, 11),
            "venue": "南川区机动车驾驶人考试中心 1号考场", "capacity": 30, "kind": "regular",
            "allocation": "first_come"}
    body.update(overrides)
    return body


def create_session(client, officer_headers, **overrides) -> dict:
    response = client.post("/api/v1/test-sessions", json=session_body(**overrides), headers=officer_headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def candidate(factory, license_class="C1", **fields) -> tuple[dict, dict]:
    """A signed-up candidate (through the API) and its auth headers."""
    created = factory.candidate(license_class=license_class, **fields)
    return created, factory.headers(created["username"])


def history(app, candidate_id: int, subject: int, outcome: str, day: date, license_class: str = "C1",
            score: int | None = None) -> int:
    """Put a past exam (with its outcome) into a candidate's record, as the service would; returns the booking id.

    A passed subject 1 issues the learner permit that day; a later pass is kept under the current permit.
    """
    from schedules.exams import rules
    from schedules.exams.models import ExamBooking, ExamSession, LearnerPermit, PermitPass
    from vmo.accounts.models import Candidate
    from vmo.booking.models import Slot

    with app.app_context():
        cand = db.session.get(Candidate, candidate_id)
        start = datetime(day.year, day.month, day.day, 9, tzinfo=SHANGHAI)
        slot = Slot(office_id=cand.office_id, kind="test_seat", capacity=10, booked=1)
        db.session.add(slot)
        db.session.flush()
        session = ExamSession(office_id=cand.office_id, subject=subject, license_class=license_class,
                              class_list=license_class, status="scheduled", starts_at=start, ends_at=start + timedelta(hours=2), local_date=day,
                              is_weekend=day.weekday() >= 5, venue="旧考场", kind="regular",
                              allocation="first_come", slot_id=slot.id, created_at=start - timedelta(days=20),
                              updated_at=start - timedelta(days=20))
        db.session.add(session)
        db.session.flush()
        row = ExamBooking(office_id=cand.office_id, session_id=session.id, candidate_id=candidate_id,
                          subject=subject, status="confirmed", outcome=outcome, outcome_at=start + timedelta(hours=2),
                          changes=0, sequence=0, created_at=start - timedelta(days=10), updated_at=start,
                          score=score)
        db.session.add(row)
        db.session.flush()
        if outcome == "passed":
            if subject == 1:
                permit = LearnerPermit(office_id=cand.office_id, id_number=cand.id_number, name=cand.name,
                                       license_class=license_class, issued_on=day,
                                       expires_on=rules.permit_expires_on(day), prior_bookings_2=0,
                                       prior_bookings_3=0, source="exam")
                db.session.add(permit)
                db.session.flush()
            else:
                permit = db.session.scalar(select(LearnerPermit).where(LearnerPermit.id_number == cand.id_number)
                                           .order_by(LearnerPermit.issued_on.desc()).limit(1))
            db.session.add(PermitPass(permit_id=permit.id, subject=subject, passed_on=day, score=score,
                                      booking_id=row.id))
        db.session.commit()
        return row.id


def set_accepted_at(app, candidate_id: int, when: datetime) -> None:
    """Move when the candidate's application (受理) was accepted: it ranks a first subject 1 in ballots."""
    from sqlalchemy import update

    from schedules.exams.models import Application
    from vmo.accounts.models import Candidate

    with app.app_context():
        number = db.session.get(Candidate, candidate_id).id_number
        db.session.execute(update(Application).where(Application.id_number == number).values(accepted_at=when))
        db.session.commit()


def enter_permit(client, officer_headers, candidate_id: int, issued_on: date, license_class: str = "C1",
                 passed: list | None = None, bookings_used: dict | None = None):
    """PUT the candidate's learner permit as an officer; returns the response."""
    body = {"license_class": license_class, "issued_on": issued_on.isoformat(), "passed": passed or []}
    if bookings_used is not None:
        body["bookings_used"] = bookings_used
    return client.put(f"/api/v1/candidates/{candidate_id}/learner-permit", json=body, headers=officer_headers)


def set_now(app, moment: str) -> None:
    """Move the server's clock (VMO_FROZEN_NOW) to an ISO 8601 instant."""
    app.config["FROZEN_NOW"] = moment


def by_subject(progress: dict) -> dict[int, dict]:
    return {item["subject"]: item for item in progress["subjects"]}


def book(client, session_id, headers, **body):
    """POST a booking (as a candidate, or with candidate_id as staff at the counter)."""
    return client.post(f"/api/v1/test-sessions/{session_id}/bookings", json=body or None, headers=headers)


def exam_officer(factory):
    """An officer with a badge number (the follow-up texts name it)."""
    return factory.staff("officer", badge_number="500123")


# Fixtures for the tests that travel through the rules' waiting days (import them by name).
@pytest.fixture
def long_token_config():
    """Tokens that outlive the sixty days these tests move the clock through."""
    return {"TOKEN_TTL_HOURS": 24 * 60}


@pytest.fixture
def officer(factory):
    return exam_officer(factory)


@pytest.fixture
def officer_headers(factory, officer):
    return factory.headers(officer)
