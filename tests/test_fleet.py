"""Fleet batches: atomic submission, listing, inspection, registration with plates, statuses, outbox and audit."""
import random
import re

import pytest
from sqlalchemy import func, select

from tests.conftest import make_vin
from tests.helpers_fleet import (
    DAY, NEW_ENERGY_PLATE, ORDINARY_PLATE, batch, book, company, get_batch, inspect, officer, open_day, register,
    scheduled_batch, submit,
)
from vmo.audit.models import AuditEntry
from vmo.extensions import db
from vmo.fleet.models import MAX_BATCH_CEILING, FleetBatch, FleetVehicle, PlatePool
from vmo.notify.models import OutboxMessage


def fleet_counts(app):
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(FleetBatch)),
                db.session.scalar(select(func.count()).select_from(FleetVehicle)))


def with_check_digit(vin: str, digit: str) -> str:
    return vin[:8] + digit + vin[9:]


def wrong_digit(vin: str) -> str:
    return with_check_digit(vin, "X" if vin[8] != "X" else "0")


# ---- submitting ------------------------------------------------------------------------

def test_submit_batch_returns_every_vehicle_submitted(client, factory):
    owner = company(factory)
    vehicles = factory.vehicles(3)
    vehicles[0]["invoice_number"] = "05000001"
    vehicles[1]["color"] = "珍珠白"
    response = submit(client, owner.headers, vehicles, note="2022年2月购入新车")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "submitted"
    assert body["note"] == "2022年2月购入新车"
    assert body["company"] == owner.name
    assert body["vehicle_count"] == 3 and body["status_counts"] == {"submitted": 3}
    assert body["appointment"] is None and body["completed_at"] is None
    assert [v["vin"] for v in body["vehicles"]] == [v["vin"] for v in vehicles]
    assert all(v["status"] == "submitted" and v["plate"] is None for v in body["vehicles"])
    assert body["vehicles"][0]["invoice_number"] == "05000001"
    assert body["vehicles"][1]["color"] == "珍珠白"
    assert body["vehicles"][2]["fuel_type"] == "petrol" and body["vehicles"][2]["make"] == "长安"


def test_vins_are_normalised_to_upper_case(client, factory):
    owner = company(factory)
    vehicles = factory.vehicles(1)
    vehicles[0]["vin"] = " " + vehicles[0]["vin"].lower() + " "
    response = submit(client, owner.headers, vehicles)
    assert response.status_code == 201
    assert response.get_json()["vehicles"][0]["vin"] == vehicles[0]["vin"].strip().upper()


@pytest.mark.parametrize("wmi", ["WVW", "JTD", "1HG", "SAL"])
def test_imported_vins_are_accepted(client, factory, wmi):
    owner = company(factory)
    vehicle = factory.vehicles(1)[0]
    vehicle["vin"] = make_vin(random.Random(wmi), wmi)
    response = submit(client, owner.headers, [vehicle])
    assert response.status_code == 201, response.get_json()


def test_bad_check_digit_is_named_by_index_and_nothing_is_stored(app, client, factory):
    owner = company(factory)
    vehicles = factory.vehicles(5)
    good = vehicles[3]["vin"]
    vehicles[3]["vin"] = wrong_digit(good)
    response = submit(client, owner.headers, vehicles)
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == 422 and body["status"] == "Unprocessable Entity"
    assert body["errors"] == {"json": {"vehicles": {"3": {"vin": [
        f"check digit is {good[8]}, not {vehicles[3]['vin'][8]}"]}}}}
    assert fleet_counts(app) == (0, 0)


def test_every_bad_index_is_named(app, client, factory):
    owner = company(factory)
    first = batch(client, factory, owner, 2)
    vehicles = factory.vehicles(6)
    vehicles[1]["vin"] = wrong_digit(vehicles[1]["vin"])
    vehicles[2]["vin"] = vehicles[0]["vin"]                      # twice in this batch
    vehicles[4]["vin"] = first["vehicles"][1]["vin"].lower()     # already known
    vehicles[5]["vehicle_type"] = "spaceship"
    response = submit(client, owner.headers, vehicles)
    assert response.status_code == 422
    errors = response.get_json()["errors"]["json"]["vehicles"]
    assert set(errors) == {"1", "2", "4", "5"}
    assert errors["1"]["vin"][0].startswith("check digit is ")
    assert errors["2"] == {"vin": ["appears twice in this batch (also at index 0)"]}
    assert errors["4"] == {"vin": ["already known to the office"]}
    assert list(errors["5"]) == ["vehicle_type"]
    assert fleet_counts(app) == (1, 2)


def test_duplicate_vin_in_batch_is_422(app, client, factory):
    owner = company(factory)
    vehicles = factory.vehicles(3)
    vehicles[2]["vin"] = vehicles[0]["vin"]
    response = submit(client, owner.headers, vehicles)
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"json": {"vehicles": {"2": {"vin": [
        "appears twice in this batch (also at index 0)"]}}}}
    assert response.get_json()["message"] == "1 vehicle rejected; nothing was submitted"
    assert fleet_counts(app) == (0, 0)


def test_vin_known_from_another_company_is_422(app, client, factory):
    first, second = company(factory), company(factory)
    known = batch(client, factory, first, 1)["vehicles"][0]["vin"]
    vehicles = factory.vehicles(2)
    vehicles[1]["vin"] = known
    response = submit(client, second.headers, vehicles)
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"json": {"vehicles": {"1": {"vin": ["already known to the office"]}}}}
    assert fleet_counts(app) == (1, 1)


@pytest.mark.parametrize("vin,message", [
    ("LSVAU2180N218329", "must be 17 characters"),
    ("LSVAU2180N218329I", "must not contain I, O or Q"),
    ("LSVAU2180N21832-4", "must contain only letters and digits"),
])
def test_malformed_vins(app, client, factory, vin, message):
    owner = company(factory)
    vehicle = factory.vehicles(1)[0]
    vehicle["vin"] = vin
    response = submit(client, owner.headers, [vehicle])
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"json": {"vehicles": {"0": {"vin": [message]}}}}
    assert fleet_counts(app) == (0, 0)


def test_batch_size_limits(app, client, factory):
    owner = company(factory)
    empty = submit(client, owner.headers, [])
    assert empty.status_code == 422
    assert empty.get_json()["errors"] == {"json": {"vehicles": ["a batch has 1 to 500 vehicles"]}}
    too_many = submit(client, owner.headers, factory.vehicles(501))
    assert too_many.status_code == 422
    assert too_many.get_json()["errors"] == {"json": {"vehicles": ["a batch has 1 to 500 vehicles"]}}
    assert fleet_counts(app) == (0, 0)
    full = submit(client, owner.headers, factory.vehicles(500))
    assert full.status_code == 201
    assert full.get_json()["vehicle_count"] == 500
    assert fleet_counts(app) == (1, 500)


@pytest.mark.parametrize("app_config", [{"FLEET_MAX_BATCH": 3}])
def test_batch_limit_is_configurable(app, client, factory, app_config):
    owner = company(factory)
    response = submit(client, owner.headers, factory.vehicles(4))
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"json": {"vehicles": ["a batch has 1 to 3 vehicles"]}}
    assert submit(client, owner.headers, factory.vehicles(3)).status_code == 201


def test_missing_fields_in_a_vehicle(client, factory):
    owner = company(factory)
    response = submit(client, owner.headers, [{"vin": factory.vehicles(1)[0]["vin"]}])
    assert response.status_code == 422
    assert response.get_json()["errors"]["json"]["vehicles"]["0"] == {
        "make": ["Missing data for required field."], "model": ["Missing data for required field."],
        "vehicle_type": ["Missing data for required field."]}


def test_submission_is_audited(app, client, factory):
    owner = company(factory)
    body = batch(client, factory, owner, 2)
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "fleet.submit"))
        assert (entry.entity, entry.entity_id, entry.actor_username) == ("fleet_batch", str(body["id"]), owner.username)
        assert entry.after["vehicles"] == [v["vin"] for v in body["vehicles"]]


# ---- reading ---------------------------------------------------------------------------

def test_company_lists_its_own_batches_newest_first(client, factory):
    owner, other = company(factory), company(factory)
    first = batch(client, factory, owner, 1)
    second = batch(client, factory, owner, 2)
    batch(client, factory, other, 1)
    response = client.get("/api/v1/fleet/batches", headers=owner.headers)
    assert response.status_code == 200
    assert [b["id"] for b in response.get_json()] == [second["id"], first["id"]]
    assert response.headers["X-Pagination"] == '{"total": 2, "total_pages": 1, "first_page": 1, "last_page": 1, "page": 1}'


def test_staff_list_all_batches_of_their_office_and_filter_by_status(client, factory):
    owner, other = company(factory), company(factory)
    staff = officer(factory)
    scheduled = scheduled_batch(client, factory, owner, staff, 2)
    plain = batch(client, factory, other, 1)
    listing = client.get("/api/v1/fleet/batches", headers=staff.headers).get_json()
    assert [b["id"] for b in listing] == [plain["id"], scheduled["id"]]
    filtered = client.get("/api/v1/fleet/batches?status=scheduled", headers=staff.headers).get_json()
    assert [b["id"] for b in filtered] == [scheduled["id"]]
    bad = client.get("/api/v1/fleet/batches?status=lost", headers=staff.headers)
    assert bad.status_code == 422 and list(bad.get_json()["errors"]) == ["query"]


def test_batch_list_pages(client, factory):
    owner = company(factory)
    ids = [batch(client, factory, owner, 1)["id"] for _ in range(3)]
    response = client.get("/api/v1/fleet/batches?page=2&page_size=2", headers=owner.headers)
    assert [b["id"] for b in response.get_json()] == [ids[0]]
    assert '"total": 3' in response.headers["X-Pagination"]


def test_get_one_batch_and_one_vehicle(client, factory):
    owner = company(factory)
    body = batch(client, factory, owner, 2)
    no_choice = {"state": "none", "plate": None, "expires_at": None}
    assert get_batch(client, owner, body["id"]) == {
        **body, "vehicles": [{**v, "plate_choice": no_choice} for v in body["vehicles"]]}
    vin = body["vehicles"][1]["vin"]
    response = client.get(f"/api/v1/fleet/vehicles/{vin.lower()}", headers=owner.headers)
    assert response.status_code == 200
    assert response.get_json() == {**body["vehicles"][1], "plate_choice": no_choice}


def test_unknown_batch_and_vehicle_are_404(client, factory):
    owner = company(factory)
    assert client.get("/api/v1/fleet/batches/999", headers=owner.headers).status_code == 404
    response = client.get("/api/v1/fleet/vehicles/LSVAU2180N2183294", headers=owner.headers)
    assert response.status_code == 404
    assert response.get_json()["message"] == "no vehicle with VIN LSVAU2180N2183294"


# ---- inspection ------------------------------------------------------------------------

def test_pass_inspection(client, factory):
    owner, staff = company(factory), officer(factory, badge_number="500123")
    body = scheduled_batch(client, factory, owner, staff, 2)
    vin = body["vehicles"][0]["vin"]
    response = inspect(client, staff, vin)
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert (data["vin"], data["result"], data["defects"], data["officer"], data["vehicle_status"]) == (
        vin, "pass", [], "500123", "inspected")
    assert data["inspected_at"] == "2026-11-25T10:00:00+08:00"
    after = get_batch(client, owner, body["id"])
    assert after["status"] == "in_progress"
    assert after["vehicles"][0]["status"] == "inspected"
    assert after["vehicles"][0]["last_inspection"]["result"] == "pass"
    assert after["vehicles"][1]["status"] == "scheduled"


def test_failed_inspection_needs_defects_and_can_be_inspected_again(app, client, factory):
    owner, staff = company(factory), officer(factory)
    vin = scheduled_batch(client, factory, owner, staff, 1)["vehicles"][0]["vin"]
    no_defects = inspect(client, staff, vin, "fail")
    assert no_defects.status_code == 422
    assert no_defects.get_json()["errors"] == {"json": {"defects": ["name at least one defect"]}}
    failed = inspect(client, staff, vin, "fail", ["左前大灯不亮", "轮胎气压不足"])
    assert failed.status_code == 201
    assert failed.get_json()["vehicle_status"] == "failed_inspection"
    assert failed.get_json()["defects"] == ["左前大灯不亮", "轮胎气压不足"]
    assert register(client, staff, vin).status_code == 409
    passed = inspect(client, staff, vin, "pass")
    assert passed.status_code == 201 and passed.get_json()["vehicle_status"] == "inspected"
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "fleet.inspect")
                                     .order_by(AuditEntry.id)).all()
        assert [(e.before, e.after) for e in entries] == [
            ({"status": "scheduled"}, {"status": "failed_inspection", "defects": ["左前大灯不亮", "轮胎气压不足"]}),
            ({"status": "failed_inspection"}, {"status": "inspected", "defects": []}),
        ]


def test_inspection_of_an_unscheduled_or_passed_vehicle_is_409(client, factory):
    owner, staff = company(factory), officer(factory)
    unscheduled = batch(client, factory, owner, 1)["vehicles"][0]["vin"]
    response = inspect(client, staff, unscheduled)
    assert response.status_code == 409
    assert response.get_json()["message"] == f"vehicle {unscheduled} has no green-channel appointment yet"
    vin = scheduled_batch(client, factory, owner, staff, 1)["vehicles"][0]["vin"]
    assert inspect(client, staff, vin).status_code == 201
    again = inspect(client, staff, vin)
    assert again.status_code == 409


def test_inspection_body_validation(client, factory):
    owner, staff = company(factory), officer(factory)
    vin = scheduled_batch(client, factory, owner, staff, 1)["vehicles"][0]["vin"]
    response = inspect(client, staff, vin, "maybe")
    assert response.status_code == 422
    assert list(response.get_json()["errors"]["json"]) == ["result"]


# ---- registration and plates -----------------------------------------------------------

def test_registration_issues_a_plate_and_completes_the_batch(app, client, factory):
    owner, staff = company(factory), officer(factory, badge_number="500123")
    body = scheduled_batch(client, factory, owner, staff, 2)
    statuses = [get_batch(client, owner, body["id"])["status"]]
    plates = []
    for vehicle in body["vehicles"]:
        assert inspect(client, staff, vehicle["vin"]).status_code == 201
        statuses.append(get_batch(client, owner, body["id"])["status"])
        response = register(client, staff, vehicle["vin"])
        assert response.status_code == 201, response.get_json()
        data = response.get_json()
        assert data["status"] == "registered"
        assert ORDINARY_PLATE.match(data["plate"]), data["plate"]
        assert data["registered_at"] == "2026-11-25T10:00:00+08:00"
        plates.append(data["plate"])
        statuses.append(get_batch(client, owner, body["id"])["status"])
    assert statuses == ["scheduled", "in_progress", "in_progress", "in_progress", "completed"]
    final = get_batch(client, owner, body["id"])
    assert [v["plate"] for v in final["vehicles"]] == plates
    assert final["status_counts"] == {"registered": 2}
    assert final["completed_at"] == "2026-11-25T10:00:00+08:00"
    assert len(set(plates)) == 2


def test_new_energy_vehicles_get_six_character_plates(client, factory):
    owner, staff = company(factory), officer(factory)
    body = scheduled_batch(client, factory, owner, staff, 4, fuel_type="electric")
    for vehicle in body["vehicles"]:
        inspect(client, staff, vehicle["vin"])
        plate = register(client, staff, vehicle["vin"]).get_json()["plate"]
        assert NEW_ENERGY_PLATE.match(plate), plate


@pytest.mark.parametrize("fuel_type,letter", [("electric", "D"), ("plug_in_hybrid", "F"), ("fuel_cell", "F")])
def test_green_plates_carry_d_for_electric_and_f_for_other_new_energy(client, factory, fuel_type, letter):
    owner, staff = company(factory), officer(factory)
    body = scheduled_batch(client, factory, owner, staff, 3, fuel_type=fuel_type)
    for vehicle in body["vehicles"]:
        inspect(client, staff, vehicle["vin"])
        plate = register(client, staff, vehicle["vin"]).get_json()["plate"]
        assert NEW_ENERGY_PLATE.match(plate) and plate[2] == letter, plate


@pytest.mark.parametrize("vehicle_type,fuel_type,plate", [
    ("bus", "electric", r"^渝G[0-9]{5}D$"), ("heavy_truck", "fuel_cell", r"^渝G[0-9]{5}F$"),
    ("bus", "diesel", r"^渝G[0-9A-HJ-NP-Z]{5}$"), ("light_truck", "electric", r"^渝GD[0-9A-HJ-NP-Z][0-9]{4}$"),
])
def test_large_new_energy_vehicles_get_d_or_f_last(client, factory, vehicle_type, fuel_type, plate):
    owner, staff = company(factory), officer(factory)
    vehicles = factory.vehicles(2, fuel_type=fuel_type)
    for vehicle in vehicles:
        vehicle["vehicle_type"] = vehicle_type
    created = submit(client, owner.headers, vehicles).get_json()
    open_day(client, staff)
    assert book(client, owner, created["id"]).status_code == 201
    for vehicle in created["vehicles"]:
        inspect(client, staff, vehicle["vin"])
        issued = register(client, staff, vehicle["vin"]).get_json()["plate"]
        assert re.match(plate, issued), issued


def test_registration_before_a_passed_inspection_is_409(client, factory):
    owner, staff = company(factory), officer(factory)
    submitted = batch(client, factory, owner, 1)["vehicles"][0]["vin"]
    assert register(client, staff, submitted).status_code == 409
    vin = scheduled_batch(client, factory, owner, staff, 1)["vehicles"][0]["vin"]
    response = register(client, staff, vin)
    assert response.status_code == 409
    assert response.get_json()["message"] == f"vehicle {vin} has not passed an inspection yet"


def test_second_registration_is_409_and_keeps_the_plate(client, factory):
    owner, staff = company(factory), officer(factory)
    vin = scheduled_batch(client, factory, owner, staff, 1)["vehicles"][0]["vin"]
    inspect(client, staff, vin)
    plate = register(client, staff, vin).get_json()["plate"]
    again = register(client, staff, vin)
    assert again.status_code == 409
    assert again.get_json()["message"] == f"vehicle {vin} is already registered as {plate}"
    assert inspect(client, staff, vin).status_code == 409


@pytest.mark.parametrize("app_config", [{"PLATE_POOL_TOPUP": 3}])
def test_plates_are_never_issued_twice_across_top_ups(app, client, factory, app_config):
    from vmo.fleet import plates as services
    from vmo.offices.services import get_office

    owner, staff = company(factory), officer(factory)
    with app.app_context():
        office = get_office(factory.office)
        assert services.add_plates(office, "ordinary", 4, random.Random(5)) == 4
        db.session.commit()
    body = scheduled_batch(client, factory, owner, staff, 12)
    plates = []
    for vehicle in body["vehicles"]:
        inspect(client, staff, vehicle["vin"])
        plates.append(register(client, staff, vehicle["vin"]).get_json()["plate"])
    assert len(set(plates)) == 12
    with app.app_context():
        office = get_office(factory.office)
        # The same seeded plates again: all already in the pool (and issued), none added.
        assert services.add_plates(office, "ordinary", 4, random.Random(5)) == 0
        issued = db.session.scalars(select(PlatePool.plate).where(PlatePool.vehicle_id.is_not(None))).all()
        assert sorted(issued) == sorted(plates)
        assert services.plate_pool_counts(office.id)["ordinary"]["issued"] == 12


def test_one_follow_up_per_batch_when_its_last_vehicle_is_registered(app, client, factory):
    """15 cars, one text to the company's contact, naming the number of vehicles."""
    owner = company(factory, contact_phone="13883000001")
    staff = officer(factory, badge_number="500123")
    body = scheduled_batch(client, factory, owner, staff, 3)
    follow_ups = select(OutboxMessage).where(OutboxMessage.kind == "follow_up")
    for vehicle in body["vehicles"]:
        inspect(client, staff, vehicle["vin"])
        with app.app_context():
            assert db.session.scalars(follow_ups).all() == []
        assert register(client, staff, vehicle["vin"]).status_code == 201
    with app.app_context():
        messages = db.session.scalars(follow_ups).all()
        assert len(messages) == 1
        message = messages[0]
        assert (message.phone, message.kind, message.status) == ("13883000001", "follow_up", "pending")
        assert (message.subject_type, message.subject_id, message.officer_id) == ("fleet_batch", body["id"], staff.id)
        assert message.body.endswith("贵公司3辆新车已全部登记，经办民警500123。满意请回1，不满意请回2。")
        assert len(message.body) <= 70


def test_registration_is_audited_and_audit_is_readable_by_staff_only(client, factory):
    owner, staff = company(factory), officer(factory)
    vin = scheduled_batch(client, factory, owner, staff, 1)["vehicles"][0]["vin"]
    inspect(client, staff, vin)
    plate = register(client, staff, vin).get_json()["plate"]
    response = client.get(f"/api/v1/audit?entity=fleet_vehicle&entity_id={vin}&action=fleet.register",
                          headers=staff.headers)
    assert response.status_code == 200
    entries = response.get_json()
    assert len(entries) == 1
    assert {k: entries[0][k] for k in ("actor", "action", "entity", "entity_id", "before", "after")} == {
        "actor": staff.username, "action": "fleet.register", "entity": "fleet_vehicle", "entity_id": vin,
        "before": {"status": "inspected"}, "after": {"status": "registered", "plate": plate}}
    assert client.get("/api/v1/audit", headers=owner.headers).status_code == 403
    assert client.get("/api/v1/audit").status_code == 401


def test_audit_log_covers_each_state_change_of_the_story(client, factory):
    owner, staff = company(factory), officer(factory)
    body = scheduled_batch(client, factory, owner, staff, 1)
    vin = body["vehicles"][0]["vin"]
    inspect(client, staff, vin)
    register(client, staff, vin)
    actions = [e["action"] for e in client.get("/api/v1/audit?page_size=100", headers=staff.headers).get_json()]
    assert actions[:5] == ["fleet.register", "fleet.inspect", "fleet.book", "green_channel.open", "fleet.submit"]
    book_entry = client.get("/api/v1/audit?action=fleet.book", headers=staff.headers).get_json()[0]
    assert book_entry["before"] == {"status": "submitted"}
    assert book_entry["after"] == {"status": "scheduled", "date": DAY, "vehicles": 1}


def test_audit_of_another_office_is_invisible(client, factory):
    owner, staff = company(factory), officer(factory)
    batch(client, factory, owner, 1)
    factory.other_office()
    stranger = officer(factory, office="fuling")
    assert client.get("/api/v1/audit?entity=fleet_batch", headers=stranger.headers).get_json() == []
    assert len(client.get("/api/v1/audit?entity=fleet_batch", headers=staff.headers).get_json()) == 1


def test_whole_story_with_a_failed_vehicle(client, factory):
    owner, staff = company(factory), officer(factory)
    body = scheduled_batch(client, factory, owner, staff, 3)
    vins = [v["vin"] for v in body["vehicles"]]
    inspect(client, staff, vins[0])
    inspect(client, staff, vins[1], "fail", ["制动距离超标"])
    register(client, staff, vins[0])
    current = get_batch(client, owner, body["id"])
    assert current["status"] == "in_progress"
    assert current["status_counts"] == {"registered": 1, "failed_inspection": 1, "scheduled": 1}
    for vin in vins[1:]:
        inspect(client, staff, vin)
        register(client, staff, vin)
    assert get_batch(client, owner, body["id"])["status"] == "completed"
    # A completed batch cannot be booked again or cancelled.
    assert book(client, owner, body["id"]).status_code == 409
    assert client.delete(f"/api/v1/fleet/batches/{body['id']}/appointment", headers=owner.headers).status_code == 409


@pytest.mark.parametrize("app_config", [{"FLEET_MAX_BATCH": 600}])
def test_a_limit_above_500_is_in_force(app, client, factory, app_config):
    owner = company(factory)
    assert submit(client, owner.headers, factory.vehicles(601)).get_json()["errors"] == {
        "json": {"vehicles": ["a batch has 1 to 600 vehicles"]}}
    assert submit(client, owner.headers, factory.vehicles(600)).status_code == 201
    spec = client.get("/api/v1/openapi.json").get_json()
    vehicles = spec["components"]["schemas"]["BatchCreate"]["properties"]["vehicles"]
    assert (vehicles["minItems"], vehicles["maxItems"]) == (1, MAX_BATCH_CEILING)


@pytest.mark.parametrize("limit", [0, MAX_BATCH_CEILING + 1])
def test_an_impossible_batch_limit_stops_the_app_from_starting(database_url, limit):
    from vmo import create_app
    with pytest.raises(ValueError, match=f"VMO_FLEET_MAX_BATCH = {limit}: must be 1 to {MAX_BATCH_CEILING}"):
        create_app({"SQLALCHEMY_DATABASE_URI": database_url, "FLEET_MAX_BATCH": limit})


def test_stored_times_follow_the_configured_clock(client, factory):
    """created_at comes from the same clock as every rule (FROZEN_NOW here), not the machine's."""
    owner = company(factory)
    assert owner.created_at == "2026-11-25T10:00:00+08:00"
    assert batch(client, factory, owner, count=1)["created_at"] == "2026-11-25T10:00:00+08:00"
