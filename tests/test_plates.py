"""The plates core: kinds and GA 36-2018 formats (vmo.plates.rules) and the office's registers."""
import pytest
from sqlalchemy import select, update

from tests.helpers_fleet import company
from tests.test_fleet_plates import vehicle_batch
from vmo.extensions import db
from vmo.fleet.models import FleetVehicle, PlatePool
from vmo.motorcycles.models import Motorcycle
from vmo.offices.services import get_office
from vmo.plates import registers
from vmo.plates.rules import PlateKind, composed_plate_problems, energy_letter, kind_for, normalise


@pytest.mark.parametrize("fuel, vehicle_type, kind", [
    ("petrol", "suv", PlateKind.ORDINARY), ("hybrid", "bus", PlateKind.ORDINARY),  # a plain hybrid is not new energy
    ("electric", "suv", PlateKind.NEW_ENERGY), ("plug_in_hybrid", "van", PlateKind.NEW_ENERGY),
    ("electric", "bus", PlateKind.NEW_ENERGY_LARGE), ("fuel_cell", "heavy_truck", PlateKind.NEW_ENERGY_LARGE),
])
def test_a_vehicles_fuel_and_type_give_its_plate_kind(fuel, vehicle_type, kind):
    assert kind_for(fuel, vehicle_type) == kind


def test_energy_letter_and_normalised_numbers():
    assert energy_letter("electric") == "D" and energy_letter("plug_in_hybrid") == "F"
    assert normalise(" 渝g·a1234 ") == "渝GA1234"


def test_format_rules_at_their_boundaries():
    assert composed_plate_problems("渝GA1234", "渝G", PlateKind.ORDINARY, "F") == []
    assert composed_plate_problems("渝GAB123", "渝G", PlateKind.ORDINARY, "F") == []  # two letters: allowed
    assert any("at most 2 letters" in p for p in composed_plate_problems("渝GABC12", "渝G", PlateKind.ORDINARY, "F"))
    assert any("I and O" in p for p in composed_plate_problems("渝GO1234", "渝G", PlateKind.ORDINARY, "F"))
    assert any("prefix 渝G" in p for p in composed_plate_problems("渝AA1234", "渝G", PlateKind.ORDINARY, "F"))
    assert composed_plate_problems("渝GD12345", "渝G", PlateKind.NEW_ENERGY, "D") == []
    assert composed_plate_problems("渝GF12345", "渝G", PlateKind.NEW_ENERGY, "D")  # F on an electric car
    assert composed_plate_problems("渝G12345D", "渝G", PlateKind.NEW_ENERGY_LARGE, "D") == []
    assert composed_plate_problems("渝G1234DD", "渝G", PlateKind.NEW_ENERGY_LARGE, "D")


def test_every_register_answers_for_the_plates_it_holds(app, client, factory):
    owner = company(factory)
    issued_vin, reserved_vin = (v["vin"] for v in vehicle_batch(client, factory, owner, count=2)["vehicles"])
    with app.app_context():
        office = get_office(factory.office)
        ids = dict(db.session.execute(select(FleetVehicle.vin, FleetVehicle.id)).all())
        db.session.execute(update(FleetVehicle).where(FleetVehicle.vin == issued_vin).values(plate="渝GA0001"))
        db.session.add_all([
            PlatePool(office_id=office.id, plate="渝GA0001", kind="ordinary", vehicle_id=ids[issued_vin]),
            PlatePool(office_id=office.id, plate="渝GA0002", kind="ordinary", reserved_for_id=ids[reserved_vin]),
            PlatePool(office_id=office.id, plate="渝GA0003", kind="ordinary"),  # free: held by nobody
            Motorcycle(office_id=office.id, plate="渝GA0004", owner_name="李四", township="青杠"),
        ])
        db.session.flush()
        asked = ["渝GA0001", "渝GA0002", "渝GA0003", "渝GA0004", "渝GA0005"]
        assert registers.holding(office.id, asked) == {
            "渝GA0001": ["fleet_vehicles", "plate_pool"],
            "渝GA0002": ["plate_pool"],
            "渝GA0004": ["motorcycle_register"],
        }
        assert registers.held_by(office.id, "渝GA0004", among=("fleet_vehicles", "plate_pool")) == []
        assert registers.held_by(office.id, "渝GA0001", among=("fleet_vehicles",)) == ["fleet_vehicles"]
        assert registers.held_by(office.id, "渝GA0005") == []
        assert registers.holding(office.id, []) == {}
        db.session.rollback()


def test_asking_a_register_nobody_provides_is_an_error(app):
    assert {"fleet_vehicles", "plate_pool", "motorcycle_register"} <= set(registers.names())
    with app.app_context(), pytest.raises(LookupError, match="no plate register called tractors"):
        registers.holding(1, ["渝GA0001"], among=("tractors",))


def test_a_plate_on_the_motorcycle_register_is_taken_offered_to_no_one_and_never_issued(app, client, factory):
    """Every register is asked: a motorcycle's plate is neither reserved, nor among choices, nor issued."""
    owner = company(factory)
    vin, spare = (v["vin"] for v in vehicle_batch(client, factory, owner, count=2)["vehicles"])
    with app.app_context():
        office = get_office(factory.office)
        db.session.add(Motorcycle(office_id=office.id, plate="渝GB1234", owner_name="李四", township="青杠"))
        # The same number sits free in the pool (added before the motorcycle was registered).
        db.session.add(PlatePool(office_id=office.id, plate="渝GB1234", kind="ordinary"))
        db.session.execute(update(PlatePool).where(PlatePool.plate != "渝GB1234").values(kind="retired"))
        db.session.commit()
    response = client.post(f"/api/v1/fleet/vehicles/{vin}/plate", json={"plate": "渝GB1234"}, headers=owner.headers)
    assert response.status_code == 409, response.get_json()
    assert response.get_json()["reason"] == "taken"
    offered = client.get(f"/api/v1/fleet/vehicles/{spare}/plate-choices", headers=owner.headers).get_json()
    assert len(offered["choices"]) == 50 and "渝GB1234" not in offered["choices"]
    with app.app_context():
        from vmo import clock
        from vmo.fleet import plates

        vehicle = db.session.scalar(select(FleetVehicle).where(FleetVehicle.vin == vin))
        for _ in range(20):
            savepoint = db.session.begin_nested()
            assert plates.issue_plate(get_office(factory.office), vehicle, clock.now(), topup=5) != "渝GB1234"
            savepoint.rollback()
