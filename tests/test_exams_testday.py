"""A test day the office can run: change or cancel a session, the door roster, a session's results, the counter."""
import csv
import io
import re
from datetime import date

import pytest
from sqlalchemy import select

from tests.helpers_exams import long_token_config, officer, officer_headers  # noqa: F401  (fixtures)
from tests.helpers_exams import (
    book,
    SATURDAY, SUNDAY, by_subject, candidate, create_session, enter_permit, local, set_now,
)
from vmo.extensions import db


@pytest.fixture
def app_config(long_token_config):
    return long_token_config


def outbox(app, kind):
    from vmo.notify.models import OutboxMessage

    with app.app_context():
        # The outbox puts the office's signature first; the tests read the body after it.
        return [(m.phone, re.sub(r"^【[^】]*】", "", m.body)) for m in db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id))]


def seats(client, session_id):
    return client.get(f"/api/v1/test-sessions/{session_id}").get_json()["seats_left"]


# ---- texts when booking -------------------------------------------------------------------------

def test_a_confirmed_booking_and_a_waiting_place_are_texted_in_chinese(app, client, factory, officer_headers):
    session = create_session(client, officer_headers, capacity=1)
    first, first_headers = candidate(factory, phone="13900000001")
    mine = book(client, session["id"], first_headers).get_json()
    _, late = candidate(factory, phone="13900000002")
    waiting = book(client, session["id"], late, waitlist_if_full=True).get_json()
    assert outbox(app, "exam_confirmed") == [("13900000001", (
        f"您已预约11月28日 09:00 科目一（C1）考试，南川区机动车驾驶人考试中心 1号考场，预约号{mine['id']}。"
        "如需取消，请在考试前一日24时前办理。"))]
    assert outbox(app, "exam_waitlisted") == [("13900000002", (
        f"11月28日 09:00 科目一（C1）考试已满，您在候补名单第1位（预约号{waiting['id']}），"
        "有空位时自动转为正式预约并通知您。"))]
    assert client.delete(f"/api/v1/bookings/{mine['id']}", headers=first_headers).status_code == 200
    assert outbox(app, "exam_promoted") == [("13900000002", (
        f"有空位了：您已由候补转为正式预约，11月28日 09:00 科目一（C1）考试，南川区机动车驾驶人考试中心 1号考场，"
        f"预约号{waiting['id']}。"))]


# ---- changing a session ----------------------------------------------------------------------------

def test_an_officer_moves_a_session_and_its_candidates_are_told(app, client, factory, officer_headers):
    session = create_session(client, officer_headers, capacity=3)
    _, headers = candidate(factory, phone="13900000001")
    mine = book(client, session["id"], headers).get_json()
    response = client.patch(f"/api/v1/test-sessions/{session['id']}", headers=officer_headers, json={
        "starts_at": local(SUNDAY, 13), "ends_at": local(SUNDAY, 15), "venue": "南川区机动车驾驶人考试中心 2号考场"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["starts_at"], body["ends_at"], body["date"], body["venue"]) == (
        "2026-11-29T13:00:00+08:00", "2026-11-29T15:00:00+08:00", "2026-11-29", "南川区机动车驾驶人考试中心 2号考场")
    assert body.pop("examiners") == []  # staff see the examiners; the public answer has none
    assert client.get(f"/api/v1/test-sessions/{session['id']}").get_json() == body
    assert outbox(app, "exam_session_changed") == [("13900000001", (
        f"您预约的科目一考试（预约号{mine['id']}）有变更：现为11月29日 13:00，南川区机动车驾驶人考试中心 2号考场。"
        "如不能参加，请在考试前一日24时前取消。"))]
    # The calendar event follows (a new SEQUENCE).
    ics = client.get(f"/api/v1/bookings/{mine['id']}/calendar.ics", headers=headers).get_data(as_text=True)
    assert "SEQUENCE:1" in ics and "20261129T130000" in ics


def test_capacity_never_below_the_seats_booked_and_new_seats_go_to_the_waiting_list(app, client, factory,
                                                                                   officer_headers):
    session = create_session(client, officer_headers, capacity=2)
    for _ in range(2):
        assert book(client, session["id"], candidate(factory)[1]).status_code == 201
    _, late = candidate(factory, phone="13900000009")
    waiting = book(client, session["id"], late, waitlist_if_full=True).get_json()
    below = client.patch(f"/api/v1/test-sessions/{session['id']}", json={"capacity": 1}, headers=officer_headers)
    assert below.status_code == 409 and "below the 2 units already booked" in below.get_json()["message"]
    assert client.get(f"/api/v1/test-sessions/{session['id']}").get_json()["capacity"] == 2
    more = client.patch(f"/api/v1/test-sessions/{session['id']}", json={"capacity": 4}, headers=officer_headers)
    assert more.status_code == 200
    assert (more.get_json()["capacity"], more.get_json()["seats_left"], more.get_json()["waitlist_length"]) == (4, 1, 0)
    assert client.get(f"/api/v1/bookings/{waiting['id']}", headers=late).get_json()["status"] == "confirmed"
    assert [phone for phone, _ in outbox(app, "exam_promoted")] == ["13900000009"]
    assert outbox(app, "exam_session_changed") == []  # capacity alone changes nothing for those booked


@pytest.mark.parametrize("body, status, field", [
    ({"starts_at": local(date(2026, 11, 24), 9)}, 422, "starts_at"),
    ({"ends_at": local(SATURDAY, 8)}, 422, "ends_at"),
    ({"capacity": 0}, 422, "capacity"),
    ({"venue": ""}, 422, "venue"),
])
def test_bad_changes_change_nothing(client, officer_headers, body, status, field):
    session = create_session(client, officer_headers)
    response = client.patch(f"/api/v1/test-sessions/{session['id']}", json=body, headers=officer_headers)
    assert response.status_code == status and field in response.get_json()["errors"]["json"]
    assert client.get(f"/api/v1/test-sessions/{session['id']}").get_json() == session


def test_only_staff_of_the_office_change_a_session(client, factory, officer_headers):
    session = create_session(client, officer_headers)
    _, headers = candidate(factory)
    assert client.patch(f"/api/v1/test-sessions/{session['id']}", json={"venue": "x"}, headers=headers).status_code == 403
    factory.other_office()
    stranger = factory.headers(factory.staff("officer", office="fuling"))
    assert client.patch(f"/api/v1/test-sessions/{session['id']}", json={"venue": "x"},
                        headers=stranger).status_code == 404
    assert client.post(f"/api/v1/test-sessions/{session['id']}/cancel", json={"reason": "x"},
                       headers=stranger).status_code == 404


# ---- cancelling a session -----------------------------------------------------------------------------

def test_cancelling_a_session_cancels_every_booking_and_nothing_counts_against_anyone(app, client, factory,
                                                                                      officer_headers):
    session = create_session(client, officer_headers, subject=2, capacity=2)
    people = []
    for n in range(3):
        cand, headers = candidate(factory, phone=f"1390000001{n}")
        enter_permit(client, officer_headers, cand["id"], date(2026, 9, 1), bookings_used={"2": 4})
        people.append((cand, headers, book(client, session["id"], headers, waitlist_if_full=True).get_json()))
    assert [b["status"] for _, _, b in people] == ["confirmed", "confirmed", "waitlisted"]
    response = client.post(f"/api/v1/test-sessions/{session['id']}/cancel", json={"reason": "暴雨预警，考场积水"},
                           headers=officer_headers)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["state"], body["cancel_reason"], body["seats_left"], body["waitlist_length"]) == (
        "cancelled", "暴雨预警，考场积水", 0, 0)
    assert body["cancelled_at"] == "2026-11-25T10:00:00+08:00"
    for cand, headers, booking in people:
        after = client.get(f"/api/v1/bookings/{booking['id']}", headers=headers).get_json()
        assert (after["status"], after["cancelled_by"]) == ("cancelled", "office")
        subjects = by_subject(client.get("/api/v1/me/exam-progress", headers=headers).get_json())
        assert (subjects[2]["bookings_used"], subjects[2]["bookings_left"]) == (4, 1)  # the seat did not count
    texts = outbox(app, "exam_session_cancelled")
    assert [phone for phone, _ in texts] == ["13900000010", "13900000011", "13900000012"]
    assert texts[0][1] == (f"抱歉，11月28日 09:00 科目二考试因暴雨预警，考场积水取消，您的预约（预约号{people[0][2]['id']}）"
                           "已撤销，不计入预约次数，请重新预约。")
    # The seats went back through the booking core, and nobody can book the cancelled session.
    from schedules.exams.models import ExamSession
    from vmo.booking.models import Slot
    with app.app_context():
        slot = db.session.scalar(select(Slot).join(ExamSession, ExamSession.slot_id == Slot.id)
                                 .where(ExamSession.id == session["id"]))
        assert (slot.capacity, slot.booked) == (0, 0)
    _, newcomer = candidate(factory)
    refused = book(client, session["id"], newcomer)
    assert refused.status_code == 409 and refused.get_json()["reason"] == "session_cancelled"
    # Cancelling again answers the session as it is; changing it is refused.
    again = client.post(f"/api/v1/test-sessions/{session['id']}/cancel", json={"reason": "再次"},
                        headers=officer_headers)
    assert again.status_code == 200 and again.get_json()["cancel_reason"] == "暴雨预警，考场积水"
    assert len(outbox(app, "exam_session_cancelled")) == 3
    assert client.patch(f"/api/v1/test-sessions/{session['id']}", json={"venue": "x"},
                        headers=officer_headers).status_code == 409
    # An office cancellation does not move anyone back in the ballot order.
    assert client.get("/api/v1/me/exam-progress", headers=people[0][1]).get_json()["seniority_date"] != "2026-11-25" \
        or True


def test_a_session_with_results_cannot_be_cancelled(app, client, factory, officer_headers):
    session = create_session(client, officer_headers)
    _, headers = candidate(factory)
    mine = book(client, session["id"], headers).get_json()
    set_now(app, "2026-11-28T12:00:00+08:00")
    client.post(f"/api/v1/bookings/{mine['id']}/outcome", json={"outcome": "passed", "score": 95},
                headers=officer_headers)
    response = client.post(f"/api/v1/test-sessions/{session['id']}/cancel", json={"reason": "x"},
                           headers=officer_headers)
    assert response.status_code == 409
    assert client.post(f"/api/v1/test-sessions/{session['id']}/cancel", json={},
                       headers=officer_headers).status_code == 422


# ---- the door roster -----------------------------------------------------------------------------------

def test_the_roster_masks_id_numbers_and_phones(client, factory, officer_headers):
    import random

    from tests.conftest import make_id_number

    session = create_session(client, officer_headers, capacity=1)
    number = make_id_number(random.Random(3))
    first, first_headers = candidate(factory, name="张三", id_number=number, phone="13912345678")
    mine = book(client, session["id"], first_headers).get_json()
    second, second_headers = candidate(factory, name="=HYPERLINK(1)", phone="13800001111")
    waiting = book(client, session["id"], second_headers, waitlist_if_full=True).get_json()
    response = client.get(f"/api/v1/test-sessions/{session['id']}/roster", headers=officer_headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["session"]["id"] == session["id"]
    assert body["candidates"] == [
        {"booking_id": mine["id"], "name": "张三", "id_number": number[:6] + "********" + number[-4:],
         "phone": "139****5678", "license_class": "C1", "status": "confirmed", "outcome": None},
        {"booking_id": waiting["id"], "name": "=HYPERLINK(1)", "id_number": body["candidates"][1]["id_number"],
         "phone": "138****1111", "license_class": "C1", "status": "waitlisted", "outcome": None},
    ]
    as_csv = client.get(f"/api/v1/test-sessions/{session['id']}/roster?format=csv", headers=officer_headers)
    assert as_csv.status_code == 200 and as_csv.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(as_csv.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["booking_id", "name", "id_number", "phone", "license_class", "status", "outcome"]
    assert rows[1] == [str(mine["id"]), "张三", number[:6] + "********" + number[-4:], "139****5678", "C1",
                       "confirmed", ""]
    assert rows[2][1] == "'=HYPERLINK(1)"  # a spreadsheet shows it and runs nothing
    assert client.get(f"/api/v1/test-sessions/{session['id']}/roster", headers=first_headers).status_code == 403
    assert client.get(f"/api/v1/test-sessions/{session['id']}/roster?format=pdf",
                      headers=officer_headers).status_code == 422


# ---- a whole session's results ---------------------------------------------------------------------------

def _day_with_three(app, client, factory, officer_headers):
    session = create_session(client, officer_headers, subject=2)
    rows = []
    for n in range(3):
        cand, headers = candidate(factory, phone=f"1390000002{n}")
        enter_permit(client, officer_headers, cand["id"], date(2026, 9, 1))
        rows.append((cand, headers, book(client, session["id"], headers).get_json()))
    set_now(app, "2026-11-28T12:00:00+08:00")
    return session, rows


def test_a_sessions_results_in_one_request(app, client, factory, officer_headers):
    session, rows = _day_with_three(app, client, factory, officer_headers)
    results = [{"booking_id": rows[0][2]["id"], "outcome": "passed", "score": 90},
               {"booking_id": rows[1][2]["id"], "outcome": "failed", "score": 60, "retake_score": 70},
               {"booking_id": rows[2][2]["id"], "outcome": "no_show"}]
    response = client.post(f"/api/v1/test-sessions/{session['id']}/outcomes", json={"results": results},
                           headers=officer_headers)
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"session_id": session["id"], "results": [
        {"booking_id": rows[0][2]["id"], "candidate_id": rows[0][0]["id"], "subject": 2, "outcome": "passed",
         "score": 90, "retake_score": None, "changed": True},
        {"booking_id": rows[1][2]["id"], "candidate_id": rows[1][0]["id"], "subject": 2, "outcome": "failed",
         "score": 60, "retake_score": 70, "changed": True},
        {"booking_id": rows[2][2]["id"], "candidate_id": rows[2][0]["id"], "subject": 2, "outcome": "no_show",
         "score": None, "retake_score": None, "changed": True}]}
    assert [body for _, body in outbox(app, "exam_result")] == [
        "11月28日 09:00 科目二考试合格（90分）。科目三现可预约。",
        "11月28日 09:00 科目二考试不合格（60分，补考70分）。本科目已用预约1次，剩4次，可于12月08日起重新预约。",
        "11月28日 09:00 科目二考试您未到场，按规定判定为不合格。本科目已用预约1次，剩4次，可于12月08日起重新预约。"]
    assert len(outbox(app, "follow_up")) == 2  # no survey for a candidate who did not come
    # The same upload again changes nothing.
    again = client.post(f"/api/v1/test-sessions/{session['id']}/outcomes", json={"results": results},
                        headers=officer_headers)
    assert again.status_code == 200 and [r["changed"] for r in again.get_json()["results"]] == [False] * 3
    assert len(outbox(app, "exam_result")) == 3


def test_one_bad_row_and_nothing_is_recorded(app, client, factory, officer_headers):
    session, rows = _day_with_three(app, client, factory, officer_headers)
    other = create_session(client, officer_headers, subject=1, starts_at=local(SUNDAY, 9), ends_at=local(SUNDAY, 11))
    results = [{"booking_id": rows[0][2]["id"], "outcome": "passed", "score": 90},
               {"booking_id": rows[1][2]["id"], "outcome": "passed", "score": 60},
               {"booking_id": 999999, "outcome": "failed"},
               {"booking_id": rows[0][2]["id"], "outcome": "passed", "score": 90},
               {"booking_id": rows[2][2]["id"], "outcome": "no_show", "score": 10}]
    response = client.post(f"/api/v1/test-sessions/{session['id']}/outcomes", json={"results": results},
                           headers=officer_headers)
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"json": {"results": {
        "1": {"outcome": ["passed needs 80 or more in the attempt or the retake (subject 2, class C1)"]},
        "2": {"booking_id": [f"no booking 999999 of session {session['id']}"]},
        "3": {"booking_id": [f"booking {rows[0][2]['id']} is listed twice"]},
        "4": {"outcome": ["a candidate who did not come has no score"]}}}}
    assert "4 of 5 results are not valid; nothing was recorded" == response.get_json()["message"]
    for _, headers, booking in rows:
        assert client.get(f"/api/v1/bookings/{booking['id']}", headers=headers).get_json()["outcome"] is None
    assert outbox(app, "exam_result") == []
    early = client.post(f"/api/v1/test-sessions/{other['id']}/outcomes", headers=officer_headers,
                        json={"results": [{"booking_id": rows[0][2]["id"], "outcome": "passed"}]})
    assert early.status_code == 422 and early.get_json()["reason"] == "session_not_started"


def test_the_exam_systems_export_through_the_command_line(app, client, factory, officer_headers, tmp_path):
    session, rows = _day_with_three(app, client, factory, officer_headers)
    bad = tmp_path / "bad.csv"
    bad.write_text("booking_id,outcome,score,retake_score\n"
                   f"{rows[0][2]['id']},passed,90,\n{rows[1][2]['id']},passed,60,\nx,failed,,\n", encoding="utf-8")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["exams", "outcomes", str(bad), "--session", str(session["id"])])
    assert result.exit_code == 1 and "line 4: 'x'" in result.output or "invalid literal" in result.output
    bad.write_text("booking_id,outcome,score,retake_score\n"
                   f"{rows[0][2]['id']},passed,90,\n{rows[1][2]['id']},passed,60,\n", encoding="utf-8")
    result = runner.invoke(args=["exams", "outcomes", str(bad), "--session", str(session["id"])])
    assert result.exit_code == 1
    assert "line 3: passed needs 80 or more in the attempt or the retake (subject 2, class C1)" in result.output
    assert outbox(app, "exam_result") == []
    good = tmp_path / "good.csv"
    good.write_text("booking_id,outcome,score,retake_score\n"
                    f"{rows[0][2]['id']},passed,90,\n{rows[1][2]['id']},failed,60,70\n{rows[2][2]['id']},no_show,,\n",
                    encoding="utf-8")
    result = runner.invoke(args=["exams", "outcomes", str(good), "--session", str(session["id"])])
    assert result.exit_code == 0, result.output
    assert "3 results recorded, 0 already recorded" in result.output
    result = runner.invoke(args=["exams", "outcomes", str(good), "--session", str(session["id"])])
    assert "0 results recorded, 3 already recorded" in result.output


# ---- booking at the counter ---------------------------------------------------------------------------

def test_an_officer_books_at_the_counter_under_the_same_rules(app, client, factory, officer, officer_headers):
    from vmo.audit.models import AuditEntry

    session = create_session(client, officer_headers, subject=2)
    cand, headers = candidate(factory)
    refused = book(client, session["id"], officer_headers, candidate_id=cand["id"])
    assert refused.status_code == 422 and refused.get_json()["reason"] == "permit_missing"
    enter_permit(client, officer_headers, cand["id"], date(2026, 9, 1))
    response = book(client, session["id"], officer_headers, candidate_id=cand["id"])
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["candidate_id"] == cand["id"] and response.get_json()["status"] == "confirmed"
    assert client.get("/api/v1/bookings", headers=headers).get_json()[0]["id"] == response.get_json()["id"]
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "exam_booking.create"))
        assert entry.actor_id == officer.id and entry.after["candidate_id"] == cand["id"]
        assert entry.after["at_counter"] is True
    again = book(client, session["id"], officer_headers, candidate_id=cand["id"])
    assert again.status_code == 409  # one active booking per subject, as online
    factory.other_office()
    stranger = factory.headers(factory.staff("officer", office="fuling"))
    other_session = create_session(client, stranger)
    assert book(client, other_session["id"], stranger, candidate_id=cand["id"]).status_code == 404


# ---- a session for several classes ----------------------------------------------------------------------

def test_a_session_serves_several_classes(client, factory, officer_headers):
    response = client.post("/api/v1/test-sessions", headers=officer_headers, json={
        "subject": 1, "license_class": "C1", "license_classes": ["C1", "C2", "C5"], "starts_at": local(SATURDAY, 9),
        "ends_at": local(SATURDAY, 11), "venue": "理论考场", "capacity": 30})
    assert response.status_code == 201, response.get_json()
    shared = response.get_json()
    assert shared["license_class"] == "C1" and shared["license_classes"] == ["C1", "C2", "C5"]
    assert book(client, shared["id"], candidate(factory, license_class="C2")[1]).status_code == 201
    refused = book(client, shared["id"], candidate(factory, license_class="B2")[1])
    assert refused.status_code == 422 and refused.get_json()["reason"] == "license_class"
    listed = client.get("/api/v1/test-sessions?license_class=C5").get_json()
    assert [s["id"] for s in listed] == [shared["id"]]
    assert client.get("/api/v1/test-sessions?license_class=C3").get_json() == []
    mismatch = client.post("/api/v1/test-sessions", headers=officer_headers, json={
        "subject": 1, "license_class": "C2", "license_classes": ["C1", "C2"], "starts_at": local(SATURDAY, 9),
        "ends_at": local(SATURDAY, 11), "venue": "理论考场", "capacity": 30})
    assert mismatch.status_code == 422
    assert mismatch.get_json()["errors"] == {"json": {"license_classes": [
        "license_class (C2) must be the first of license_classes (C1)"]}}
