"""The national rules through the API: learner permits, waiting days, five bookings, expiry, scores (Order 162)."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import make_id_number
from tests.helpers_exams import long_token_config, officer, officer_headers  # noqa: F401  (fixtures)
from tests.helpers_exams import (
    book,
    SATURDAY, SUNDAY, by_subject, candidate, create_session, enter_permit, history, local, set_now,
)
from vmo.extensions import db

TODAY = date(2026, 11, 25)  # FROZEN_NOW in conftest


@pytest.fixture
def app_config(long_token_config):
    return long_token_config


def progress(client, headers):
    response = client.get("/api/v1/me/exam-progress", headers=headers)
    assert response.status_code == 200
    return response.get_json()


def outcome(client, officer_headers, booking_id, **body):
    return client.post(f"/api/v1/bookings/{booking_id}/outcome", json=body, headers=officer_headers)


# ---- the learner permit record --------------------------------------------------------------

def test_staff_enter_a_permit_from_another_centre_and_the_candidate_sees_it(app, client, factory, officer_headers):
    from vmo.audit.models import AuditEntry

    cand, headers = candidate(factory)
    response = enter_permit(client, officer_headers, cand["id"], date(2026, 10, 1),
                            passed=[{"subject": 1, "passed_on": "2026-10-01", "score": 96},
                                    {"subject": 2, "passed_on": "2026-11-02", "score": 80}],
                            bookings_used={"2": 2})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body == progress(client, headers)
    assert (body["permit_issued_on"], body["permit_expires_on"], body["permit_status"]) == (
        "2026-10-01", "2029-09-30", "valid")
    subjects = by_subject(body)
    assert subjects[1]["passed_on"] == "2026-10-01" and subjects[1]["score"] == 96
    assert subjects[2]["passed"] is True and subjects[2]["bookings_used"] == 2 and subjects[2]["bookings_left"] == 3
    assert subjects[3]["eligible"] is True and subjects[3]["eligible_from"] == "2026-10-31"  # C1: 30 days
    assert subjects[3]["bookings_used"] == 0 and subjects[3]["bookings_left"] == 5
    assert subjects[4]["reason"] == "subject_order"
    # Entering the same record again changes nothing and is not audited twice.
    again = enter_permit(client, officer_headers, cand["id"], date(2026, 10, 1),
                         passed=[{"subject": 1, "passed_on": "2026-10-01", "score": 96},
                                 {"subject": 2, "passed_on": "2026-11-02", "score": 80}],
                         bookings_used={"2": 2})
    assert again.status_code == 200 and again.get_json() == body
    with app.app_context():
        actions = list(db.session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "learner_permit")))
    assert actions == ["learner_permit.enter"]


@pytest.mark.parametrize("body, errors", [
    ({"issued_on": "2026-11-26"}, {"issued_on": ["must not be in the future"]}),
    ({"passed": [{"subject": 3, "passed_on": "2026-09-01"}]},
     {"passed": {"0": ["subjects 2 to 4 are passed under the permit, on or after issued_on"]}}),
    ({"passed": [{"subject": 2, "passed_on": "2026-10-20", "score": 79}]},
     {"passed": {"0": ["79 is below the pass mark of subject 2 (80)"]}}),
    ({"passed": [{"subject": 4, "passed_on": "2026-11-20"}]},
     {"passed": {"_schema": ["subject 4 is passed after subject 2 and 3"]}}),
    ({"passed": [{"subject": 2, "passed_on": "2026-11-10"}, {"subject": 4, "passed_on": "2026-11-20"}]},
     {"passed": {"_schema": ["subject 4 is passed after subject 3"]}}),
    ({"license_class": "C6", "passed": [{"subject": 3, "passed_on": "2026-11-20"}]},
     {"passed": {"0": ["class C6 does not sit subject 3"]}}),
    ({"bookings_used": {"3": 6}}, None),
])
def test_a_bad_permit_is_refused_with_the_field_named(client, factory, officer_headers, body, errors):
    cand, headers = candidate(factory)
    response = client.put(f"/api/v1/candidates/{cand['id']}/learner-permit",
                          json={"license_class": "C1", "issued_on": "2026-10-01", **body}, headers=officer_headers)
    assert response.status_code == 422
    if errors is not None:
        assert response.get_json()["errors"] == {"json": errors}
    else:
        assert "bookings_used" in response.get_json()["errors"]["json"]
    assert progress(client, headers)["permit_issued_on"] is None


def test_only_the_candidates_office_enters_a_permit(client, factory, officer_headers):
    cand, headers = candidate(factory)
    body = {"license_class": "C1", "issued_on": "2026-10-01"}
    assert client.put(f"/api/v1/candidates/{cand['id']}/learner-permit", json=body, headers=headers).status_code == 403
    factory.other_office()
    stranger = factory.headers(factory.staff("officer", office="fuling"))
    response = client.put(f"/api/v1/candidates/{cand['id']}/learner-permit", json=body, headers=stranger)
    assert response.status_code == 404
    assert client.put("/api/v1/candidates/999999/learner-permit", json=body, headers=officer_headers).status_code == 404


def test_staff_find_candidates_of_their_office_with_masked_id_numbers(client, factory, officer_headers):
    import random

    number = make_id_number(random.Random(7))
    cand, headers = candidate(factory, name="张三丰", id_number=number)
    candidate(factory, name="李四")
    response = client.get(f"/api/v1/candidates?id_number={number}", headers=officer_headers)
    assert response.status_code == 200
    assert response.get_json() == [{"id": cand["id"], "name": "张三丰", "license_class": "C1",
                                    "id_number": number[:6] + "********" + number[-4:]}]
    by_name = client.get("/api/v1/candidates?name=三", headers=officer_headers).get_json()
    assert [c["id"] for c in by_name] == [cand["id"]]
    assert client.get("/api/v1/candidates?name=%25", headers=officer_headers).get_json() == []
    assert client.get("/api/v1/candidates", headers=headers).status_code == 403
    factory.other_office()
    stranger = factory.headers(factory.staff("officer", office="fuling"))
    assert client.get(f"/api/v1/candidates?id_number={number}", headers=stranger).get_json() == []
    assert client.get("/api/v1/candidates?id_number=123", headers=officer_headers).status_code == 422


# ---- waiting days after the permit (articles 43 and 44) --------------------------------------

@pytest.mark.parametrize("subject, license_class, days", [
    (2, "C1", 10), (2, "C2", 10), (2, "M", 10), (2, "B2", 20), (2, "A1", 20), (2, "C6", 20),
    (3, "C2", 20), (3, "C5", 20), (3, "C3", 20), (3, "C1", 30), (3, "N", 30), (3, "A1", 30), (3, "B1", 30),
    (3, "B2", 40), (3, "A3", 40),
])
def test_the_waiting_period_ends_on_the_day_it_says(client, factory, officer_headers, subject, license_class, days):
    session = create_session(client, officer_headers, subject=subject, license_class=license_class)
    ready, ready_headers = candidate(factory, license_class=license_class)
    assert enter_permit(client, officer_headers, ready["id"], TODAY - timedelta(days=days),
                        license_class=license_class).status_code == 200
    assert by_subject(progress(client, ready_headers))[subject]["eligible_from"] == TODAY.isoformat()
    response = book(client, session["id"], ready_headers)
    assert response.status_code == 201, response.get_json()

    early, early_headers = candidate(factory, license_class=license_class)
    issued = TODAY - timedelta(days=days - 1)
    enter_permit(client, officer_headers, early["id"], issued, license_class=license_class)
    response = book(client, session["id"], early_headers)
    assert response.status_code == 422
    body = response.get_json()
    assert body["reason"] == "permit_waiting" and body["eligible_from"] == (TODAY + timedelta(days=1)).isoformat()
    assert f"{days} days after the learner permit was issued ({issued.isoformat()})" in body["message"]


def test_subject_2_without_a_permit_is_refused(client, factory, officer_headers):
    session = create_session(client, officer_headers, subject=3)
    _, headers = candidate(factory)
    response = book(client, session["id"], headers)
    assert response.status_code == 422 and response.get_json()["reason"] == "permit_missing"
    subjects = by_subject(progress(client, headers))
    assert subjects[2]["reason"] == subjects[3]["reason"] == "permit_missing"
    assert subjects[2]["eligible_from"] is None and subjects[1]["eligible"] is True


# ---- validity: three years ---------------------------------------------------------------------

def test_an_expired_permit_voids_what_was_passed_under_it(client, factory, officer_headers):
    session = create_session(client, officer_headers, subject=3)
    cand, headers = candidate(factory)
    enter_permit(client, officer_headers, cand["id"], date(2023, 11, 24),
                 passed=[{"subject": 2, "passed_on": "2024-01-10"}])
    body = progress(client, headers)
    assert body["permit_expires_on"] == "2026-11-23" and body["permit_status"] == "expired"
    subjects = by_subject(body)
    assert subjects[1]["passed"] is False and subjects[1]["eligible"] is True  # start again with subject 1
    assert subjects[2]["passed"] is False and subjects[2]["reason"] == "permit_expired"
    response = book(client, session["id"], headers)
    assert response.status_code == 422 and response.get_json()["reason"] == "permit_expired"


def test_a_session_after_the_permits_last_day_is_refused(client, factory, officer_headers):
    saturday = create_session(client, officer_headers, subject=2)
    sunday = create_session(client, officer_headers, subject=2, starts_at=local(SUNDAY, 9), ends_at=local(SUNDAY, 11))
    cand, headers = candidate(factory)
    enter_permit(client, officer_headers, cand["id"], date(2023, 11, 29))  # valid until 2026-11-28
    response = book(client, sunday["id"], headers)
    assert response.status_code == 422 and response.get_json()["reason"] == "permit_expired"
    assert "valid until 2026-11-28" in response.get_json()["message"]
    assert book(client, saturday["id"], headers).status_code == 201


# ---- five bookings of subjects 2 and 3 (article 46) ---------------------------------------------

def test_the_fifth_failed_booking_voids_the_permits_passes(app, client, factory, officer_headers):
    session = create_session(client, officer_headers, subject=2)
    cand, headers = candidate(factory, phone="13912345678")
    enter_permit(client, officer_headers, cand["id"], date(2026, 9, 1),
                 passed=[{"subject": 3, "passed_on": "2026-11-01", "score": 92}], bookings_used={"2": 4})
    assert by_subject(progress(client, headers))[2]["bookings_left"] == 1
    mine = book(client, session["id"], headers)
    assert mine.status_code == 201
    subjects = by_subject(progress(client, headers))
    assert (subjects[2]["bookings_used"], subjects[2]["bookings_left"]) == (5, 0)
    set_now(app, "2026-11-28T12:00:00+08:00")
    response = outcome(client, officer_headers, mine.get_json()["id"], outcome="failed", score=60, retake_score=70)
    assert response.status_code == 200, response.get_json()
    body = progress(client, headers)
    assert body["permit_status"] == "void"
    subjects = by_subject(body)
    assert subjects[3]["passed"] is False  # passed under the permit: void
    assert subjects[2]["reason"] == subjects[3]["reason"] == "bookings_exhausted"
    assert subjects[1]["eligible"] is True  # apply again with subject 1
    from vmo.notify.models import OutboxMessage
    with app.app_context():
        text = db.session.scalar(select(OutboxMessage.body).where(OutboxMessage.kind == "exam_result"))
    assert text.endswith("11月28日 09:00 科目二考试不合格（60分，补考70分）。本科目5次预约均未合格，"
                    "本学习驾驶证明下已合格的科目成绩作废，需重新预约科目一。")


def test_no_sixth_booking(client, factory, officer_headers):
    session = create_session(client, officer_headers, subject=3)
    cand, headers = candidate(factory)
    enter_permit(client, officer_headers, cand["id"], date(2026, 9, 1), bookings_used={"3": 5})
    response = book(client, session["id"], headers)
    assert response.status_code == 422 and response.get_json()["reason"] == "bookings_exhausted"
    assert "the 5 bookings of subject 3" in response.get_json()["message"]


def test_a_cancelled_booking_is_not_counted(client, factory, officer_headers):
    session = create_session(client, officer_headers, subject=2)
    cand, headers = candidate(factory)
    enter_permit(client, officer_headers, cand["id"], date(2026, 9, 1))
    mine = book(client, session["id"], headers).get_json()
    assert by_subject(progress(client, headers))[2]["bookings_used"] == 1
    assert client.delete(f"/api/v1/bookings/{mine['id']}", headers=headers).status_code == 200
    assert by_subject(progress(client, headers))[2]["bookings_used"] == 0


# ---- a no-show is a failed sitting; ten days before the next booking (articles 45, 46) --------------

@pytest.mark.parametrize("result", [{"outcome": "no_show"}, {"outcome": "failed", "score": 70}])
def test_a_no_show_waits_ten_days_like_a_fail(app, client, factory, officer_headers, result):
    first = create_session(client, officer_headers, subject=2)
    cand, headers = candidate(factory)
    enter_permit(client, officer_headers, cand["id"], date(2026, 9, 1))
    mine = book(client, first["id"], headers).get_json()
    set_now(app, "2026-11-28T12:00:00+08:00")
    assert outcome(client, officer_headers, mine["id"], **result).status_code == 200
    subjects = by_subject(progress(client, headers))
    assert subjects[2]["retest_from"] == subjects[2]["eligible_from"] == "2026-12-08"
    assert subjects[2]["bookings_used"] == 1
    set_now(app, "2026-12-07T23:00:00+08:00")
    later = create_session(client, officer_headers, subject=2, starts_at=local(date(2026, 12, 12), 9),
                           ends_at=local(date(2026, 12, 12), 11))
    response = book(client, later["id"], headers)
    assert response.status_code == 422 and response.get_json()["reason"] == "waiting_period"
    assert response.get_json()["eligible_from"] == "2026-12-08"
    set_now(app, "2026-12-08T00:00:00+08:00")
    assert book(client, later["id"], headers).status_code == 201


# ---- scores and the same-day retake (articles 46, 48) ---------------------------------------------

@pytest.mark.parametrize("license_class, result, status", [
    ("C1", {"outcome": "passed", "score": 80}, 200),
    ("C1", {"outcome": "passed", "score": 70, "retake_score": 90}, 200),
    ("C1", {"outcome": "failed", "score": 70, "retake_score": 75}, 200),
    ("C1", {"outcome": "failed", "score": 70}, 200),  # the retake was not taken
    ("C1", {"outcome": "passed", "score": 70}, 422),
    ("C1", {"outcome": "failed", "score": 85}, 422),
    ("C1", {"outcome": "passed", "score": 85, "retake_score": 90}, 422),
    ("C1", {"outcome": "failed", "retake_score": 60}, 422),
    ("C1", {"outcome": "no_show", "score": 0}, 422),
    ("C1", {"outcome": "passed", "score": 101}, 422),
    ("B2", {"outcome": "passed", "score": 85}, 422),  # large classes: 90
    ("B2", {"outcome": "passed", "score": 90}, 200),
])
def test_scores_must_fit_the_outcome_and_the_pass_mark(app, client, factory, officer_headers, license_class,
                                                       result, status):
    session = create_session(client, officer_headers, subject=2, license_class=license_class)
    cand, headers = candidate(factory, license_class=license_class)
    enter_permit(client, officer_headers, cand["id"], date(2026, 9, 1), license_class=license_class)
    mine = book(client, session["id"], headers).get_json()
    set_now(app, "2026-11-28T12:00:00+08:00")
    response = outcome(client, officer_headers, mine["id"], **result)
    assert response.status_code == status, response.get_json()
    after = client.get(f"/api/v1/bookings/{mine['id']}", headers=headers).get_json()
    if status == 200:
        assert (after["outcome"], after["score"], after["retake_score"]) == (
            result["outcome"], result.get("score"), result.get("retake_score"))
    else:
        assert after["outcome"] is None and after["score"] is None


def test_a_passed_subject_is_kept_under_the_permit_with_its_score(app, client, factory, officer_headers):
    session = create_session(client, officer_headers, subject=2)
    cand, headers = candidate(factory)
    history(app, cand["id"], 1, "passed", date(2026, 10, 1), score=95)
    mine = book(client, session["id"], headers).get_json()
    set_now(app, "2026-11-28T12:00:00+08:00")
    assert outcome(client, officer_headers, mine["id"], outcome="passed", score=60, retake_score=88).status_code == 200
    subjects = by_subject(progress(client, headers))
    assert subjects[1]["score"] == 95
    assert subjects[2]["passed_on"] == "2026-11-28" and subjects[2]["score"] == 88
