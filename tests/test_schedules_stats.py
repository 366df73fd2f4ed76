"""Driving-test and tour figures in GET /api/v1/stats, against a data set counted by hand.

The period is 2026-11-01..2026-12-06 (Chongqing dates). Data before it (a test on 10-31), after it
(a test and a tour on 12-12) and of another office (Fuling, 11-28) must not be counted.
"""
from datetime import date

import pytest

from schedules.stats import DrivingTestStatsSchema, TourStatsSchema
from tests.helpers_exams import candidate, create_session, history, local
from tests.helpers_tours import ALL_PASS, at, create_tour, publish, stop
from tests.test_stats import at as clock_at

RANGE = {"from": "2026-11-01", "to": "2026-12-06"}
THU, SAT, SUN, MON = date(2026, 11, 26), date(2026, 11, 28), date(2026, 11, 29), date(2026, 11, 30)


@pytest.fixture
def app_config():
    # The data set spans days of frozen time: tokens must outlive it.
    return {"TOKEN_TTL_HOURS": 24 * 30}


def book(client, session, headers, **body):
    response = client.post(f"/api/v1/test-sessions/{session['id']}/bookings", json=body or None, headers=headers)
    assert response.status_code in (201, 202), response.get_json()  # 202: a ballot application
    return response.get_json()


def _outcome(client, headers, booking, outcome):
    response = client.post(f"/api/v1/bookings/{booking['id']}/outcome", json={"outcome": outcome}, headers=headers)
    assert response.status_code == 200, response.get_json()


def register(client, tour, index, plate, phone="13900000001"):
    stop_id = tour["stops"][index]["id"]
    response = client.post(f"/api/v1/tours/{tour['id']}/stops/{stop_id}/registrations",
                           json={"plate": plate, "owner_name": "王德明", "phone": phone})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _inspect(client, headers, tour, index, plate, result, hour, minute=0):
    stop_id = tour["stops"][index]["id"]
    response = client.post(f"/api/v1/tours/{tour['id']}/stops/{stop_id}/inspections", headers=headers,
                           json={"plate": plate, "result": result, "recorded_at": at(hour, minute, day=SAT),
                                 "checklist": ALL_PASS if result == "pass" else {"lights": "fail"}})
    assert response.status_code == 201, response.get_json()


@pytest.fixture
def data(app, client, factory):
    """The fixed data set; every expected figure below is counted by hand from it."""
    clock_at(app, "2026-11-25T10:00:00")
    officer = factory.staff("officer", badge_number="500123")
    staff = factory.headers(officer)
    supervisor = factory.staff("supervisor")

    # ---- driving tests ----
    s3 = create_session(client, staff, starts_at=local(THU, 14), ends_at=local(THU, 16), capacity=4, kind="extra")
    s1 = create_session(client, staff, capacity=3)                                    # Saturday 11-28
    s5 = create_session(client, staff, starts_at=local(SAT, 14), ends_at=local(SAT, 16), capacity=2,
                        allocation="ballot", applications_close_at=local(date(2026, 11, 27), 18))
    s2 = create_session(client, staff, starts_at=local(SUN, 9), ends_at=local(SUN, 11), capacity=2, kind="extra")
    create_session(client, staff, starts_at=local(date(2026, 12, 5), 9), ends_at=local(date(2026, 12, 5), 11),
                   capacity=5)                                                        # in the period, no one booked
    s7 = create_session(client, staff, starts_at=local(date(2026, 12, 12), 9),
                        ends_at=local(date(2026, 12, 12), 11), capacity=5)            # after the period
    people = {n: candidate(factory) for n in ("c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9", "c10", "c11")}
    b = {n: book(client, s1, people[n][1]) for n in ("c1", "c2", "c3")}
    b["c4"] = book(client, s1, people["c4"][1], waitlist_if_full=True)
    b["c5"] = book(client, s1, people["c5"][1], waitlist_if_full=True)
    assert (b["c4"]["status"], b["c5"]["status"]) == ("waitlisted", "waitlisted")
    assert client.delete(f"/api/v1/bookings/{b['c5']['id']}", headers=people["c5"][1]).status_code == 200
    b["c6"] = book(client, s2, people["c6"][1])
    b["c7"] = book(client, s3, people["c7"][1])
    book(client, s7, people["c8"][1])
    assert book(client, s5, people["c9"][1])["status"] == "applied"
    history(app, people["c10"][0]["id"], 1, "passed", date(2026, 11, 14))           # a Saturday in the period
    history(app, people["c11"][0]["id"], 1, "passed", date(2026, 10, 31))           # before the period

    # ---- tours ----
    t1 = create_tour(client, staff, [officer], name="南川东线下乡检验", stops=[
        stop("大观镇", (9, 0), capacity=10), stop("水江镇", (11, 0), capacity=10), stop("三泉镇", (14, 0), capacity=5)])
    t2 = create_tour(client, staff, [officer], name="南平", stops=[stop("南平镇", (10, 0), capacity=8, day=SUN)],
                     day=SUN)
    t3 = create_tour(client, staff, [officer], stops=[stop("大观镇", (9, 0), day=MON)], day=MON)
    create_tour(client, staff, [officer], stops=[stop("大观镇", (9, 0), day=date(2026, 11, 27))],
                day=date(2026, 11, 27))                                               # stays a draft
    t5 = create_tour(client, staff, [officer], stops=[stop("大观镇", (9, 0), day=date(2026, 12, 12))],
                     day=date(2026, 12, 12))
    routed = client.post(f"/api/v1/tours/{t2['id']}/route", json={}, headers=staff)
    assert routed.status_code == 200, routed.get_json()
    t2 = routed.get_json()
    for tour in (t1, t2, t3, t5):
        publish(client, staff, tour["id"])
    for index, plate in ((0, "渝G10001"), (0, "渝G10002"), (0, "渝G10003"), (1, "渝G10004"), (2, "渝G10005")):
        register(client, t1, index, plate)
    register(client, t2, 0, "渝G10006")
    register(client, t3, 0, "渝G10007")
    register(client, t5, 0, "渝G10008")
    # The third stop of t1 is dropped after publishing: it and its registration are cancelled.
    dropped = client.patch(f"/api/v1/tours/{t1['id']}", headers=staff,
                           json={"stops": [{"id": t1["stops"][2]["id"], "remove": True}]})
    assert dropped.status_code == 200, dropped.get_json()
    assert client.post(f"/api/v1/tours/{t3['id']}/cancel", json={}, headers=staff).status_code == 200

    # ---- another office, same days ----
    factory.other_office()
    fuling = factory.staff("officer", office="fuling")
    fuling_staff = factory.headers(fuling)
    theirs = create_session(client, fuling_staff, capacity=10)
    book(client, theirs, candidate(factory, office="fuling")[1])
    their_tour = create_tour(client, fuling_staff, [fuling], stops=[stop("大观镇", (9, 0))])
    publish(client, fuling_staff, their_tour["id"])

    # ---- what happened on the days ----
    clock_at(app, "2026-11-26T17:00:00")
    _outcome(client, factory.headers(officer), b["c7"], "passed")
    clock_at(app, "2026-11-28T12:00:00")
    staff = factory.headers(officer)
    for name, outcome in (("c1", "passed"), ("c2", "failed"), ("c3", "no_show")):
        _outcome(client, staff, b[name], outcome)
    clock_at(app, "2026-11-28T18:00:00")
    staff = factory.headers(officer)
    _inspect(client, staff, t1, 0, "渝G10001", "pass", 9, 10)
    _inspect(client, staff, t1, 0, "渝G10002", "fail", 9, 20)
    _inspect(client, staff, t1, 0, "渝G10002", "pass", 9, 40)   # fixed on the spot: one vehicle, passed
    _inspect(client, staff, t1, 1, "渝G10004", "fail", 11, 10)
    _inspect(client, staff, t1, 1, "渝G10009", "pass", 11, 20)  # a walk-in
    _inspect(client, factory.headers(fuling), their_tour, 0, "渝G20001", "pass", 9, 30)
    clock_at(app, "2026-11-29T20:00:00")
    return {"staff": factory.headers(officer), "supervisor": factory.headers(supervisor), "t2": t2}


DRIVING_TESTS = {
    # Sessions 11-14 (history), Thu 11-26 (extra), two on Sat 11-28, Sun 11-29 (extra), Sat 12-05.
    "sessions": 6, "weekend_sessions": 5, "extra_sessions": 2, "seats": 10 + 4 + 3 + 2 + 2 + 5,
    # Seats taken by c10 (history), c7, c1, c2, c3, c6.
    "booked": 6, "candidates": 6, "applied": 1, "waitlisted": 1, "cancelled": 1,
    "took_test": 4, "passed": 3, "failed": 1, "no_shows": 1, "pass_rate": 0.75, "seat_utilisation": 0.2308,
}
TOURS = {
    "tours": 2, "cancelled_tours": 1, "draft_tours": 1, "stops": 3, "capacity": 10 + 10 + 8,
    "vehicles_registered": 5, "vehicles_inspected": 4, "passed": 3, "failed": 1, "walk_ins": 1, "pass_rate": 0.75,
}
BOOKINGS_PER_WEEKEND = [{"label": "11-14", "value": 1}, {"label": "11-28", "value": 4}, {"label": "12-05", "value": 0}]
INSPECTED_PER_TOUR = [{"label": "11-28 南川东线…", "value": 4}, {"label": "11-29 南平", "value": 0}]


def test_figures_match_the_hand_count(client, data):
    response = client.get("/api/v1/stats", headers=data["staff"], query_string=RANGE)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["driving_tests"] == DRIVING_TESTS
    assert body["tours"] == {**TOURS, "distance_km": data["t2"]["distance_km"]}
    assert data["t2"]["distance_km"] > 0  # only the routed tour has a distance
    charts = {c["id"]: c for c in body["charts"]}
    assert charts["bookings_per_weekend"] == {"id": "bookings_per_weekend", "unit": "",
                                              "title": "考试预约（按周末） Bookings per weekend",
                                              "points": BOOKINGS_PER_WEEKEND}
    assert charts["vehicles_inspected_per_tour"] == {"id": "vehicles_inspected_per_tour", "unit": "",
                                                     "title": "下乡检验车辆（按巡回） Vehicles inspected per tour",
                                                     "points": INSPECTED_PER_TOUR}
    assert body["unavailable"] == []
    # The sections are exactly what their documented schemas say (unknown keys would be refused).
    DrivingTestStatsSchema().load(body["driving_tests"])
    TourStatsSchema().load(body["tours"])


def test_a_narrower_period_counts_less(client, data):
    body = client.get("/api/v1/stats", headers=data["staff"],
                      query_string={"from": "2026-11-28", "to": "2026-11-28"}).get_json()
    assert body["driving_tests"] == {
        "sessions": 2, "weekend_sessions": 2, "extra_sessions": 0, "seats": 5, "booked": 3, "candidates": 3,
        "applied": 1, "waitlisted": 1, "cancelled": 1, "took_test": 2, "passed": 1, "failed": 1, "no_shows": 1,
        "pass_rate": 0.5, "seat_utilisation": 0.6}
    assert body["tours"] == {**TOURS, "tours": 1, "cancelled_tours": 0, "draft_tours": 0, "stops": 2,
                             "capacity": 20, "vehicles_registered": 4, "distance_km": 0.0}
    charts = {c["id"]: c["points"] for c in body["charts"]}
    assert charts["bookings_per_weekend"] == [{"label": "11-28", "value": 3}]
    assert charts["vehicles_inspected_per_tour"] == INSPECTED_PER_TOUR[:1]


def test_another_office_counts_only_its_own(client, factory, data):
    other = factory.staff("supervisor", office="fuling")
    body = client.get("/api/v1/stats", headers=factory.headers(other), query_string=RANGE).get_json()
    assert {k: body["driving_tests"][k] for k in ("sessions", "seats", "booked", "took_test")} == {
        "sessions": 1, "seats": 10, "booked": 1, "took_test": 0}
    assert {k: body["tours"][k] for k in ("tours", "stops", "vehicles_registered", "vehicles_inspected", "passed")} \
        == {"tours": 1, "stops": 1, "vehicles_registered": 0, "vehicles_inspected": 1, "passed": 1}


def test_csv_and_report_page_carry_the_figures(client, data):
    response = client.get("/api/v1/stats", headers=data["staff"], query_string={**RANGE, "format": "csv"})
    assert response.status_code == 200
    lines = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    for line in ("driving_tests,booked,6", "driving_tests,pass_rate,0.75", "driving_tests,no_shows,1",
                 "tours,vehicles_inspected,4", "tours,walk_ins,1", "charts[bookings_per_weekend],11-28,4.0",
                 "charts[vehicles_inspected_per_tour],11-28 南川东线…,4.0"):  # chart values are numbers
        assert line in lines
    page = client.get("/api/v1/stats/report.html", headers=data["supervisor"], query_string=RANGE)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # the office's own charts (satisfaction, home visits) and the two the schedules provide
    assert html.count("<svg") == 4
    assert "Bookings per weekend" in html and "Vehicles inspected per tour" in html
    assert "<td>driving_tests</td><td>seat_utilisation</td><td>0.2308</td>" in html
    assert "<td>tours</td><td>vehicles_registered</td><td>5</td>" in html


def test_openapi_documents_the_sections(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    stats = spec["components"]["schemas"]["Stats"]
    assert stats["properties"]["driving_tests"] == {"$ref": "#/components/schemas/DrivingTestStats"}
    assert stats["properties"]["tours"] == {"$ref": "#/components/schemas/TourStats"}
    assert "driving_tests" not in stats["required"]  # missing when the provider fails
    documented = spec["components"]["schemas"]["DrivingTestStats"]
    assert set(documented["properties"]) == set(DRIVING_TESTS)
    assert set(spec["components"]["schemas"]["TourStats"]["properties"]) == set(TOURS) | {"distance_km"}
