"""Plates the owner chooses: 50 random choices held for a while (50选1), self-composed numbers (自编自选), fair issue."""
import re
from collections import Counter

import pytest
from sqlalchemy import func, select, update

from tests.helpers_fleet import (
    NEW_ENERGY_PLATE, ORDINARY_PLATE, batch, book, company, get_batch, inspect, officer, open_day, register,
    scheduled_batch,
)
from tests.test_fleet_race import _together
from vmo.extensions import db
from vmo.fleet.models import FleetVehicle, PlatePool

LATER = "2026-11-25T10:11:00+08:00"  # past the 10-minute hold of a draw made at 10:00


def choices(client, who, vin):
    return client.get(f"/api/v1/fleet/vehicles/{vin}/plate-choices", headers=who.headers)


def reserve(client, who, vin, plate):
    return client.post(f"/api/v1/fleet/vehicles/{vin}/plate", json={"plate": plate}, headers=who.headers)


def vehicle_batch(client, factory, owner, vehicle_type="suv", fuel_type="petrol", count=1, booked=True):
    """A batch of `count` vehicles, booked on DAY unless `booked` is false (plates need an appointment)."""
    vehicles = [{**v, "vehicle_type": vehicle_type} for v in factory.vehicles(count, fuel_type=fuel_type)]
    response = client.post("/api/v1/fleet/batches", json={"vehicles": vehicles}, headers=owner.headers)
    assert response.status_code == 201, response.get_json()
    if booked:
        open_day(client, officer(factory), capacity=200)
        booking = book(client, owner, response.get_json()["id"])
        assert booking.status_code == 201, booking.get_json()
    return response.get_json()


@pytest.mark.parametrize("vehicle_type,fuel_type,pattern", [
    ("suv", "petrol", ORDINARY_PLATE),
    ("passenger_car", "electric", re.compile(r"^渝GD[0-9A-HJ-NP-Z][0-9]{4}$")),
    ("passenger_car", "plug_in_hybrid", re.compile(r"^渝GF[0-9A-HJ-NP-Z][0-9]{4}$")),
    ("bus", "electric", re.compile(r"^渝G[0-9]{5}D$")),
])
def test_fifty_distinct_random_choices_of_the_vehicles_kind_held_until_they_expire(
        app, client, factory, vehicle_type, fuel_type, pattern):
    owner = company(factory)
    vin = vehicle_batch(client, factory, owner, vehicle_type, fuel_type)["vehicles"][0]["vin"]
    first = choices(client, owner, vin)
    assert first.status_code == 200, first.get_json()
    body = first.get_json()
    assert len(body["choices"]) == len(set(body["choices"])) == 50
    assert all(pattern.match(p) for p in body["choices"]), body["choices"]
    assert body["expires_at"].startswith("2026-11-25T") and body["vin"] == vin
    # Asked again before it expires: the same list.
    assert choices(client, owner, vin).get_json() == body
    # After it: a fresh draw, and the old plates are free again.
    app.config["FROZEN_NOW"] = LATER
    fresh = choices(client, owner, vin).get_json()
    assert len(fresh["choices"]) == 50 and fresh["expires_at"] != body["expires_at"]
    assert set(fresh["choices"]) != set(body["choices"])
    with app.app_context():
        held = set(db.session.scalars(select(PlatePool.plate).where(PlatePool.held_for_id.is_not(None))))
    assert held == set(fresh["choices"])


def test_held_plates_are_offered_to_no_one_else_and_the_batch_shows_each_state(app, client, factory):
    owner, staff = company(factory), officer(factory)
    data = vehicle_batch(client, factory, owner, count=3)
    first, second, third = (v["vin"] for v in data["vehicles"])
    mine = set(choices(client, owner, first).get_json()["choices"])
    theirs = set(choices(client, staff, second).get_json()["choices"])  # an officer may ask too
    assert len(mine) == len(theirs) == 50 and not mine & theirs
    picked = sorted(mine)[7]
    assert reserve(client, owner, first, picked).status_code == 200
    states = {v["vin"]: v["plate_choice"] for v in get_batch(client, owner, data["id"])["vehicles"]}
    assert states[first] == {"state": "reserved", "plate": picked, "expires_at": None}
    assert states[second]["state"] == "choosing" and states[second]["expires_at"]
    assert states[third] == {"state": "none", "plate": None, "expires_at": None}
    # The other 49 of the first vehicle's choices went back to the pool.
    with app.app_context():
        assert db.session.scalar(select(PlatePool.id).where(PlatePool.plate.in_(mine - {picked}),
                                                           PlatePool.held_for_id.is_not(None))) is None
    # Someone else's held or reserved plate cannot be taken.
    assert reserve(client, owner, third, picked).status_code == 409
    assert reserve(client, owner, third, sorted(theirs)[0]).status_code == 409


def test_a_reserved_plate_is_final_until_an_officer_releases_it_and_is_issued_at_registration(app, client, factory):
    owner, staff = company(factory), officer(factory)
    data = scheduled_batch(client, factory, owner, staff, count=2)
    vin, other = (v["vin"] for v in data["vehicles"])
    offered = choices(client, owner, vin).get_json()["choices"]
    first = reserve(client, owner, vin, offered[0])
    assert first.status_code == 200
    assert {k: first.get_json()[k] for k in ("vin", "plate", "kind", "origin")} == {
        "vin": vin, "plate": offered[0], "kind": "ordinary", "origin": "pool"}
    # The same plate again is the same reservation (a retry); another one is refused: it is final.
    assert reserve(client, owner, vin, offered[0]).get_json() == first.get_json()
    final = reserve(client, owner, vin, "渝G5A2B8")
    assert final.status_code == 409 and final.get_json()["reason"] == "plate_final", final.get_json()
    assert choices(client, owner, vin).get_json()["reason"] == "plate_final"
    # Only an officer may release it, and the release is in the audit log.
    release = f"/api/v1/fleet/vehicles/{vin}/plate"
    assert client.delete(release, headers=owner.headers).status_code == 403
    released = client.delete(release, headers=staff.headers)
    assert released.status_code == 200, released.get_json()
    assert released.get_json()["plate"] == offered[0]
    assert client.delete(release, headers=staff.headers).status_code == 404
    audit = client.get("/api/v1/audit?action=fleet.plate_release", headers=staff.headers).get_json()
    assert [(e["entity_id"], e["before"]["plate"]) for e in audit] == [(vin, offered[0])]
    composed = reserve(client, owner, vin, "渝g·5a 2b8")  # spaces, the dot and lower case are forgiven
    assert composed.status_code == 200, composed.get_json()
    assert (composed.get_json()["plate"], composed.get_json()["origin"]) == ("渝G5A2B8", "composed")
    # The released plate is free again: another vehicle may have it.
    assert reserve(client, owner, other, offered[0]).status_code == 200
    inspect(client, staff, vin)
    issued = register(client, staff, vin)
    assert issued.status_code == 201 and issued.get_json()["plate"] == "渝G5A2B8"
    assert choices(client, owner, vin).status_code == 409
    assert reserve(client, owner, vin, "渝G5A2B9").status_code == 409
    assert client.delete(release, headers=staff.headers).status_code == 409  # issued: not released
    # A plate issued is never reserved again.
    with app.app_context():
        db.session.execute(update(PlatePool).where(PlatePool.reserved_for_id.is_not(None))
                           .values(reserved_for_id=None, reserved_at=None))
        db.session.commit()
    taken = reserve(client, owner, other, "渝G5A2B8")
    assert taken.status_code == 409 and taken.get_json()["reason"] == "taken"


def test_choices_are_the_owners_and_officers_only(client, factory):
    owner, stranger = company(factory), company(factory)
    vin = vehicle_batch(client, factory, owner)["vehicles"][0]["vin"]
    assert choices(client, stranger, vin).status_code == 404
    assert reserve(client, stranger, vin, "渝G5A2B8").status_code == 404
    candidate = factory.candidate()
    headers = {"headers": factory.headers(candidate["username"])}
    assert client.get(f"/api/v1/fleet/vehicles/{vin}/plate-choices", **headers).status_code == 403
    assert client.get(f"/api/v1/fleet/vehicles/{vin}/plate-choices").status_code == 401


@pytest.mark.parametrize("vehicle_type,fuel_type,plate,broken", [
    ("suv", "petrol", "川A12345", "must start with this office's prefix 渝G"),
    ("suv", "petrol", "渝G1234", "an ordinary plate has 5 characters after 渝G (GA 36-2018), not 4"),
    ("suv", "petrol", "渝G123456", "an ordinary plate has 5 characters after 渝G (GA 36-2018), not 6"),
    ("suv", "petrol", "渝G1O234", "I and O are not used on plates: they read as 1 and 0 (GA 36-2018 5.9)"),
    ("suv", "petrol", "渝G12I45", "I and O are not used on plates: they read as 1 and 0 (GA 36-2018 5.9)"),
    ("suv", "petrol", "渝GAB1C2", "at most 2 letters after the prefix, not 3"),
    ("suv", "petrol", "渝G12_45", "only digits and letters may follow the prefix"),
    ("passenger_car", "electric", "渝G12345", "a new-energy plate has 6 characters after 渝G (GA 36-2018), not 5"),
    ("passenger_car", "electric", "渝GF12345",
     "a small new-energy plate is one of D, A, B, C, E, a letter or digit, then 4 digits "
     "(battery electric; GA 36-2018)"),
    ("passenger_car", "electric", "渝GK12345",
     "a small new-energy plate is one of D, A, B, C, E, a letter or digit, then 4 digits "
     "(battery electric; GA 36-2018)"),
    ("passenger_car", "plug_in_hybrid", "渝GFA1B34",
     "a small new-energy plate is one of F, G, H, J, K, a letter or digit, then 4 digits "
     "(hybrid or fuel cell; GA 36-2018)"),
    ("passenger_car", "plug_in_hybrid", "渝GD12345",
     "a small new-energy plate is one of F, G, H, J, K, a letter or digit, then 4 digits "
     "(hybrid or fuel cell; GA 36-2018)"),
    ("passenger_car", "plug_in_hybrid", "渝GL12345",
     "a small new-energy plate is one of F, G, H, J, K, a letter or digit, then 4 digits "
     "(hybrid or fuel cell; GA 36-2018)"),
    ("bus", "electric", "渝GD12345", "a large new-energy plate is 5 digits, then D (GA 36-2018)"),
    ("bus", "fuel_cell", "渝G1234AF", "a large new-energy plate is 5 digits, then F (GA 36-2018)"),
])
def test_a_self_composed_number_is_refused_for_each_rule_it_breaks(client, factory, vehicle_type, fuel_type,
                                                                   plate, broken):
    owner = company(factory)
    vin = vehicle_batch(client, factory, owner, vehicle_type, fuel_type)["vehicles"][0]["vin"]
    refused = reserve(client, owner, vin, plate)
    assert refused.status_code == 422, refused.get_json()
    assert broken in refused.get_json()["errors"]["json"]["plate"]
    assert get_batch(client, owner, refused_batch_id(client, owner, vin))["vehicles"][0]["plate_choice"]["state"] \
        == "none"


def refused_batch_id(client, owner, vin):
    return client.get(f"/api/v1/fleet/vehicles/{vin}", headers=owner.headers).get_json()["batch_id"]


@pytest.mark.parametrize("vehicle_type,fuel_type,plate", [
    ("suv", "petrol", "渝G88878"), ("suv", "petrol", "渝GA8B88"), ("passenger_car", "electric", "渝GDA8888"),
    ("passenger_car", "electric", "渝GA12345"), ("passenger_car", "electric", "渝GEA3456"),
    ("passenger_car", "plug_in_hybrid", "渝GK12345"), ("passenger_car", "fuel_cell", "渝GGB3456"),
    ("passenger_car", "hybrid", "渝GAA888"), ("bus", "plug_in_hybrid", "渝G88788F"),
])
def test_a_self_composed_number_within_the_rules_is_reserved(client, factory, vehicle_type, fuel_type, plate):
    owner = company(factory)
    vin = vehicle_batch(client, factory, owner, vehicle_type, fuel_type)["vehicles"][0]["vin"]
    response = reserve(client, owner, vin, plate)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["plate"] == plate


def test_two_vehicles_racing_for_one_plate_one_wins(app, client, factory):
    owner = company(factory)
    first, second = (v["vin"] for v in vehicle_batch(client, factory, owner, count=2)["vehicles"])
    for plate in ("渝G7C3D1", None):  # a composed number, then a plate of the pool
        if plate is None:
            from vmo.fleet.plates import add_plates
            from vmo.offices.services import get_office

            with app.app_context():
                add_plates(get_office(factory.office), "ordinary", 5)
                db.session.commit()
                plate = db.session.scalar(select(PlatePool.plate).where(PlatePool.reserved_for_id.is_(None),
                                                                        PlatePool.vehicle_id.is_(None)).limit(1))
        answers = _together(*[lambda v=v: reserve(app.test_client(), owner, v, plate) for v in (first, second)])
        assert sorted(a.status_code for a in answers) == [200, 409], [a.get_json() for a in answers]
        with app.app_context():
            assert db.session.scalar(select(PlatePool.reserved_for_id).where(PlatePool.plate == plate)) is not None
        # Both vehicles let go before the next round.
        with app.app_context():
            db.session.execute(update(PlatePool).values(reserved_for_id=None, reserved_at=None))
            db.session.commit()


def test_issued_plates_are_not_in_pool_order_and_every_free_plate_can_come_out(app, client, factory):
    """Without a reservation the plate is drawn uniformly from the free ones: not the pool's order."""
    from vmo.fleet import plates
    from vmo.offices.services import get_office

    owner, staff = company(factory), officer(factory)
    data = scheduled_batch(client, factory, owner, staff, count=200, capacity=200)
    with app.app_context():
        office = get_office(factory.office)
        plates.add_plates(office, "ordinary", 400)
        db.session.execute(update(FleetVehicle).values(status="inspected"))
        db.session.commit()
        pool_order = list(db.session.scalars(select(PlatePool.plate).order_by(PlatePool.id)))
    issued = []
    for vehicle in data["vehicles"]:
        response = register(client, staff, vehicle["vin"])
        assert response.status_code == 201, response.get_json()
        issued.append(response.get_json()["plate"])
    assert len(set(issued)) == 200 and all(ORDINARY_PLATE.match(p) for p in issued)
    assert issued != sorted(issued)
    assert issued != [p for p in pool_order if p in set(issued)]
    # Every free plate can come out: with five left, 300 draws (rolled back) reach each about 60 times.
    with app.app_context():
        office = get_office(factory.office)
        db.session.execute(update(PlatePool).where(PlatePool.vehicle_id.is_(None),
                                                   PlatePool.id.not_in(select(PlatePool.id)
                                                                       .where(PlatePool.vehicle_id.is_(None))
                                                                       .order_by(PlatePool.id).limit(5)))
                           .values(vehicle_id=None, reserved_for_id=None, held_for_id=None, kind="retired"))
        db.session.commit()
        five = set(db.session.scalars(select(PlatePool.plate).where(PlatePool.kind == "ordinary",
                                                                    PlatePool.vehicle_id.is_(None))))
        assert len(five) == 5
        spare = batch(client, factory, owner, 1)["vehicles"][0]["id"]
        vehicle = db.session.get(FleetVehicle, spare)
        counts = Counter()
        from vmo import clock
        for _ in range(300):
            savepoint = db.session.begin_nested()
            counts[plates.issue_plate(office, vehicle, clock.now())] += 1
            savepoint.rollback()
    assert set(counts) == five, counts
    assert all(30 <= n <= 100 for n in counts.values()), counts


def test_new_energy_plates_come_from_their_own_pool(client, factory):
    owner, staff = company(factory), officer(factory)
    data = scheduled_batch(client, factory, owner, staff, count=2, fuel_type="electric")
    for vehicle in data["vehicles"]:
        inspect(client, staff, vehicle["vin"])
        plate = register(client, staff, vehicle["vin"]).get_json()["plate"]
        assert NEW_ENERGY_PLATE.match(plate) and plate.startswith("渝GD")


# ---- plates given out like an office does ------------------------------------------------

DRAW_2 = "2026-11-25T10:11:00+08:00"
DRAW_3 = "2026-11-25T10:22:00+08:00"
DRAW_4 = "2026-11-25T10:33:00+08:00"


def test_no_plate_for_a_vehicle_whose_batch_has_no_appointment(client, factory):
    owner, staff = company(factory), officer(factory)
    data = vehicle_batch(client, factory, owner, booked=False)
    vin = data["vehicles"][0]["vin"]
    for answer in (choices(client, owner, vin), reserve(client, owner, vin, "渝G5A2B8"), choices(client, staff, vin)):
        assert answer.status_code == 409 and answer.get_json()["reason"] == "not_scheduled", answer.get_json()
    # Booked: the same vehicle may choose; cancelled again: no more.
    open_day(client, staff)
    assert book(client, owner, data["id"]).status_code == 201
    assert choices(client, owner, vin).status_code == 200
    assert client.delete(f"/api/v1/fleet/batches/{data['id']}/appointment", headers=owner.headers).status_code == 200
    assert choices(client, owner, vin).get_json()["reason"] == "not_scheduled"


def test_three_draws_per_vehicle_then_draws_exhausted(app, client, factory):
    owner = company(factory)
    vin = vehicle_batch(client, factory, owner)["vehicles"][0]["vin"]
    seen = set()
    for number, when in enumerate((None, DRAW_2, DRAW_3), start=1):
        if when:
            app.config["FROZEN_NOW"] = when
        body = choices(client, owner, vin).get_json()
        assert len(body["choices"]) == 50 and body["draws_left"] == 3 - number, body
        assert choices(client, owner, vin).get_json() == body  # asking again within the hold is no draw
        seen |= set(body["choices"])
    app.config["FROZEN_NOW"] = DRAW_4
    fourth = choices(client, owner, vin)
    assert fourth.status_code == 409, fourth.get_json()
    assert fourth.get_json()["reason"] == "draws_exhausted"
    # The third draw's hold expired: nothing is held for the vehicle any longer, and at most 150 were ever seen.
    assert len(seen) <= 150
    # A self-composed number is still possible after the draws.
    assert reserve(client, owner, vin, "渝G5A2B8").status_code == 200


def test_the_reviews_attack_an_approved_company_holds_no_more_than_its_vehicles_draws(app, client, factory):
    """25 vehicles drawing again and again: 50 held per vehicle at a time, 3 draws each, then 409."""
    owner = company(factory)
    vins = [v["vin"] for v in vehicle_batch(client, factory, owner, count=5)["vehicles"]]
    offered: set[str] = set()
    refused = 0
    for when in (None, DRAW_2, DRAW_3, DRAW_4, "2026-11-25T10:44:00+08:00"):
        if when:
            app.config["FROZEN_NOW"] = when
        for vin in vins:
            for _ in range(3):  # asking again and again within one hold changes nothing
                answer = choices(client, owner, vin)
                if answer.status_code == 409:
                    assert answer.get_json()["reason"] == "draws_exhausted"
                    refused += 1
                    break
                offered |= set(answer.get_json()["choices"])
        with app.app_context():
            held = db.session.scalar(select(func.count()).select_from(PlatePool).where(
                PlatePool.held_for_id.is_not(None), PlatePool.held_until > db.func.now()))
            assert held is None or held <= 50 * len(vins)
    assert refused == 2 * len(vins)
    assert len(offered) <= 3 * 50 * len(vins)
    # Composed numbers do not add up either: one reservation per vehicle, final.
    assert reserve(client, owner, vins[0], "渝G7C3D1").status_code == 200
    assert reserve(client, owner, vins[0], "渝G7C3D2").get_json()["reason"] == "plate_final"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PlatePool)
                                 .where(PlatePool.reserved_for_id.is_not(None))) == 1


@pytest.mark.parametrize("plate,status", [
    ("渝G88888", 422), ("渝G12345", 422), ("渝G00000", 422), ("渝G88887", 200), ("渝G12346", 200),
])
def test_the_offices_kept_back_numbers_are_refused(client, factory, plate, status):
    owner = company(factory)
    vin = vehicle_batch(client, factory, owner)["vehicles"][0]["vin"]
    answer = reserve(client, owner, vin, plate)
    assert answer.status_code == status, answer.get_json()
    if status == 422:
        assert answer.get_json()["reason"] == "reserved"


@pytest.mark.parametrize("fuel_type,vehicle_type,plate", [
    ("electric", "passenger_car", "渝GD88888"), ("plug_in_hybrid", "passenger_car", "渝GF66666"),
    ("electric", "bus", "渝G99999D"),
])
def test_kept_back_new_energy_numbers_are_refused(client, factory, fuel_type, vehicle_type, plate):
    owner = company(factory)
    vin = vehicle_batch(client, factory, owner, vehicle_type, fuel_type)["vehicles"][0]["vin"]
    assert reserve(client, owner, vin, plate).get_json()["reason"] == "reserved"


def test_kept_back_numbers_are_a_setting_and_never_offered_or_issued(app, client, factory):
    from vmo import settings
    from vmo.fleet import plates
    from vmo.offices.services import get_office

    app.config["PLATE_RESERVED"] = "渝GA1111, 22222"
    settings.reload(app)
    owner, staff = company(factory), officer(factory)
    vin, spare = (v["vin"] for v in vehicle_batch(client, factory, owner, count=2)["vehicles"])
    assert reserve(client, owner, vin, "渝GA1111").get_json()["reason"] == "reserved"
    assert reserve(client, owner, vin, "渝G22222").get_json()["reason"] == "reserved"
    assert reserve(client, owner, vin, "渝G88888").status_code == 200  # no longer in the list
    with app.app_context():
        office = get_office(factory.office)
        db.session.add_all([PlatePool(office_id=office.id, plate=p, kind="ordinary") for p in ("渝GA1111", "渝G22222")])
        db.session.execute(update(PlatePool).where(PlatePool.plate.not_in(["渝GA1111", "渝G22222"]),
                                                   PlatePool.reserved_for_id.is_(None)).values(kind="retired"))
        db.session.commit()
        assert plates.add_plates(office, "ordinary", 0, kept_back=("22222",)) == 0
    offered = choices(client, owner, spare).get_json()["choices"]
    assert len(offered) == 50 and not {"渝GA1111", "渝G22222"} & set(offered)
    app.config.pop("PLATE_RESERVED")
    settings.reload(app)


def test_a_vin_known_in_another_office_does_not_block_a_batch_but_twice_in_one_office_does(app, client, factory):
    here, there = company(factory), company(factory, office=factory.other_office())
    vehicles = factory.vehicles(2)
    assert client.post("/api/v1/fleet/batches", json={"vehicles": vehicles}, headers=here.headers).status_code == 201
    elsewhere = client.post("/api/v1/fleet/batches", json={"vehicles": vehicles}, headers=there.headers)
    assert elsewhere.status_code == 201, elsewhere.get_json()
    again = client.post("/api/v1/fleet/batches", json={"vehicles": [vehicles[1]]}, headers=there.headers)
    assert again.status_code == 422
    assert again.get_json()["errors"]["json"]["vehicles"] == {"0": {"vin": ["already known to the office"]}}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FleetVehicle)) == 4
