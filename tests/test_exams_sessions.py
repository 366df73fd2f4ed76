"""Test sessions: officers open them, anyone lists them with seats left and filters (weekend in office time)."""
from datetime import date

import pytest

from tests.helpers_exams import MONDAY, SATURDAY, SUNDAY, create_session, local, session_body, total
from vmo.uow import unit_of_work


@pytest.fixture
def officer(factory):
    return factory.staff("officer")


@pytest.fixture
def officer_headers(factory, officer):
    return factory.headers(officer)


def test_officer_opens_a_session_and_gets_it_back_in_office_time(client, officer_headers):
    response = client.post("/api/v1/test-sessions", json=session_body(capacity=12, kind="extra"),
                           headers=officer_headers)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body == {
        "id": body["id"], "office": "nanchuan", "subject": 1, "license_class": "C1",
        "starts_at": "2026-11-28T09:00:00+08:00", "ends_at": "2026-11-28T11:00:00+08:00", "date": "2026-11-28",
        "weekend": True, "venue": "南川区机动车驾驶人考试中心 1号考场", "kind": "extra", "allocation": "first_come",
        "applications_close_at": None, "capacity": 12, "seats_left": 12, "waitlist_length": 0, "state": "open",
        "drawn_at": None, "license_classes": ["C1"], "cancelled_at": None, "cancel_reason": None,
    }
    again = client.get(f"/api/v1/test-sessions/{body['id']}")
    assert again.status_code == 200 and again.get_json() == body


def test_a_ballot_session_needs_a_closing_time_before_its_start(client, officer_headers):
    response = client.post("/api/v1/test-sessions", json=session_body(allocation="ballot"), headers=officer_headers)
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"json": {"applications_close_at": ["required for a ballot session"]}}
    late = client.post("/api/v1/test-sessions", headers=officer_headers, json=session_body(
        allocation="ballot", applications_close_at=local(SATURDAY, 10)))
    assert late.status_code == 422
    assert late.get_json()["errors"] == {"json": {"applications_close_at": ["must be before starts_at"]}}
    ok = client.post("/api/v1/test-sessions", headers=officer_headers, json=session_body(
        allocation="ballot", applications_close_at=local(date(2026, 11, 26), 20)))
    assert ok.status_code == 201
    assert ok.get_json()["applications_close_at"] == "2026-11-26T20:00:00+08:00"
    assert ok.get_json()["state"] == "open"


@pytest.mark.parametrize("overrides, field, message", [
    ({"applications_close_at": local(date(2026, 11, 26), 20)}, "applications_close_at",
     "only a ballot session has a closing time for applications"),
    ({"starts_at": local(date(2026, 11, 24), 9), "ends_at": local(date(2026, 11, 24), 11)}, "starts_at",
     "must be in the future"),
    ({"ends_at": local(SATURDAY, 8)}, "ends_at", "must be after starts_at"),
])
def test_bad_sessions_are_refused_with_the_field_named(client, officer_headers, overrides, field, message):
    response = client.post("/api/v1/test-sessions", json=session_body(**overrides), headers=officer_headers)
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"json": {field: [message]}}
    assert total(client.get("/api/v1/test-sessions")) == 0


@pytest.mark.parametrize("overrides, field", [
    ({"subject": 5}, "subject"), ({"license_class": "Z9"}, "license_class"), ({"capacity": 0}, "capacity"),
    ({"kind": "weekly"}, "kind"), ({"allocation": "auction"}, "allocation"),
    ({"starts_at": "2026-11-28T09:00:00"}, "starts_at"), ({"venue": ""}, "venue"),
])
def test_malformed_fields_are_422_and_nothing_is_created(client, officer_headers, overrides, field):
    response = client.post("/api/v1/test-sessions", json=session_body(**overrides), headers=officer_headers)
    assert response.status_code == 422
    assert list(response.get_json()["errors"]["json"]) == [field]
    assert total(client.get("/api/v1/test-sessions")) == 0


def test_only_staff_open_sessions(client, factory):
    assert client.post("/api/v1/test-sessions", json=session_body()).status_code == 401
    cand = factory.candidate()
    response = client.post("/api/v1/test-sessions", json=session_body(), headers=factory.headers(cand["username"]))
    assert response.status_code == 403
    assert response.get_json()["message"] == "this needs the role admin or supervisor or officer"
    company = factory.company()
    assert client.post("/api/v1/test-sessions", json=session_body(),
                       headers=factory.headers(company["username"])).status_code == 403


def test_listing_filters_by_subject_class_dates_and_office_weekend(client, officer_headers):
    # Friday 23:30 UTC is Saturday 07:30 in Chongqing: a weekend session although UTC says Friday.
    sat_early = create_session(client, officer_headers, starts_at="2026-11-27T23:30:00+00:00",
                               ends_at="2026-11-28T01:30:00+00:00")
    # Sunday 17:00 UTC is Monday 01:00 in Chongqing: not a weekend session.
    mon_night = create_session(client, officer_headers, subject=2, starts_at="2026-11-29T17:00:00+00:00",
                               ends_at="2026-11-29T19:00:00+00:00")
    sunday_c2 = create_session(client, officer_headers, license_class="C2", starts_at=local(SUNDAY, 14),
                               ends_at=local(SUNDAY, 16))
    monday = create_session(client, officer_headers, subject=4, starts_at=local(MONDAY, 9), ends_at=local(MONDAY, 10))

    def ids(query=""):
        response = client.get(f"/api/v1/test-sessions{query}")
        assert response.status_code == 200, response.get_json()
        return [s["id"] for s in response.get_json()]

    assert ids() == [sat_early["id"], sunday_c2["id"], mon_night["id"], monday["id"]]
    assert ids("?weekend=true") == [sat_early["id"], sunday_c2["id"]]
    assert ids("?weekend=false") == [mon_night["id"], monday["id"]]
    assert ids("?subject=2") == [mon_night["id"]]
    assert ids("?license_class=C2") == [sunday_c2["id"]]
    assert ids("?from=2026-11-29&to=2026-11-29") == [sunday_c2["id"]]
    assert ids("?from=2026-11-30") == [mon_night["id"], monday["id"]]
    assert ids("?weekend=true&license_class=C1") == [sat_early["id"]]
    listed = client.get("/api/v1/test-sessions?weekend=true").get_json()[0]
    assert listed["starts_at"] == "2026-11-28T07:30:00+08:00" and listed["weekend"] is True
    assert total(client.get("/api/v1/test-sessions?subject=2")) == 1


@pytest.mark.parametrize("query", ["?subject=9", "?weekend=maybe", "?from=28-11-2026", "?license_class=X"])
def test_bad_filters_are_422(client, query):
    response = client.get(f"/api/v1/test-sessions{query}")
    assert response.status_code == 422
    assert "query" in response.get_json()["errors"]


def test_listing_another_office_and_an_unknown_one(client, factory, officer_headers):
    create_session(client, officer_headers)
    factory.other_office()
    assert client.get("/api/v1/test-sessions?office=fuling").get_json() == []
    assert len(client.get("/api/v1/test-sessions?office=nanchuan").get_json()) == 1
    response = client.get("/api/v1/test-sessions?office=nowhere")
    assert response.status_code == 404 and response.get_json()["message"] == "no office 'nowhere'"


def test_an_unknown_session_is_404(client, factory):
    factory.office  # noqa: B018
    response = client.get("/api/v1/test-sessions/999")
    assert response.status_code == 404
    assert response.get_json()["message"] == "no test session 999"


def test_every_endpoint_is_in_openapi_with_its_schemas(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    expected = {
        "/api/v1/test-sessions": {"get", "post"},
        "/api/v1/test-sessions/{session_id}": {"get"},
        "/api/v1/test-sessions/{session_id}/bookings": {"post"},
        "/api/v1/test-sessions/{session_id}/draw": {"get", "post"},
        "/api/v1/bookings": {"get"},
        "/api/v1/bookings/{booking_id}": {"get", "delete"},
        "/api/v1/bookings/{booking_id}/change": {"post"},
        "/api/v1/bookings/{booking_id}/outcome": {"post"},
        "/api/v1/bookings/{booking_id}/calendar.ics": {"get"},
        "/api/v1/calendars/test-sessions.ics": {"get"},
        "/api/v1/calendars/candidates/{secret}.ics": {"get"},
        "/api/v1/me/calendar-secret": {"post"},
        "/api/v1/me/exam-progress": {"get"},
        "/api/v1/candidates/{candidate_id}/exam-progress": {"get"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path
    book = paths["/api/v1/test-sessions/{session_id}/bookings"]["post"]
    assert set(book["responses"]) >= {"201", "202", "401", "403", "404", "409", "422"}
    assert book["responses"]["409"]["content"]["application/json"]["schema"]["$ref"].endswith("/ExamNoSeatError")
    seat_error = spec["components"]["schemas"]["ExamNoSeatError"]["properties"]
    assert seat_error["seats_left"]["type"] == "integer"
    session_props = spec["components"]["schemas"]["ExamSession"]["properties"]
    assert {"seats_left", "weekend", "starts_at", "capacity"} <= set(session_props)
    ics = paths["/api/v1/bookings/{booking_id}/calendar.ics"]["get"]["responses"]
    assert list(ics["200"]["content"]) == ["text/calendar"] and "304" in ics
    assert list(paths["/api/v1/calendars/test-sessions.ics"]["get"]["responses"]["200"]["content"]) == ["text/calendar"]
    booking_props = spec["components"]["schemas"]["ExamBooking"]["properties"]
    assert {"id", "session_id", "status", "outcome"} <= set(booking_props)


def test_the_demo_step_opens_next_weekends_sessions_once(app, client, factory):
    from schedules.exams.demo import demo_step
    from vmo.offices.services import get_office

    officer = factory.staff("officer")
    with app.app_context(), unit_of_work():
        assert "schedules.exams.demo" in {s.__module__ for s in app.extensions["vmo.demo_steps"]}
        first = demo_step(get_office(factory.office))
        second = demo_step(get_office(factory.office))
    # Three sessions, the examiner, the four demo candidates, and a 17-year-old's C1 application refused for age.
    assert first == second and len(first) == 9
    assert first[-1].startswith("application refused (age): 周小雨, 17, for C1: class C1 needs an age of 18 or older")
    saturday = client.get("/api/v1/test-sessions?weekend=true").get_json()[0]
    named = client.patch(f"/api/v1/test-sessions/{saturday['id']}", json={}, headers=factory.headers(officer))
    assert named.get_json()["examiners"] == [officer.id]
    sessions = client.get("/api/v1/test-sessions?weekend=true").get_json()
    assert [(s["date"], s["subject"], s["allocation"]) for s in sessions] == [
        ("2026-11-28", 2, "first_come"), ("2026-11-28", 3, "first_come"), ("2026-11-29", 3, "ballot")]
    assert sessions[2]["applications_close_at"] == "2026-11-26T20:00:00+08:00"
    officer = factory.headers(factory.staff("officer"))
    listed = client.get("/api/v1/applications", headers=officer).get_json()
    # Each demo candidate accepted (seconds apart, in the order they are listed); the refused one left nothing.
    assert [(a["name"], a["accepted_at"]) for a in listed] == [
        ("赵明", "2026-07-28T09:30:04+08:00"), ("陈思雨", "2026-07-28T09:30:03+08:00"),
        ("李建国", "2026-07-28T09:30:02+08:00"), ("王小芳", "2026-07-28T09:30:01+08:00")]


def test_the_demo_step_needs_an_officer(app, factory):
    from schedules.exams.demo import demo_step
    from vmo.offices.services import get_office

    with app.app_context():
        assert demo_step(get_office(factory.office)) == ["test sessions: no officer in the office, skipped"]
