"""Each class's own path (C6, motorcycles), subject 4 after subjects 2 and 3, the booking cut-off, and
result texts that only announce what a booking would be given (Order 162, rules.py)."""
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from schedules.exams import rules
from tests.helpers_exams import long_token_config, officer, officer_headers  # noqa: F401  (fixtures)
from tests.helpers_exams import (
    SATURDAY, SUNDAY, book, by_subject, candidate, create_session, enter_permit, history, local, set_now,
)
from vmo.extensions import db

TODAY = date(2026, 11, 25)  # FROZEN_NOW in conftest


@pytest.fixture
def app_config(long_token_config):
    return long_token_config


def progress(client, headers) -> dict:
    response = client.get("/api/v1/me/exam-progress", headers=headers)
    assert response.status_code == 200
    return response.get_json()


def result_texts(app) -> list[str]:
    from vmo.notify.models import OutboxMessage

    with app.app_context():
        return [re.sub(r"^【[^】]*】", "", body) for body in db.session.scalars(
            select(OutboxMessage.body).where(OutboxMessage.kind == "exam_result").order_by(OutboxMessage.id))]


def key_result(app, client, officer_headers, booking_id, **result):
    set_now(app, "2026-11-28T12:00:00+08:00")
    response = client.post(f"/api/v1/bookings/{booking_id}/outcome", json=result, headers=officer_headers)
    assert response.status_code == 200, response.get_json()
    return result_texts(app)[-1]


# ---- the rules table and its page ---------------------------------------------------------------

def test_the_docs_print_the_rules_table_as_the_code_has_it():
    page = (Path(__file__).parents[1] / "docs" / "driving-tests.md").read_text(encoding="utf-8")
    assert rules.markdown_table() in page


def test_every_class_has_its_waits_stated():
    from vmo.accounts.models import LICENSE_CLASSES

    for license_class in LICENSE_CLASSES:
        for subject in (2, 3):
            if subject in rules.subjects_for(license_class):
                assert isinstance(rules.wait_days(subject, license_class), int), (subject, license_class)
            else:
                assert rules.wait_days(subject, license_class) is None


# ---- subject 4 after subjects 2 and 3 ----------------------------------------------------------------

@pytest.mark.parametrize("passed, status, reason", [
    ([], 422, "subject_order"), ([2], 422, "subject_order"), ([3], 422, "subject_order"), ([2, 3], 201, None),
])
def test_subject_4_needs_both_subjects_2_and_3(client, factory, officer_headers, passed, status, reason):
    session = create_session(client, officer_headers, subject=4)
    cand, headers = candidate(factory)
    enter_permit(client, officer_headers, cand["id"], date(2026, 9, 1),
                 passed=[{"subject": n, "passed_on": f"2026-11-0{n}"} for n in passed])
    response = book(client, session["id"], headers)
    assert response.status_code == status, response.get_json()
    if reason:
        assert response.get_json()["reason"] == reason
        assert by_subject(progress(client, headers))[4]["reason"] == reason
    else:
        assert by_subject(progress(client, headers))[4]["active_booking_id"] == response.get_json()["id"]


def test_subjects_2_and_3_in_either_order(client, factory, officer_headers):
    session = create_session(client, officer_headers, subject=3)
    cand, headers = candidate(factory)
    enter_permit(client, officer_headers, cand["id"], date(2026, 9, 1))  # subject 2 not passed
    assert book(client, session["id"], headers).status_code == 201


# ---- C6: subjects 2 and 4 only ---------------------------------------------------------------------

def test_c6_sits_subject_2_and_then_subject_4_and_nothing_else(client, factory, officer_headers):
    s1 = create_session(client, officer_headers, subject=1, license_class="C6")
    s2 = create_session(client, officer_headers, subject=2, license_class="C6")
    s3 = create_session(client, officer_headers, subject=3, license_class="C6")
    s4 = create_session(client, officer_headers, subject=4, license_class="C6")
    cand, headers = candidate(factory, license_class="C6")
    for session in (s1, s3):
        response = book(client, session["id"], headers)
        assert response.status_code == 422 and response.get_json()["reason"] == "not_required"
    response = book(client, s2["id"], headers)
    assert response.status_code == 422 and response.get_json()["reason"] == "permit_missing"
    assert "added to a held licence without subject 1" in response.get_json()["message"]
    # The office enters the permit at acceptance: no subject 1 is implied for C6.
    entered = enter_permit(client, officer_headers, cand["id"], TODAY - timedelta(days=20), license_class="C6")
    assert entered.status_code == 200, entered.get_json()
    subjects = by_subject(entered.get_json())
    assert subjects[1]["passed"] is False and subjects[1]["reason"] == subjects[3]["reason"] == "not_required"
    assert subjects[2]["eligible"] is True and subjects[2]["eligible_from"] == TODAY.isoformat()
    assert subjects[3]["eligible_from"] is None
    assert subjects[4]["reason"] == "subject_order"
    response = book(client, s4["id"], headers)
    assert response.status_code == 422 and response.get_json()["reason"] == "subject_order"
    assert response.get_json()["message"].startswith("subject 2 must be passed before subject 4")
    # Subject 2 passed (90 for C6): subject 4 opens; no road test stands in the way.
    enter_permit(client, officer_headers, cand["id"], TODAY - timedelta(days=20), license_class="C6",
                 passed=[{"subject": 2, "passed_on": TODAY.isoformat(), "score": 90}])
    assert book(client, s4["id"], headers).status_code == 201


def test_c6_subject_2_passes_at_90(client, factory, officer_headers):
    cand, _ = candidate(factory, license_class="C6")
    response = enter_permit(client, officer_headers, cand["id"], date(2026, 9, 1), license_class="C6",
                            passed=[{"subject": 2, "passed_on": "2026-11-01", "score": 89}])
    assert response.status_code == 422
    assert response.get_json()["errors"]["json"]["passed"]["0"] == ["89 is below the pass mark of subject 2 (90)"]


# ---- motorcycles: no waiting days after the permit ---------------------------------------------------

@pytest.mark.parametrize("license_class", ["D", "E", "F"])
def test_motorcycles_book_subjects_2_and_3_the_day_the_permit_is_issued(client, factory, officer_headers,
                                                                       license_class):
    s2 = create_session(client, officer_headers, subject=2, license_class=license_class)
    s3 = create_session(client, officer_headers, subject=3, license_class=license_class)
    cand, headers = candidate(factory, license_class=license_class)
    enter_permit(client, officer_headers, cand["id"], TODAY, license_class=license_class)
    subjects = by_subject(progress(client, headers))
    assert subjects[2]["eligible_from"] == subjects[3]["eligible_from"] == TODAY.isoformat()
    assert book(client, s2["id"], headers).status_code == 201
    assert book(client, s3["id"], headers).status_code == 201


# ---- a candidate's booking closes at the cancel cut-off -----------------------------------------------

def test_a_candidate_books_until_the_cutoff_and_the_counter_after_it(app, client, factory, officer, officer_headers):
    session = create_session(client, officer_headers, starts_at=local(SATURDAY, 14), ends_at=local(SATURDAY, 16))
    early, early_headers = candidate(factory)
    late, late_headers = candidate(factory)
    at_counter, _ = candidate(factory)
    set_now(app, "2026-11-27T23:59:59+08:00")  # the last second of the day before
    assert book(client, session["id"], early_headers).status_code == 201
    set_now(app, "2026-11-28T00:00:00+08:00")  # the cut-off: cancelling closed, and so does booking
    response = book(client, session["id"], late_headers)
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert body["reason"] == "cutoff" and body["cutoff_at"] == "2026-11-28T00:00:00+08:00"
    set_now(app, "2026-11-28T00:10:00+08:00")  # the story: this afternoon's session booked at 00:10
    assert book(client, session["id"], late_headers).get_json()["reason"] == "cutoff"
    assert book(client, session["id"], late_headers, waitlist_if_full=True).get_json()["reason"] == "cutoff"
    counter = book(client, session["id"], officer_headers, candidate_id=at_counter["id"])
    assert counter.status_code == 201, counter.get_json()
    assert client.get(f"/api/v1/test-sessions/{session['id']}").get_json()["seats_left"] == 28


def test_a_change_into_a_session_past_its_cutoff_is_refused(app, client, factory, officer_headers):
    saturday = create_session(client, officer_headers, starts_at=local(SATURDAY, 9), ends_at=local(SATURDAY, 11))
    next_week = create_session(client, officer_headers, starts_at=local(date(2026, 12, 5), 9),
                               ends_at=local(date(2026, 12, 5), 11))
    _, headers = candidate(factory)
    mine = book(client, next_week["id"], headers).get_json()
    set_now(app, "2026-11-28T00:00:00+08:00")
    response = client.post(f"/api/v1/bookings/{mine['id']}/change", json={"session_id": saturday["id"]},
                           headers=headers)
    assert response.status_code == 422 and response.get_json()["reason"] == "cutoff"
    assert client.get(f"/api/v1/bookings/{mine['id']}", headers=headers).get_json()["session_id"] == next_week["id"]


@pytest.mark.parametrize("app_config", [{"EXAM_OFFICE_RULES": {"nanchuan": {"cancel_until": "18:00"}},
                                         "TOKEN_TTL_HOURS": 24 * 60}])
def test_the_offices_cancel_hour_closes_booking_too(app, client, factory, officer_headers):
    session = create_session(client, officer_headers)
    _, headers = candidate(factory)
    set_now(app, "2026-11-27T17:59:59+08:00")
    assert book(client, session["id"], headers).status_code == 201
    _, other = candidate(factory)
    set_now(app, "2026-11-27T18:00:00+08:00")
    response = book(client, session["id"], other)
    assert response.get_json()["reason"] == "cutoff" and response.get_json()["cutoff_at"] == "2026-11-27T18:00:00+08:00"


# ---- result texts ask the booking rules -------------------------------------------------------------

def test_a_pass_never_announces_a_subject_the_wait_refuses(app, client, factory, officer_headers):
    session = create_session(client, officer_headers, subject=2)
    cand, headers = candidate(factory)
    enter_permit(client, officer_headers, cand["id"], date(2026, 11, 12))  # C1: subject 3 from 12-12
    mine = book(client, session["id"], headers).get_json()
    text = key_result(app, client, officer_headers, mine["id"], outcome="passed", score=90)
    assert text == "11月28日 09:00 科目二考试合格（90分）。科目三可于12月12日起预约。"
    assert "现可预约" not in text and "科目四" not in text
    # The date in the text is the day the rules open.
    s3 = create_session(client, officer_headers, subject=3, starts_at=local(date(2026, 12, 19), 9),
                        ends_at=local(date(2026, 12, 19), 11))
    set_now(app, "2026-12-11T23:00:00+08:00")
    assert book(client, s3["id"], headers).get_json()["reason"] == "permit_waiting"
    set_now(app, "2026-12-12T00:00:00+08:00")
    assert book(client, s3["id"], headers).status_code == 201


def test_a_pass_of_subject_2_announces_subject_4_only_once_3_is_passed(app, client, factory, officer_headers):
    session = create_session(client, officer_headers, subject=2)
    s4 = create_session(client, officer_headers, subject=4, starts_at=local(SUNDAY, 14), ends_at=local(SUNDAY, 16))
    cand, headers = candidate(factory)
    enter_permit(client, officer_headers, cand["id"], date(2026, 9, 1),
                 passed=[{"subject": 3, "passed_on": "2026-11-20", "score": 92}])
    mine = book(client, session["id"], headers).get_json()
    text = key_result(app, client, officer_headers, mine["id"], outcome="passed", score=85)
    assert text == "11月28日 09:00 科目二考试合格（85分）。科目四现可预约。"
    assert book(client, s4["id"], headers).status_code == 201  # what the text announced is given


def test_a_fail_never_promises_a_day_after_the_permit_ends(app, client, factory, officer_headers):
    session = create_session(client, officer_headers, subject=2)
    cand, headers = candidate(factory)
    enter_permit(client, officer_headers, cand["id"], date(2023, 12, 2))  # valid until 2026-12-01
    mine = book(client, session["id"], headers).get_json()
    text = key_result(app, client, officer_headers, mine["id"], outcome="failed", score=60, retake_score=70)
    # Ten days after the sitting is 12-08, past the permit's last day: no booking day to announce.
    assert text == ("11月28日 09:00 科目二考试不合格（60分，补考70分）。本科目已用预约1次，剩4次；"
                    "学习驾驶证明有效期至2026年12月01日，到期前不能再预约本科目。")
    later = create_session(client, officer_headers, subject=2, starts_at=local(date(2026, 11, 30), 9),
                           ends_at=local(date(2026, 11, 30), 11))
    assert book(client, later["id"], headers).get_json()["reason"] == "waiting_period"


def test_a_motorcycle_pass_of_subject_1_opens_subjects_2_and_3_at_once(app, client, factory, officer_headers):
    session = create_session(client, officer_headers, subject=1, license_class="E")
    cand, headers = candidate(factory, license_class="E")
    mine = book(client, session["id"], headers).get_json()
    text = key_result(app, client, officer_headers, mine["id"], outcome="passed", score=95)
    assert text == ("11月28日 09:00 科目一考试合格（95分）。学习驾驶证明已核发，有效期至2029年11月27日；"
                    "科目二现可预约，科目三现可预约。")
    for subject in (2, 3):
        later = create_session(client, officer_headers, subject=subject, license_class="E",
                               starts_at=local(date(2026, 12, 5), 9), ends_at=local(date(2026, 12, 5), 11))
        assert book(client, later["id"], headers).status_code == 201


def test_a_pass_with_the_next_subject_already_booked_announces_nothing_bookable(app, client, factory,
                                                                               officer_headers):
    s2 = create_session(client, officer_headers, subject=2)
    s3 = create_session(client, officer_headers, subject=3, starts_at=local(SUNDAY, 9), ends_at=local(SUNDAY, 11))
    cand, headers = candidate(factory)
    history(app, cand["id"], 1, "passed", date(2026, 9, 1))
    mine = book(client, s2["id"], headers).get_json()
    assert book(client, s3["id"], headers).status_code == 201
    text = key_result(app, client, officer_headers, mine["id"], outcome="passed", score=88)
    assert text == "11月28日 09:00 科目二考试合格（88分）。其余科目暂不能预约，请以考试进度为准。"
