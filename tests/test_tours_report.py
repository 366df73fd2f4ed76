"""Inspections at tour stops and what the reports make of them (JSON, CSV, season)."""
import csv
import io
import uuid
from datetime import date

import pytest

from tests.helpers_tours import ALL_PASS, at, create_tour, outbox, publish, stop, write_register
from tests.helpers_tours import headers, officer  # noqa: F401  (fixtures)


def _register(client, tour, index, plate, phone="13900000001"):
    stop_id = tour["stops"][index]["id"]
    response = client.post(f"/api/v1/tours/{tour['id']}/stops/{stop_id}/registrations",
                           json={"plate": plate, "owner_name": "王德明", "phone": phone})
    assert response.status_code == 201, response.get_json()


def _inspect(client, headers, tour, index, plate, result="pass", **kw):
    stop_id = tour["stops"][index]["id"]
    checklist = ALL_PASS if result == "pass" else {"lights": "fail"}
    return client.post(f"/api/v1/tours/{tour['id']}/stops/{stop_id}/inspections", headers=headers,
                       json={"plate": plate, "result": result, "checklist": checklist, **kw})


def test_inspections_feed_the_register_the_follow_up_and_the_report(app, client, runner, factory, officer,
                                                                     headers, tmp_path):
    factory.office  # noqa: B018
    runner.invoke(args=["motorcycles", "import", write_register(tmp_path / "r.csv", [
        ("渝G10003", "", "丙", "13900000003", "大观镇", "2018-01-05", ""),
        ("渝G10009", "", "癸", "13900000009", "水江镇", "2018-01-05", ""),
    ])])
    tour = create_tour(client, headers, [officer], stops=[stop("大观镇", (9, 0), capacity=10),
                                                          stop("水江镇", (11, 0), capacity=10)])
    assert _inspect(client, headers, tour, 0, "渝G10001").status_code == 409  # not published yet
    publish(client, headers, tour["id"])
    for plate in ("渝G10001", "渝G10002", "渝G10003"):
        _register(client, tour, 0, plate)
    _register(client, tour, 1, "渝G10004", phone="13900000004")
    app.config["FROZEN_NOW"] = "2026-11-28T18:00:00+08:00"  # the evening of the tour: tablets sync
    headers = factory.headers(officer)  # (yesterday's token has expired)

    first = _inspect(client, headers, tour, 0, "渝G10001", recorded_at=at(9, 10),
                     odometer_km=15320)
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert {k: body[k] for k in ("plate", "result", "officer", "walk_in", "clock_skew", "odometer_km")} == {
        "plate": "渝G10001", "result": "pass", "officer": "500123", "walk_in": False, "clock_skew": False,
        "odometer_km": 15320}
    assert _inspect(client, headers, tour, 0, "渝G10002", "fail", defects=["后转向灯不亮"],
                    recorded_at=at(9, 20)).status_code == 201
    # Fixed on the spot and inspected again: one vehicle, last result counts.
    assert _inspect(client, headers, tour, 0, "渝G10002", recorded_at=at(9, 40)).status_code == 201
    # 渝G10003 was registered but never came; 渝G10009 came without registering (walk-in) and failed,
    # with a tablet clock a day ahead.
    walk_in = _inspect(client, headers, tour, 1, "渝G10009", "fail", recorded_at="2026-11-29T11:00:00+08:00",
                       client_id=str(uuid.uuid4()))
    assert walk_in.status_code == 201
    assert (walk_in.get_json()["walk_in"], walk_in.get_json()["clock_skew"]) == (True, True)
    again = _inspect(client, headers, tour, 1, "渝G10009", "fail", client_id=walk_in.get_json()["client_id"])
    assert again.status_code == 409

    texts = outbox(app, "follow_up:tour_inspection:")
    assert len(texts) == 4
    assert texts[0][0] == f"follow_up:tour_inspection:{body['id']}"
    assert texts[0][1] == "13900000001" and "500123" in texts[0][2]
    assert texts[-1][1] == "13900000009"  # the walk-in's phone comes from the register

    report = client.get(f"/api/v1/tours/{tour['id']}/report", headers=headers)
    assert report.status_code == 200
    data = report.get_json()
    rows = [{k: s[k] for k in ("township", "registered", "inspected", "passed", "failed", "walk_ins", "no_shows",
                                "clock_skew")} for s in data["stops"]]
    assert rows == [
        {"township": "大观镇", "registered": 3, "inspected": 2, "passed": 2, "failed": 0, "walk_ins": 0,
         "no_shows": 1, "clock_skew": 0},
        {"township": "水江镇", "registered": 1, "inspected": 1, "passed": 0, "failed": 1, "walk_ins": 1,
         "no_shows": 1, "clock_skew": 1},
    ]
    assert data["totals"]["inspected"] == 3 and data["totals"]["pass_rate"] == pytest.approx(0.6667)

    as_csv = client.get(f"/api/v1/tours/{tour['id']}/report?format=csv", headers=headers)
    assert as_csv.status_code == 200 and as_csv.content_type == "text/csv; charset=utf-8"
    table = list(csv.DictReader(io.StringIO(as_csv.get_data(as_text=True).lstrip("\ufeff"))))
    assert [(r["township"], r["registered"], r["inspected"], r["passed"], r["failed"], r["walk_ins"])
            for r in table] == [("大观镇", "3", "2", "2", "0", "0"), ("水江镇", "1", "1", "0", "1", "1")]
    assert client.get(f"/api/v1/tours/{tour['id']}/report?format=xml", headers=headers).status_code == 422

    # A passed inspection moves the register's last inspection date; a failed one does not.
    moto = client.get("/api/v1/motorcycles/渝G10003", headers=headers).get_json()
    assert moto["last_inspected_on"] is None
    # 渝G10001 was not on the register: the inspection put it there, flagged, without a due date ...
    added = client.get("/api/v1/motorcycles/渝G10001", headers=headers).get_json()
    assert {k: added[k] for k in ("from_walk_in", "township", "registered_on", "last_inspected_on", "status")} == {
        "from_walk_in": True, "township": "大观镇", "registered_on": None, "last_inspected_on": "2026-11-28",
        "status": "unknown"}
    assert first.get_json()["not_on_register"] is True
    runner.invoke(args=["motorcycles", "import", write_register(tmp_path / "s.csv", [
        ("渝G10001", "", "甲", "13900000001", "大观镇", "2018-01-05", "")])])
    # ... until the office's file completes it: the file has no date, the inspection's date is kept.
    completed = client.get("/api/v1/motorcycles/渝G10001", headers=headers).get_json()
    assert (completed["from_walk_in"], completed["last_inspected_on"], completed["next_due_on"]) == (
        False, "2026-11-28", "2028-01-05")


def _published_today_with_one_due(client, runner, factory, officer, headers, tmp_path) -> dict:
    """A tour published for today at 大观镇, and 渝G10003 in the register there, due since 2024."""
    factory.office  # noqa: B018
    runner.invoke(args=["motorcycles", "import", write_register(tmp_path / "r.csv", [
        ("渝G10003", "", "丙", "13900000003", "大观镇", "2018-01-05", "")])])
    today = date(2026, 11, 25)
    tour = create_tour(client, headers, [officer], day=today, stops=[stop("大观镇", (9, 0), day=today)])
    publish(client, headers, tour["id"])
    return tour


def test_a_passed_inspection_updates_the_register(client, runner, factory, officer, headers, tmp_path):
    tour = _published_today_with_one_due(client, runner, factory, officer, headers, tmp_path)
    assert _inspect(client, headers, tour, 0, "渝G10003").status_code == 201
    moto = client.get("/api/v1/motorcycles/渝G10003", headers=headers).get_json()
    assert (moto["last_inspected_on"], moto["next_due_on"], moto["status"]) == ("2026-11-25", "2028-01-05", "ok")


def test_season_report(app, client, factory, officer, headers):
    one = create_tour(client, headers, [officer])
    two = create_tour(client, headers, [officer], stops=[stop("南平镇", (9, 0))])
    three = create_tour(client, headers, [officer], stops=[stop("三泉镇", (9, 0))])
    for tour in (one, two, three):
        publish(client, headers, tour["id"])
    client.post(f"/api/v1/tours/{three['id']}/cancel", json={}, headers=headers)
    app.config["FROZEN_NOW"] = "2026-11-28T18:00:00+08:00"
    headers = factory.headers(officer)
    for plate, result in [("渝G10001", "pass"), ("渝G10002", "pass"), ("渝G10003", "fail")]:
        assert _inspect(client, headers, one, 0, plate, result).status_code == 201
    assert _inspect(client, headers, two, 0, "渝G10001", "pass").status_code == 201
    response = client.get("/api/v1/tours/report?from=2026-11-01&to=2026-11-30", headers=headers)
    assert response.status_code == 200
    assert response.get_json() == {
        "from": "2026-11-01", "to": "2026-11-30", "tours": 2, "cancelled_tours": 1, "stops": 5, "registered": 0,
        "vehicles_inspected": 4, "passed": 3, "failed": 1, "walk_ins": 4, "pass_rate": 0.75, "distance_km": 0.0}
    empty = client.get("/api/v1/tours/report?from=2026-12-01&to=2026-12-31", headers=headers).get_json()
    assert (empty["tours"], empty["pass_rate"]) == (0, None)
    assert client.get("/api/v1/tours/report?from=2026-12-01&to=2026-11-01", headers=headers).status_code == 422
    assert client.get("/api/v1/tours/report?from=2026-12-01", headers=headers).status_code == 422
    company = factory.headers(factory.company()["username"])
    assert client.get("/api/v1/tours/report?from=2026-11-01&to=2026-11-30", headers=company).status_code == 403


def test_a_skewed_pass_dates_the_register_by_the_tour_on_both_paths(app, client, runner, factory, officer, headers,
                                                                    tmp_path):
    """One path for both: a device clock that cannot be right never dates the register, the tour's day does."""
    tour = _published_today_with_one_due(client, runner, factory, officer, headers, tmp_path)
    app.config["FROZEN_NOW"] = "2026-11-27T18:00:00+08:00"  # synced two days later
    headers = factory.headers(officer)
    answer = _inspect(client, headers, tour, 0, "渝G10003", recorded_at="2026-12-01T09:00:00+08:00")
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["clock_skew"] is True
    moto = client.get("/api/v1/motorcycles/渝G10003", headers=headers).get_json()
    assert moto["last_inspected_on"] == "2026-11-25"
