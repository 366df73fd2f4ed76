"""Plates the owner chooses: 50 random choices held for a while (50选1), self-composed numbers (自编自选), fair issue."""
import re
from collections import Counter

import pytest
from sqlalchemy import select, update

from tests.helpers_fleet import (
    NEW_ENERGY_PLATE, ORDINARY_PLATE, batch, company, get_batch, inspect, officer, register, scheduled_batch,
)
from tests.test_fleet_race import _together
from vmo.extensions import db
from vmo.fleet.models import FleetVehicle, PlatePool

LATER = "2026-11-25T10:11:00+08:00"  # past the 10-minute hold of a draw made at 10:00


def choices(client, who, vin):
    return client.get(f"/api/v1/fleet/vehicles/{vin}/plate-choices", headers=who.headers)


def reserve(client, who, vin, plate):
    return client.post(f"/api/v1/fleet/vehicles/{vin}/plate", json={"plate": plate}, headers=who.headers)


def vehicle_batch(client, factory, owner, vehicle_type="suv", fuel_type="petrol", count=1):
    vehicles = [{**v, "vehicle_type": vehicle_type} for v in factory.vehicles(count, fuel_type=fuel_type)]
    response = client.post("/api/v1/fleet/batches", json={"vehicles": vehicles}, headers=owner.headers)
    assert response.status_code == 201, response.get_json()
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


def test_a_reserved_plate_is_issued_at_registration_and_a_change_of_mind_frees_the_first(app, client, factory):
    owner, staff = company(factory), officer(factory)
    data = scheduled_batch(client, factory, owner, staff, count=2)
    vin, other = (v["vin"] for v in data["vehicles"])
    offered = choices(client, owner, vin).get_json()["choices"]
    first = reserve(client, owner, vin, offered[0])
    assert first.status_code == 200
    assert {k: first.get_json()[k] for k in ("vin", "plate", "kind", "origin")} == {
        "vin": vin, "plate": offered[0], "kind": "ordinary", "origin": "pool"}
    composed = reserve(client, owner, vin, "渝g·5a 2b8")  # spaces, the dot and lower case are forgiven
    assert composed.status_code == 200, composed.get_json()
    assert (composed.get_json()["plate"], composed.get_json()["origin"]) == ("渝G5A2B8", "composed")
    # The first choice is free again: another vehicle may have it.
    assert reserve(client, owner, other, offered[0]).status_code == 200
    inspect(client, staff, vin)
    issued = register(client, staff, vin)
    assert issued.status_code == 201 and issued.get_json()["plate"] == "渝G5A2B8"
    assert choices(client, owner, vin).status_code == 409
    assert reserve(client, owner, vin, "渝G5A2B9").status_code == 409
    # A plate issued is never reserved again.
    assert reserve(client, owner, other, "渝G5A2B8").status_code == 409


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
     "a small new-energy plate is D, a letter or digit, then 4 digits (D: battery electric; GA 36-2018)"),
    ("passenger_car", "plug_in_hybrid", "渝GFA1B34",
     "a small new-energy plate is F, a letter or digit, then 4 digits (F: hybrid or fuel cell; GA 36-2018)"),
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
    ("suv", "petrol", "渝G88888"), ("suv", "petrol", "渝GA8B88"), ("passenger_car", "electric", "渝GDA8888"),
    ("passenger_car", "hybrid", "渝GAA888"), ("bus", "plug_in_hybrid", "渝G88888F"),
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
