"""Real inspection records: the checklist rule, VIN and engine number against the register,
photo kinds, walk-ins not on the register, and no-shows counted only once a stop has ended."""
import pytest

from tests.helpers_mobile import TODAY, add_motorcycle, envelope, local, make_tour, plate_of, png_bytes, record, sha
from tests.helpers_tours import ALL_PASS

SYNC = "/api/v1/mobile/inspections/sync"


@pytest.fixture
def world(app, factory):
    officer = factory.staff("officer", badge_number="500119")
    tour = make_tour(app, [officer.id], registrations={0: [(plate_of(1), "张三", "13800138001")]})
    return type("World", (), {"officer": officer, "tour": tour, "headers": factory.headers(officer),
                              "stop": tour.stop_ids[0]})


def _sync(client, world, records):
    response = client.post(SYNC, json=envelope(records), headers=world.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["results"]


def test_a_pass_needs_every_item_answered_and_none_failed_on_both_paths(client, world):
    incomplete = record(world.stop, 1, checklist={"lights": "pass", "horn": "n/a"})
    failed_item = record(world.stop, 2, checklist={**ALL_PASS, "tyres": "fail"})
    with_na = record(world.stop, 3, checklist={**ALL_PASS, "horn": "n/a"})
    fail_early = record(world.stop, 4, result="fail", checklist={"lights": "fail"}, defects=["大灯不亮"])
    results = _sync(client, world, [incomplete, failed_item, with_na, fail_early])
    assert [r["status"] for r in results] == ["rejected", "rejected", "created", "created"]
    assert sorted(results[0]["errors"]["checklist"]) == [
        "brake_front", "brake_rear", "exhaust_noise", "frame_number", "mirrors", "plate", "tyres"]
    assert results[0]["errors"]["checklist"]["tyres"] == [
        "not answered: a pass needs every item answered pass or n/a"]
    assert results[1]["errors"] == {"result": ["a passed inspection cannot have failed items (tyres)"]}

    url = f"/api/v1/tours/{world.tour.id}/stops/{world.stop}/inspections"
    empty = client.post(url, headers=world.headers, json={"plate": plate_of(5), "result": "pass"})
    assert empty.status_code == 422
    assert "not answered" in empty.get_json()["message"]
    assert set(empty.get_json()["errors"]["json"]["checklist"]) == set(ALL_PASS)
    failed = client.post(url, headers=world.headers,
                         json={"plate": plate_of(5), "result": "pass", "checklist": {**ALL_PASS, "horn": "fail"}})
    assert failed.status_code == 422 and failed.get_json()["errors"]["json"]["result"]


def test_vin_and_engine_number_are_checked_against_the_register(app, client, world):
    add_motorcycle(app, plate_of(1), vin="LFG1234567", engine_number="162FMJ0012345")
    rec = record(world.stop, 1, vin="lfg1234567", engine_number="162FMJ9999999")
    [result] = _sync(client, world, [rec])
    assert result["status"] == "created", result
    got = client.get(f"/api/v1/mobile/inspections/{rec['client_id']}", headers=world.headers).get_json()
    assert (got["vin"], got["vin_matches"], got["engine_number"], got["engine_number_matches"],
            got["not_on_register"]) == ("LFG1234567", True, "162FMJ9999999", False, False)
    # Not read: nothing to say.
    quiet = record(world.stop, 1, vin=None)
    _sync(client, world, [quiet])
    got = client.get(f"/api/v1/mobile/inspections/{quiet['client_id']}", headers=world.headers).get_json()
    assert (got["vin_matches"], got["engine_number_matches"]) == (None, None)


@pytest.mark.parametrize("app_config", [{"PHOTO_REQUIRED_KINDS": "左前45度,车架号"}])
def test_the_office_can_require_photo_kinds_before_a_pass(app, client, world, app_config):
    front, frame = png_bytes(seed=1), png_bytes(seed=2)
    bare = record(world.stop, 1)
    half = record(world.stop, 2, photos=[{"kind": "左前45度", "sha256": sha(front)}])
    odd = record(world.stop, 3, photos=[{"kind": "自拍", "sha256": sha(front)}])
    full = record(world.stop, 4, photos=[{"kind": "左前45度", "sha256": sha(front)},
                                         {"kind": "车架号", "sha256": sha(frame)}])
    failed = record(world.stop, 5, result="fail", checklist={"lights": "fail"})  # a fail needs no photos
    results = _sync(client, world, [bare, half, odd, full, failed])
    assert [r["status"] for r in results] == ["rejected", "rejected", "rejected", "created", "created"]
    assert results[0]["errors"] == {"photos": ["a pass needs photos of: 左前45度、车架号"]}
    assert results[1]["errors"] == {"photos": ["a pass needs photos of: 车架号"]}
    assert "unknown photo kind 自拍" in results[2]["errors"]["photos"][0]
    assigned = client.get("/api/v1/mobile/assignments", headers=world.headers).get_json()
    assert assigned["required_photo_kinds"] == ["左前45度", "车架号"]

    # The bytes follow; each photo takes the kind its record declared.
    url = f"/api/v1/mobile/inspections/{full['client_id']}/photos"
    put = client.put(f"{url}/{sha(frame)}", data=frame, content_type="image/png", headers=world.headers)
    assert put.status_code == 201 and put.get_json()["kind"] == "车架号"
    extra = png_bytes(seed=3)
    named = client.put(f"{url}/{sha(extra)}?kind=号牌", data=extra, content_type="image/png", headers=world.headers)
    assert named.status_code == 201 and named.get_json()["kind"] == "号牌"
    wrong = png_bytes(seed=4)
    bad = client.put(f"{url}/{sha(wrong)}?kind=自拍", data=wrong, content_type="image/png", headers=world.headers)
    assert bad.status_code == 422 and "kind" in bad.get_json()["errors"]["query"]
    got = client.get(f"/api/v1/mobile/inspections/{full['client_id']}", headers=world.headers).get_json()
    assert sorted(p["kind"] for p in got["photos"]) == ["号牌", "车架号"]
    assert got["declared_photos"] == full["photos"]


def test_walk_ins_off_the_register_are_flagged_in_record_report_and_register(app, client, factory, world):
    add_motorcycle(app, plate_of(2))
    on_register = record(world.stop, 2)
    stranger = record(world.stop, 7, vin="LZS123456789", engine_number="1P52FMH-123", owner_name="赵六",
                      phone="13700137007")
    results = _sync(client, world, [on_register, stranger])
    assert [r["status"] for r in results] == ["created", "created"]
    got = client.get(f"/api/v1/mobile/inspections/{stranger['client_id']}", headers=world.headers).get_json()
    assert (got["walk_in"], got["not_on_register"]) == (True, True)
    moto = client.get(f"/api/v1/motorcycles/{plate_of(7)}", headers=world.headers).get_json()
    assert moto == {"plate": plate_of(7), "vin": "LZS123456789", "engine_number": "1P52FMH-123", "owner_name": "赵六",
                    "phone": "137****7007", "township": "大观镇", "registered_on": None,
                    "last_inspected_on": "2026-11-25", "next_due_on": None, "status": "unknown",
                    "from_walk_in": True, "three_wheeled": False, "scrap_on": None, "scrap_reason": None}
    report = client.get(f"/api/v1/tours/{world.tour.id}/report", headers=world.headers).get_json()
    first = report["stops"][0]
    assert (first["walk_ins"], first["not_on_register"]) == (2, 1)
    assert report["totals"]["not_on_register"] == 1


def test_no_shows_are_counted_only_once_the_stop_has_ended(app, client, world):
    url = f"/api/v1/tours/{world.tour.id}/report"
    app.config["FROZEN_NOW"] = local(TODAY, 9, 30).isoformat()  # the first stop is open (09:00-10:00)
    stop = client.get(url, headers=world.headers).get_json()["stops"][0]
    assert (stop["registered"], stop["ended"], stop["no_shows"]) == (1, False, 0)
    app.config["FROZEN_NOW"] = local(TODAY, 10, 0).isoformat()
    stop = client.get(url, headers=world.headers).get_json()["stops"][0]
    assert (stop["ended"], stop["no_shows"]) == (True, 1)


def test_a_failed_inspection_text_says_what_failed_and_where_and_when_to_come_again(app, client, world):
    from datetime import timedelta

    from tests.helpers_tours import outbox

    make_tour(app, [world.officer.id], day=TODAY + timedelta(days=7))  # its first stop is in 大观镇 too
    add_motorcycle(app, plate_of(3), phone="13700137003")
    failed = record(world.stop, 3, result="fail", checklist={"lights": "pass", "tyres": "fail"},
                    defects=["后轮胎纹深度不足"])
    [result] = _sync(client, world, [failed])
    assert result["status"] == "created"
    [(key, phone, text)] = outbox(app, "tour_failed:")
    assert (key, phone) == (f"tour_failed:{result['id']}", "13700137003")
    assert "渝G00003检验未通过：轮胎，后轮胎纹深度不足" in text
    assert "12月02日09:00-10:00大观镇镇政府广场 1" in text  # the next published stop in the township
    [(_, _, follow_up)] = outbox(app, "follow_up:")
    assert "检验未通过" in follow_up and "满意回1" in follow_up
