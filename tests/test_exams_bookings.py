"""Bookings: eligibility with reasons, one active booking per subject, seats, waiting lists, changes, outcomes."""
import re
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from tests.helpers_exams import SUNDAY, candidate, create_session, history, local, set_accepted_at, total
from tests.helpers_exams import officer, officer_headers  # noqa: F401  (fixtures)
from vmo.extensions import db


@pytest.fixture
def app_config(request):
    # Long-lived tokens: several tests move the clock to the day of the test.
    return {"TOKEN_TTL_HOURS": 24 * 30, **getattr(request, "param", {})}


@pytest.fixture
def session(client, officer_headers):
    return create_session(client, officer_headers, capacity=2)


def book(client, session_id, headers, **body):
    return client.post(f"/api/v1/test-sessions/{session_id}/bookings", json=body or None, headers=headers)


def outbox(app, kind=None):
    from vmo.notify.models import OutboxMessage

    with app.app_context():
        stmt = select(OutboxMessage).order_by(OutboxMessage.id)
        if kind:
            stmt = stmt.where(OutboxMessage.kind == kind)
        # The outbox puts the office's signature first; the tests read the body after it.
        return [(m.phone, m.kind, re.sub(r"^【[^】]*】", "", m.body)) for m in db.session.scalars(stmt)]


def seats(client, session_id):
    return client.get(f"/api/v1/test-sessions/{session_id}").get_json()["seats_left"]


# ---- booking a seat --------------------------------------------------------------------

def test_first_come_booking_is_confirmed_and_takes_a_seat(client, factory, session):
    cand, headers = candidate(factory)
    response = book(client, session["id"], headers)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert {k: body[k] for k in ("session_id", "candidate_id", "subject", "status", "outcome", "waitlist_position",
                                 "changes", "changes_left", "calendar_url", "cancelled_at")} == {
        "session_id": session["id"], "candidate_id": cand["id"], "subject": 1, "status": "confirmed", "outcome": None,
        "waitlist_position": None, "changes": 0, "changes_left": 2,
        "calendar_url": f"/api/v1/bookings/{body['id']}/calendar.ics", "cancelled_at": None}
    assert body["session"]["seats_left"] == 1
    assert seats(client, session["id"]) == 1
    assert client.get(f"/api/v1/bookings/{body['id']}", headers=headers).get_json() == body


def test_a_full_session_answers_409_with_no_seats_left(client, factory, session):
    for _ in range(2):
        assert book(client, session["id"], candidate(factory)[1]).status_code == 201
    _, late = candidate(factory)
    response = book(client, session["id"], late)
    assert response.status_code == 409
    body = response.get_json()
    assert body["seats_left"] == 0 and body["code"] == 409
    assert "waitlist_if_full" in body["message"]
    assert client.get("/api/v1/bookings", headers=late).get_json() == []
    assert seats(client, session["id"]) == 0


def test_only_candidates_book_and_need_a_token(client, factory, session, officer_headers):
    assert book(client, session["id"], {}).status_code == 401
    # Staff book only for a named candidate, at the counter (tests/test_exams_testday.py).
    response = book(client, session["id"], officer_headers)
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"json": {"candidate_id": ["required when staff book at the counter"]}}
    company = factory.company()
    assert book(client, session["id"], factory.headers(company["username"])).status_code == 403


def test_booking_an_unknown_or_other_office_session_is_404(client, factory):
    _, headers = candidate(factory)
    assert book(client, 4242, headers).status_code == 404
    factory.other_office()
    other_officer = factory.staff("officer", office="fuling")
    other = create_session(client, factory.headers(other_officer))
    response = book(client, other["id"], headers)
    assert response.status_code == 404 and response.get_json()["message"] == f"no test session {other['id']}"


def test_bad_booking_body_is_422(client, factory, session):
    _, headers = candidate(factory)
    response = book(client, session["id"], headers, waitlist_if_full="perhaps")
    assert response.status_code == 422
    assert "waitlist_if_full" in response.get_json()["errors"]["json"]
    assert client.get("/api/v1/bookings", headers=headers).get_json() == []


def test_one_active_booking_per_subject(client, factory, officer_headers, session):
    _, headers = candidate(factory)
    first = book(client, session["id"], headers).get_json()
    other = create_session(client, officer_headers, starts_at=local(SUNDAY, 9), ends_at=local(SUNDAY, 11))
    response = book(client, other["id"], headers)
    assert response.status_code == 409
    assert response.get_json()["active_booking_id"] == first["id"]
    assert "already hold an active booking for subject 1" in response.get_json()["message"]
    assert seats(client, other["id"]) == 30


def test_idempotency_key_replays_the_booking(client, factory, session):
    _, headers = candidate(factory)
    keyed = {**headers, "Idempotency-Key": "book-1"}
    first = book(client, session["id"], keyed)
    second = book(client, session["id"], keyed)
    assert first.status_code == second.status_code == 201
    assert second.get_json() == first.get_json() and second.headers["Idempotent-Replayed"] == "true"
    assert seats(client, session["id"]) == 1


# ---- eligibility --------------------------------------------------------------------------

def test_wrong_licence_class_is_422_with_the_reason(client, factory, session):
    _, headers = candidate(factory, license_class="C2")
    response = book(client, session["id"], headers)
    assert response.status_code == 422
    assert response.get_json()["reason"] == "license_class"
    assert response.get_json()["message"] == "this session is for licence class C1; you are training for C2"


def test_subjects_in_order(app, client, factory, officer_headers):
    s2 = create_session(client, officer_headers, subject=2)
    s4 = create_session(client, officer_headers, subject=4)
    cand, headers = candidate(factory)
    response = book(client, s2["id"], headers)
    assert response.status_code == 422 and response.get_json()["reason"] == "permit_missing"
    assert response.get_json()["message"] == ("subject 2 needs a learner permit; it is issued when subject 1 is "
                                              "passed (or the office enters a permit from another centre)")
    history(app, cand["id"], 1, "passed", date(2026, 10, 10))
    response = book(client, s4["id"], headers)
    assert response.status_code == 422 and response.get_json()["reason"] == "subject_order"
    assert response.get_json()["message"] == "subject 2 and 3 must be passed before subject 4 can be booked (article 42)"
    assert book(client, s2["id"], headers).status_code == 201
    # Subject 3 passed, subject 2 booked but not yet passed: subject 4 still waits for it.
    history(app, cand["id"], 3, "passed", date(2026, 11, 1))
    response = book(client, s4["id"], headers)
    assert response.status_code == 422 and response.get_json()["reason"] == "subject_order"
    assert response.get_json()["message"] == "subject 2 must be passed before subject 4 can be booked (article 42)"
    history(app, cand["id"], 2, "passed", date(2026, 11, 21))
    assert book(client, s4["id"], headers).status_code == 201


def test_a_passed_subject_cannot_be_booked_again(app, client, factory, session):
    cand, headers = candidate(factory)
    history(app, cand["id"], 1, "passed", date(2026, 10, 10))
    response = book(client, session["id"], headers)
    assert response.status_code == 422 and response.get_json()["reason"] == "already_passed"


def test_waiting_period_after_a_failed_subject_2(app, client, factory, officer_headers):
    s2 = create_session(client, officer_headers, subject=2)
    cand, headers = candidate(factory)
    history(app, cand["id"], 1, "passed", date(2026, 10, 10))
    history(app, cand["id"], 2, "failed", date(2026, 11, 21))
    response = book(client, s2["id"], headers)
    assert response.status_code == 422
    body = response.get_json()
    assert body["reason"] == "waiting_period" and body["eligible_from"] == "2026-12-01"
    assert "2026-11-21" in body["message"]
    # Ten days after an earlier fail the candidate may book again.
    other, other_headers = candidate(factory)
    history(app, other["id"], 1, "passed", date(2026, 10, 10))
    history(app, other["id"], 2, "failed", date(2026, 11, 15))
    assert book(client, s2["id"], other_headers).status_code == 201


def test_a_failed_subject_1_has_no_waiting_period(app, client, factory, session):
    cand, headers = candidate(factory)
    history(app, cand["id"], 1, "failed", date(2026, 11, 22))
    assert book(client, session["id"], headers).status_code == 201


def test_progress_shows_where_the_candidate_stands(app, client, factory):
    cand, headers = candidate(factory)
    set_accepted_at(app, cand["id"], datetime(2026, 9, 1, 2, tzinfo=timezone.utc))
    history(app, cand["id"], 1, "passed", date(2026, 10, 10))
    history(app, cand["id"], 2, "failed", date(2026, 11, 21))
    response = client.get("/api/v1/me/exam-progress", headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["candidate_id"] == cand["id"] and body["license_class"] == "C1"
    assert body["seniority_date"] == "2026-11-21"
    by_subject = {s["subject"]: s for s in body["subjects"]}
    assert body["permit_issued_on"] == "2026-10-10" and body["permit_expires_on"] == "2029-10-09"
    assert body["permit_status"] == "valid"
    assert by_subject[1] == {"subject": 1, "passed": True, "passed_on": "2026-10-10", "score": None, "attempts": 1,
                             "no_shows": 0, "last_failed_on": None, "retest_from": None, "active_booking_id": None,
                             "eligible_from": None, "bookings_used": None, "bookings_left": None,
                             "eligible": False, "reason": "already_passed",
                             "message": "subject 1 was passed on 2026-10-10"}
    assert by_subject[2]["bookings_used"] == 1 and by_subject[2]["bookings_left"] == 4
    assert by_subject[2]["eligible_from"] == "2026-12-01"
    assert by_subject[2]["retest_from"] == "2026-12-01" and by_subject[2]["reason"] == "waiting_period"
    assert by_subject[3]["eligible"] is True
    assert by_subject[4]["reason"] == "subject_order"


def test_staff_read_a_candidates_progress_in_their_office_only(client, factory, officer_headers):
    cand, headers = candidate(factory)
    response = client.get(f"/api/v1/candidates/{cand['id']}/exam-progress", headers=officer_headers)
    assert response.status_code == 200 and response.get_json()["subjects"][0]["eligible"] is True
    assert client.get(f"/api/v1/candidates/{cand['id']}/exam-progress", headers=headers).status_code == 403
    factory.other_office()
    stranger = factory.headers(factory.staff("officer", office="fuling"))
    assert client.get(f"/api/v1/candidates/{cand['id']}/exam-progress", headers=stranger).status_code == 404
    assert client.get("/api/v1/me/exam-progress", headers=officer_headers).status_code == 403


def test_a_started_session_cannot_be_booked(app, client, factory, officer_headers):
    s = create_session(client, officer_headers)
    _, headers = candidate(factory)
    app.config["FROZEN_NOW"] = "2026-11-28T09:05:00+08:00"
    response = book(client, s["id"], headers)
    assert response.status_code == 422 and response.get_json()["reason"] == "session_started"


# ---- reading and ownership -------------------------------------------------------------

def test_bookings_are_private_to_their_candidate(client, factory, session, officer_headers):
    _, alice = candidate(factory)
    _, bob = candidate(factory)
    mine = book(client, session["id"], alice).get_json()
    assert client.get(f"/api/v1/bookings/{mine['id']}", headers=bob).status_code == 404
    assert client.delete(f"/api/v1/bookings/{mine['id']}", headers=bob).status_code == 404
    assert client.get(f"/api/v1/bookings/{mine['id']}/calendar.ics", headers=bob).status_code == 404
    assert client.get("/api/v1/bookings", headers=bob).get_json() == []
    assert [b["id"] for b in client.get("/api/v1/bookings", headers=alice).get_json()] == [mine["id"]]
    assert client.get(f"/api/v1/bookings/{mine['id']}", headers=officer_headers).status_code == 200
    company = factory.company()
    assert client.get("/api/v1/bookings", headers=factory.headers(company["username"])).status_code == 403
    assert client.get("/api/v1/bookings").status_code == 401
    factory.other_office()
    stranger = factory.headers(factory.staff("officer", office="fuling"))
    assert client.get(f"/api/v1/bookings/{mine['id']}", headers=stranger).status_code == 404


def test_officers_list_one_sessions_bookings(client, factory, officer_headers, session):
    other = create_session(client, officer_headers, starts_at=local(SUNDAY, 9), ends_at=local(SUNDAY, 11))
    a = book(client, session["id"], candidate(factory)[1]).get_json()
    b = book(client, other["id"], candidate(factory)[1]).get_json()
    listed = client.get(f"/api/v1/bookings?session_id={session['id']}", headers=officer_headers)
    assert [x["id"] for x in listed.get_json()] == [a["id"]]
    assert total(client.get("/api/v1/bookings", headers=officer_headers)) == 2
    assert [x["id"] for x in client.get("/api/v1/bookings?status=confirmed",
                                        headers=officer_headers).get_json()] == [b["id"], a["id"]]
    assert client.get("/api/v1/bookings?status=lost", headers=officer_headers).status_code == 422


# ---- waiting list and cancellation ----------------------------------------------------------

def test_waiting_list_gets_the_cancelled_seat_and_a_text(app, client, factory, session):
    holders = [candidate(factory) for _ in range(2)]
    booked = [book(client, session["id"], h).get_json() for _, h in holders]
    waiting = [candidate(factory, phone=f"1390000000{i}") for i in range(2)]
    queued = [book(client, session["id"], h, waitlist_if_full=True) for _, h in waiting]
    assert [r.status_code for r in queued] == [201, 201]
    assert [r.get_json()["status"] for r in queued] == ["waitlisted", "waitlisted"]
    assert [r.get_json()["waitlist_position"] for r in queued] == [1, 2]
    assert client.get(f"/api/v1/test-sessions/{session['id']}").get_json()["waitlist_length"] == 2

    response = client.delete(f"/api/v1/bookings/{booked[0]['id']}", headers=holders[0][1])
    assert response.status_code == 200
    assert response.get_json()["status"] == "cancelled" and response.get_json()["cancelled_at"] is not None
    first = client.get(f"/api/v1/bookings/{queued[0].get_json()['id']}", headers=waiting[0][1]).get_json()
    second = client.get(f"/api/v1/bookings/{queued[1].get_json()['id']}", headers=waiting[1][1]).get_json()
    assert first["status"] == "confirmed" and first["waitlist_position"] is None
    assert second["status"] == "waitlisted" and second["waitlist_position"] == 1
    assert seats(client, session["id"]) == 0
    texts = outbox(app, "exam_promoted")
    assert len(texts) == 1 and texts[0][0] == "13900000000" and "已由候补转为正式预约" in texts[0][2]


def test_a_cancelled_seat_goes_back_to_the_pool_when_nobody_waits(client, factory, session):
    _, headers = candidate(factory)
    mine = book(client, session["id"], headers).get_json()
    assert seats(client, session["id"]) == 1
    assert client.delete(f"/api/v1/bookings/{mine['id']}", headers=headers).status_code == 200
    assert seats(client, session["id"]) == 2
    again = client.delete(f"/api/v1/bookings/{mine['id']}", headers=headers)
    assert again.status_code == 409 and again.get_json()["message"] == f"booking {mine['id']} is already cancelled"
    assert seats(client, session["id"]) == 2
    # The subject is free again: a new booking is allowed.
    assert book(client, session["id"], headers).status_code == 201


def test_leaving_the_waiting_list_frees_no_seat(client, factory, session):
    for _ in range(2):
        book(client, session["id"], candidate(factory)[1])
    _, headers = candidate(factory)
    waiting = book(client, session["id"], headers, waitlist_if_full=True).get_json()
    assert client.delete(f"/api/v1/bookings/{waiting['id']}", headers=headers).status_code == 200
    assert seats(client, session["id"]) == 0
    assert client.get(f"/api/v1/test-sessions/{session['id']}").get_json()["waitlist_length"] == 0


def test_waitlist_if_full_books_a_seat_when_one_is_free(client, factory, session):
    response = book(client, session["id"], candidate(factory)[1], waitlist_if_full=True)
    assert response.status_code == 201 and response.get_json()["status"] == "confirmed"


def test_a_candidate_cancels_until_the_end_of_the_day_before_in_office_time(app, client, factory, session,
                                                                            officer_headers):
    _, headers = candidate(factory)
    mine = book(client, session["id"], headers).get_json()  # Saturday 09:00
    app.config["FROZEN_NOW"] = "2026-11-27T15:59:59+00:00"  # Friday 23:59:59 in Chongqing: still allowed
    other, other_headers = candidate(factory)
    theirs = book(client, session["id"], other_headers).get_json()
    assert client.delete(f"/api/v1/bookings/{theirs['id']}", headers=other_headers).status_code == 200
    app.config["FROZEN_NOW"] = "2026-11-27T16:00:00+00:00"  # Saturday 00:00 in Chongqing: too late
    response = client.delete(f"/api/v1/bookings/{mine['id']}", headers=headers)
    assert response.status_code == 422 and response.get_json()["reason"] == "cutoff"
    assert response.get_json()["cutoff_at"] == "2026-11-28T00:00:00+08:00"
    assert "until 2026-11-28T00:00:00+08:00" in response.get_json()["message"]
    assert client.get(f"/api/v1/bookings/{mine['id']}", headers=headers).get_json()["status"] == "confirmed"
    # The office may still cancel on the candidate's behalf, without it counting against them.
    by_office = client.delete(f"/api/v1/bookings/{mine['id']}", headers=officer_headers)
    assert by_office.status_code == 200 and by_office.get_json()["status"] == "cancelled"
    assert by_office.get_json()["cancelled_by"] == "office"
    assert seats(client, session["id"]) == 2


@pytest.mark.parametrize("app_config", [{"EXAM_OFFICE_RULES": {"nanchuan": {"cancel_until": "18:00"}}}],
                         indirect=True)
def test_an_office_sets_its_own_cancellation_hour(app, client, factory, session):
    _, headers = candidate(factory)
    mine = book(client, session["id"], headers).get_json()
    app.config["FROZEN_NOW"] = "2026-11-27T18:00:00+08:00"
    response = client.delete(f"/api/v1/bookings/{mine['id']}", headers=headers)
    assert response.status_code == 422 and response.get_json()["cutoff_at"] == "2026-11-27T18:00:00+08:00"


# ---- changes ----------------------------------------------------------------------------------

def test_a_booking_moves_at_most_twice(client, factory, officer_headers, session):
    sunday = create_session(client, officer_headers, starts_at=local(SUNDAY, 9), ends_at=local(SUNDAY, 11))
    _, headers = candidate(factory)
    mine = book(client, session["id"], headers).get_json()
    moved = client.post(f"/api/v1/bookings/{mine['id']}/change", json={"session_id": sunday["id"]}, headers=headers)
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["session_id"] == sunday["id"] and moved.get_json()["status"] == "confirmed"
    assert moved.get_json()["id"] == mine["id"] and moved.get_json()["changes_left"] == 1
    assert seats(client, session["id"]) == 2 and seats(client, sunday["id"]) == 29
    back = client.post(f"/api/v1/bookings/{mine['id']}/change", json={"session_id": session["id"]}, headers=headers)
    assert back.status_code == 200 and back.get_json()["changes"] == 2
    third = client.post(f"/api/v1/bookings/{mine['id']}/change", json={"session_id": sunday["id"]}, headers=headers)
    assert third.status_code == 422 and third.get_json()["reason"] == "max_changes"
    assert seats(client, session["id"]) == 1 and seats(client, sunday["id"]) == 30


def test_a_change_to_a_full_session_changes_nothing(client, factory, officer_headers, session):
    small = create_session(client, officer_headers, capacity=1, starts_at=local(SUNDAY, 9), ends_at=local(SUNDAY, 11))
    book(client, small["id"], candidate(factory)[1])
    _, headers = candidate(factory)
    mine = book(client, session["id"], headers).get_json()
    response = client.post(f"/api/v1/bookings/{mine['id']}/change", json={"session_id": small["id"]}, headers=headers)
    assert response.status_code == 409 and response.get_json()["seats_left"] == 0
    after = client.get(f"/api/v1/bookings/{mine['id']}", headers=headers).get_json()
    assert after["session_id"] == session["id"] and after["changes"] == 0 and after["status"] == "confirmed"
    assert seats(client, session["id"]) == 1


def test_a_change_hands_the_old_seat_to_the_waiting_list(client, factory, officer_headers, session):
    sunday = create_session(client, officer_headers, starts_at=local(SUNDAY, 9), ends_at=local(SUNDAY, 11))
    holders = [candidate(factory) for _ in range(2)]
    mine = [book(client, session["id"], h).get_json() for _, h in holders]
    _, waiting = candidate(factory)
    queued = book(client, session["id"], waiting, waitlist_if_full=True).get_json()
    client.post(f"/api/v1/bookings/{mine[0]['id']}/change", json={"session_id": sunday["id"]}, headers=holders[0][1])
    assert client.get(f"/api/v1/bookings/{queued['id']}", headers=waiting).get_json()["status"] == "confirmed"
    assert seats(client, session["id"]) == 0


@pytest.mark.parametrize("case", ["other_subject", "same_session", "unknown_session", "cutoff", "cancelled"])
def test_bad_changes(app, client, factory, officer_headers, session, case):
    _, headers = candidate(factory)
    mine = book(client, session["id"], headers).get_json()
    target = session["id"]
    if case == "other_subject":
        target = create_session(client, officer_headers, subject=4, starts_at=local(SUNDAY, 9),
                                ends_at=local(SUNDAY, 11))["id"]
    elif case == "unknown_session":
        target = 9999
    elif case == "cutoff":
        target = create_session(client, officer_headers, starts_at=local(SUNDAY, 9), ends_at=local(SUNDAY, 11))["id"]
        app.config["FROZEN_NOW"] = "2026-11-28T00:30:00+08:00"
    elif case == "cancelled":
        target = create_session(client, officer_headers, starts_at=local(SUNDAY, 9), ends_at=local(SUNDAY, 11))["id"]
        client.delete(f"/api/v1/bookings/{mine['id']}", headers=headers)
    response = client.post(f"/api/v1/bookings/{mine['id']}/change", json={"session_id": target}, headers=headers)
    expected = {"other_subject": (422, "subject"), "same_session": (422, None), "unknown_session": (404, None),
                "cutoff": (422, "cutoff"), "cancelled": (409, None)}[case]
    assert response.status_code == expected[0], response.get_json()
    assert response.get_json().get("reason") == expected[1]
    after = client.get(f"/api/v1/bookings/{mine['id']}", headers=headers).get_json()
    assert after["changes"] == 0 and after["session_id"] == session["id"]


def test_only_the_candidate_changes_and_only_their_own(client, factory, officer_headers, session):
    _, headers = candidate(factory)
    mine = book(client, session["id"], headers).get_json()
    body = {"session_id": session["id"]}
    assert client.post(f"/api/v1/bookings/{mine['id']}/change", json=body, headers=officer_headers).status_code == 403
    _, other = candidate(factory)
    assert client.post(f"/api/v1/bookings/{mine['id']}/change", json=body, headers=other).status_code == 404
    assert client.post(f"/api/v1/bookings/{mine['id']}/change", json={}, headers=headers).status_code == 422


# ---- outcomes ---------------------------------------------------------------------------------

def test_officer_records_outcome_and_progress_follows(app, client, factory, officer_headers, session):
    cand, headers = candidate(factory, phone="13912345678")
    mine = book(client, session["id"], headers).get_json()
    early = client.post(f"/api/v1/bookings/{mine['id']}/outcome", json={"outcome": "passed"}, headers=officer_headers)
    assert early.status_code == 422 and early.get_json()["reason"] == "session_not_started"
    app.config["FROZEN_NOW"] = "2026-11-28T12:00:00+08:00"
    response = client.post(f"/api/v1/bookings/{mine['id']}/outcome", json={"outcome": "passed"},
                           headers=officer_headers)
    assert response.status_code == 200
    assert response.get_json()["outcome"] == "passed" and response.get_json()["status"] == "confirmed"
    again = client.post(f"/api/v1/bookings/{mine['id']}/outcome", json={"outcome": "passed"}, headers=officer_headers)
    assert again.status_code == 200
    other = client.post(f"/api/v1/bookings/{mine['id']}/outcome", json={"outcome": "failed"}, headers=officer_headers)
    assert other.status_code == 409
    assert other.get_json()["message"] == f"booking {mine['id']} already has the outcome passed"
    progress = client.get("/api/v1/me/exam-progress", headers=headers).get_json()
    subject1 = progress["subjects"][0]
    assert subject1["passed"] is True and subject1["passed_on"] == "2026-11-28"
    # Subject 2 waits ten days after the permit (article 43).
    assert progress["subjects"][1]["reason"] == "permit_waiting"
    assert progress["subjects"][1]["eligible_from"] == "2026-12-08"
    texts = outbox(app, "follow_up")
    assert texts == [("13912345678", "follow_up", "科目一考试已结束，经办民警警号500123。满意请回复1，不满意请回复2。")]
    assert outbox(app, "exam_result") == [("13912345678", "exam_result",
                                           "11月28日 09:00 科目一考试合格。学习驾驶证明已核发，有效期至2029年11月27日；"
                                           "科目二可于12月08日起预约，科目三可于12月28日起预约。")]
    assert progress["permit_issued_on"] == "2026-11-28" and progress["permit_expires_on"] == "2029-11-27"
    app.config["FROZEN_NOW"] = "2026-12-08T08:00:00+08:00"
    s2 = create_session(client, officer_headers, subject=2, starts_at=local(date(2026, 12, 12), 9),
                        ends_at=local(date(2026, 12, 12), 11))
    assert book(client, s2["id"], headers).status_code == 201
    cancelled = client.delete(f"/api/v1/bookings/{mine['id']}", headers=headers)
    assert cancelled.status_code == 409


@pytest.mark.parametrize("role_or_case", ["candidate", "waitlisted", "bad_value", "other_office"])
def test_bad_outcomes(app, client, factory, officer_headers, session, role_or_case):
    cand, headers = candidate(factory)
    if role_or_case == "waitlisted":
        for _ in range(2):
            book(client, session["id"], candidate(factory)[1])
        mine = book(client, session["id"], headers, waitlist_if_full=True).get_json()
    else:
        mine = book(client, session["id"], headers).get_json()
    app.config["FROZEN_NOW"] = "2026-11-28T12:00:00+08:00"
    sender, body = officer_headers, {"outcome": "failed"}
    if role_or_case == "candidate":
        sender = headers
    elif role_or_case == "bad_value":
        body = {"outcome": "excellent"}
    elif role_or_case == "other_office":
        factory.other_office()
        sender = factory.headers(factory.staff("officer", office="fuling"))
    response = client.post(f"/api/v1/bookings/{mine['id']}/outcome", json=body, headers=sender)
    assert response.status_code == {"candidate": 403, "waitlisted": 409, "bad_value": 422, "other_office": 404}[
        role_or_case]
    assert client.get(f"/api/v1/bookings/{mine['id']}", headers=headers).get_json()["outcome"] is None


def test_a_no_show_frees_the_subject_without_a_follow_up(app, client, factory, officer_headers, session):
    cand, headers = candidate(factory)
    set_accepted_at(app, cand["id"], datetime(2026, 9, 1, 2, tzinfo=timezone.utc))
    mine = book(client, session["id"], headers).get_json()
    app.config["FROZEN_NOW"] = "2026-11-28T12:00:00+08:00"
    assert client.post(f"/api/v1/bookings/{mine['id']}/outcome", json={"outcome": "no_show"},
                       headers=officer_headers).status_code == 200
    assert outbox(app, "follow_up") == []
    progress = client.get("/api/v1/me/exam-progress", headers=headers).get_json()
    assert progress["subjects"][0]["no_shows"] == 1 and progress["subjects"][0]["eligible"] is True
    assert progress["seniority_date"] == "2026-11-28"  # a no-show moves the candidate back


def test_every_change_is_audited(app, client, factory, session):
    from vmo.audit.models import AuditEntry

    _, headers = candidate(factory)
    mine = book(client, session["id"], headers).get_json()
    client.delete(f"/api/v1/bookings/{mine['id']}", headers=headers)
    with app.app_context():
        actions = list(db.session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "exam_booking")
                                          .order_by(AuditEntry.id)))
    assert actions == ["exam_booking.create", "exam_booking.cancel"]


def test_a_candidate_cancelling_a_seat_moves_back_in_seniority(app, client, factory, session):
    cand, headers = candidate(factory)
    set_accepted_at(app, cand["id"], datetime(2026, 9, 1, 2, tzinfo=timezone.utc))
    assert client.get("/api/v1/me/exam-progress", headers=headers).get_json()["seniority_date"] == "2026-09-01"
    mine = book(client, session["id"], headers).get_json()
    client.delete(f"/api/v1/bookings/{mine['id']}", headers=headers)
    assert client.get("/api/v1/me/exam-progress", headers=headers).get_json()["seniority_date"] == "2026-11-25"


def test_every_booking_answer_is_the_schema_s_answer_for_the_stored_booking(client, factory, officer_headers, session):
    """The booking's POST builds its answer from the values in hand (schemas.booking_answer, no
    marshmallow): for each status, and at the counter, it is what ExamBookingSchema gives for the stored
    booking right afterwards, byte for byte."""
    ballot = create_session(client, officer_headers, allocation="ballot",
                            applications_close_at=local(date(2026, 11, 26), 20))
    cases = [(session["id"], {}, "confirmed"), (session["id"], {}, "confirmed"),  # the session's two seats
             (session["id"], {"waitlist_if_full": True}, "waitlisted"), (session["id"], {"waitlist_if_full": True},
                                                                         "waitlisted"),
             (ballot["id"], {}, "applied"), (ballot["id"], {"at_counter": True}, "applied")]
    for session_id, body, status in cases:
        person, headers = candidate(factory)
        if body.pop("at_counter", False):
            response = book(client, session_id, officer_headers, candidate_id=person["id"])
        else:
            response = book(client, session_id, headers, **body)
        assert response.status_code == (202 if status == "applied" else 201), response.get_json()
        assert response.get_json()["status"] == status
        stored = client.get(f"/api/v1/bookings/{response.get_json()['id']}", headers=headers)
        assert stored.get_data(as_text=True) == response.get_data(as_text=True)
        assert response.headers["Content-Type"] == stored.headers["Content-Type"]
