"""The officer's assignments for the tablet: tours ahead with stops, registrations, the checklist; ETag and 304."""
from datetime import timedelta

import pytest

from tests.helpers_mobile import TODAY, add_motorcycle, make_tour, plate_of
from vmo.extensions import db

URL = "/api/v1/mobile/assignments"


def test_assignments_have_tours_stops_registrations_and_checklist(app, client, factory):
    officer = factory.staff("officer")
    partner = factory.staff("officer", username="officer-wang")
    tour = make_tour(app, [officer.id, partner.id], registrations={
        0: [(plate_of(1), "张三", "13800138001"), (plate_of(2), "李四", "13900139002")]})
    add_motorcycle(app, plate_of(1), vin="LFG1234567", engine_number="162FMJ0012345")
    response = client.get(URL, headers=factory.headers(officer))
    assert response.status_code == 200
    body = response.get_json()
    assert body["officer"] == officer.username
    assert (body["from"], body["to"]) == ("2026-11-25", "2026-12-01")
    assert body["checklist"][0] == {"code": "lights", "zh": "灯光", "en": "Lights"}
    assert [item["code"] for item in body["checklist"]] == [
        "lights", "horn", "brake_front", "brake_rear", "tyres", "mirrors", "plate", "frame_number", "exhaust_noise"]
    assert {item["zh"] for item in body["checklist"]} >= {"前制动", "后制动", "号牌齐全清晰", "车架号相符", "排气与噪声"}
    assert body["photo_kinds"] == ["左前45度", "右后45度", "车架号", "号牌", "发动机号", "故障部位"]
    assert body["required_photo_kinds"] == []
    [got] = body["tours"]
    assert got == {
        "id": tour.id, "name": "大观镇、兴隆镇流动车管所", "date": "2026-11-25", "status": "published",
        "depot": {"lat": 29.158, "lon": 107.099}, "officers": sorted([officer.username, "officer-wang"]),
        "stops": [
            {"id": tour.stop_ids[0], "position": 0, "township": "大观镇", "venue": "镇政府广场 1", "lat": 29.2,
             "lon": 107.1, "capacity": 50, "arrives_at": "2026-11-25T09:00:00+08:00",
             "departs_at": "2026-11-25T10:00:00+08:00", "registrations": [
                 {"id": tour.registration_ids[plate_of(1)], "plate": "渝G00001", "owner_name": "张三",
                  "phone": "138****8001", "status": "registered", "on_register": True, "vin": "LFG1234567",
                  "engine_number": "162FMJ0012345"},
                 {"id": tour.registration_ids[plate_of(2)], "plate": "渝G00002", "owner_name": "李四",
                  "phone": "139****9002", "status": "registered", "on_register": False, "vin": None,
                  "engine_number": None}]},
            {"id": tour.stop_ids[1], "position": 1, "township": "兴隆镇", "venue": "镇政府广场 2", "lat": 29.21,
             "lon": 107.11, "capacity": 50, "arrives_at": "2026-11-25T11:00:00+08:00",
             "departs_at": "2026-11-25T12:00:00+08:00", "registrations": []},
        ],
    }


def test_only_my_tours_from_today_within_the_horizon(app, client, factory):
    officer = factory.staff("officer")
    other = factory.staff("officer")
    today = make_tour(app, [officer.id], name="today")
    make_tour(app, [officer.id], name="yesterday", day=TODAY - timedelta(days=1))
    last_day = make_tour(app, [officer.id], name="in six days", day=TODAY + timedelta(days=6))
    make_tour(app, [officer.id], name="in seven days", day=TODAY + timedelta(days=7))
    make_tour(app, [other.id], name="not mine")
    make_tour(app, [officer.id], name="cancelled", status="cancelled")
    make_tour(app, [officer.id], name="draft", status="draft")
    body = client.get(URL, headers=factory.headers(officer)).get_json()
    assert [(t["id"], t["name"]) for t in body["tours"]] == [(today.id, "today"), (last_day.id, "in six days")]


class TestConfigured:
    @pytest.fixture
    def app_config(self):
        return {"MOBILE_ASSIGNMENT_DAYS": 2,
                "MOBILE_CHECKLIST": [{"code": "lights", "zh": "灯光", "en": "Lights"},
                                     {"code": "chain", "zh": "链条", "en": "Chain"}]}

    def test_horizon_and_checklist_are_configurable(self, app, client, factory):
        officer = factory.staff("officer")
        make_tour(app, [officer.id], name="tomorrow", day=TODAY + timedelta(days=1))
        make_tour(app, [officer.id], name="day after", day=TODAY + timedelta(days=2))
        body = client.get(URL, headers=factory.headers(officer)).get_json()
        assert [t["name"] for t in body["tours"]] == ["tomorrow"]
        assert body["to"] == "2026-11-26"
        assert [c["code"] for c in body["checklist"]] == ["lights", "chain"]


def test_etag_and_304_until_something_changes(app, client, factory):
    officer = factory.staff("officer")
    headers = factory.headers(officer)
    tour = make_tour(app, [officer.id])
    first = client.get(URL, headers=headers)
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    again = client.get(URL, headers=headers)
    assert again.headers["ETag"] == etag and again.data == first.data
    not_modified = client.get(URL, headers={**headers, "If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified.data == b""

    from schedules.tours.models import StopRegistration

    with app.app_context():
        db.session.add(StopRegistration(office_id=1, tour_id=tour.id, stop_id=tour.stop_ids[1], plate=plate_of(9),
                                        active_plate=plate_of(9), owner_name="王五", phone="13700137000",
                                        status="registered"))
        db.session.commit()
    changed = client.get(URL, headers={**headers, "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert changed.get_json()["tours"][0]["stops"][1]["registrations"][0]["plate"] == "渝G00009"


def test_assignments_need_the_officer_role(client, factory):
    assert client.get(URL).status_code == 401
    for headers in (factory.headers(factory.company()["username"]), factory.headers(factory.candidate()["username"]),
                    factory.headers(factory.staff("supervisor"))):
        response = client.get(URL, headers=headers)
        assert response.status_code == 403
        assert response.get_json()["message"] == "this needs the role officer"


def test_no_tours_is_an_empty_list(client, factory):
    body = client.get(URL, headers=factory.headers(factory.staff("officer"))).get_json()
    assert body["tours"] == [] and len(body["checklist"]) == 9


def test_the_endpoints_are_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    assert set(paths["/api/v1/mobile/assignments"]) == {"get"}
    assert "304" in paths["/api/v1/mobile/assignments"]["get"]["responses"]
    sync = paths["/api/v1/mobile/inspections/sync"]["post"]
    assert {"200", "403", "422"} <= set(sync["responses"])
    photo = paths["/api/v1/mobile/inspections/{client_id}/photos/{sha256}"]
    assert {"201", "200", "413", "415", "422"} <= set(photo["put"]["responses"])
    schemas = spec["components"]["schemas"]
    assert {"client_id", "stop_id", "plate", "checklist", "result", "recorded_at"} <= set(
        schemas["InspectionRecord"]["properties"])


def test_assignments_carry_the_green_channel_checklist_with_each_vehicles_papers(app, client, factory):
    """The hall's side of the officer's day: every batch booked on the office's green-channel days ahead, each
    vehicle with the papers to check against the originals, and what is still missing."""
    from tests import helpers_fleet as fleet

    staff = fleet.officer(factory)
    owner = fleet.company(factory, name="南川区丰昌汽车服务有限公司")
    vehicles = factory.vehicles(2)
    vehicles[1] = {key: value for key, value in vehicles[1].items()
                   if key not in ("purchase_tax_number", "insurance_policy")}
    submitted = fleet.submit(client, owner.headers, vehicles).get_json()
    fleet.open_day(client, staff, capacity=30, arrive_from="12:00", arrive_until="20:00")
    assert fleet.book(client, owner, submitted["id"]).status_code == 201
    fleet.batch(client, factory, owner, 1)  # not booked: not on the checklist
    elsewhere = fleet.officer(factory, office=factory.other_office())

    body = client.get(URL, headers=staff.headers).get_json()
    assert body["papers"] == [
        {"code": "certificate_number", "zh": "机动车整车出厂合格证编号"},
        {"code": "purchase_tax_number", "zh": "车辆购置税完税证明号码"},
        {"code": "insurance_policy", "zh": "交强险保单号"}, {"code": "use_character", "zh": "使用性质"}]
    first, second = (vehicles[0], vehicles[1])
    assert body["green_channel"] == [{
        "date": fleet.DAY, "arrive_from": "12:00", "arrive_until": "20:00",
        "batches": [{"batch_id": submitted["id"], "company": "南川区丰昌汽车服务有限公司", "vehicles": [
            {"vin": first["vin"], "make": "长安", "model": "CS75 PLUS", "vehicle_type": "suv", "fuel_type": "petrol",
             "status": "scheduled", "certificate_number": first["certificate_number"],
             "purchase_tax_number": first["purchase_tax_number"], "insurance_policy": first["insurance_policy"],
             "use_character": "非营运", "documents_missing": []},
            {"vin": second["vin"], "make": "长安", "model": "CS75 PLUS", "vehicle_type": "suv", "fuel_type": "petrol",
             "status": "scheduled", "certificate_number": second["certificate_number"],
             "purchase_tax_number": None, "insurance_policy": None, "use_character": "非营运",
             "documents_missing": ["purchase_tax_number", "insurance_policy"]}]}]}]
    # Another office's officers do not see this office's hall.
    assert client.get(URL, headers=elsewhere.headers).get_json()["green_channel"] == []
