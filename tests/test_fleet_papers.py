"""A vehicle's papers (合格证, 完税证明, 交强险, 使用性质): in the batch, the CSV import and PATCH; registration
refuses without them and names what is missing."""
import csv

import pytest

from tests.helpers_fleet import batch, company, get_batch, inspect, officer, register, scheduled_batch, submit
from vmo.fleet.papers import PAPER_FIELDS

PAPERS = {"certificate_number": "WDY123456789012", "purchase_tax_number": "350012026001234567",
          "insurance_policy": "PDZA202650010000012345", "use_character": "非营运"}


def field_errors(body) -> dict:
    """The per-field messages of a 422, wherever the error format keeps them."""
    errors = body["errors"]
    return errors.get("json", errors)


def patch(client, who, vin, **body):
    return client.patch(f"/api/v1/fleet/vehicles/{vin}", json=body, headers=who.headers)


def papers_of(vehicle) -> dict:
    return {name: vehicle[name] for name in PAPER_FIELDS}


# ---- in the batch ----------------------------------------------------------------------

def test_a_batch_carries_papers_normalised(client, factory):
    owner = company(factory)
    vehicles = factory.vehicles(2, papers=False)
    vehicles[0].update({"certificate_number": " wdy-1234 5678 9012 ", "purchase_tax_number": "３５００１２０２６００１２３４５６７",
                        "insurance_policy": "pdza-2026-5001-0000-012345", "use_character": " 租赁 "})
    response = submit(client, owner.headers, vehicles)
    assert response.status_code == 201, response.get_json()
    first, second = response.get_json()["vehicles"]
    assert papers_of(first) == {"certificate_number": "WDY123456789012", "purchase_tax_number": "350012026001234567",
                                "insurance_policy": "PDZA202650010000012345", "use_character": "租赁"}
    assert first["documents_missing"] == []
    assert papers_of(second) == dict.fromkeys(PAPER_FIELDS)
    assert second["documents_missing"] == list(PAPER_FIELDS)


@pytest.mark.parametrize("field, value, message", [
    ("certificate_number", "WDY1234567", None),                      # 10: the shortest allowed
    ("certificate_number", "WDY123456", "10 to 20 letters and digits, not 9"),
    ("certificate_number", "W" * 20, None),
    ("certificate_number", "W" * 21, "10 to 20 letters and digits, not 21"),
    ("certificate_number", "合格证1234567890", "only letters and digits (as printed on the paper)"),
    ("purchase_tax_number", "1234567", "8 to 30 letters and digits, not 7"),
    ("purchase_tax_number", "1" * 30, None),
    ("purchase_tax_number", "1" * 31, "8 to 30 letters and digits, not 31"),
    ("insurance_policy", "PDZA/2026/5001", "only letters and digits (as printed on the paper)"),
    ("insurance_policy", "P" * 41, "8 to 40 letters and digits, not 41"),
    ("insurance_policy", "   ", "must not be empty"),
    ("use_character", "私家车", "one of"),
    ("use_character", "营转非", "营转非 is for a registered vehicle that leaves operating use"),
    ("use_character", "非营运", None),
    ("use_character", "预约出租客运", None),
])
def test_each_paper_is_checked_in_the_batch(client, factory, field, value, message):
    owner = company(factory)
    vehicles = factory.vehicles(2)
    vehicles[1][field] = value
    response = submit(client, owner.headers, vehicles)
    if message is None:
        assert response.status_code == 201, response.get_json()
        return
    assert response.status_code == 422
    [got] = field_errors(response.get_json())["vehicles"]["1"][field]
    assert got.startswith(message), got
    assert client.get("/api/v1/fleet/batches", headers=owner.headers).get_json() == []  # nothing submitted


# ---- registration ----------------------------------------------------------------------

def test_registration_refuses_without_papers_and_names_the_missing_ones(client, factory):
    owner, staff = company(factory), officer(factory)
    vehicles = factory.vehicles(1, papers=False)
    vehicles[0].update(certificate_number=PAPERS["certificate_number"], use_character="非营运")
    data = submit(client, owner.headers, vehicles).get_json()
    from tests.helpers_fleet import book, open_day

    open_day(client, staff)
    assert book(client, owner, data["id"]).status_code == 201
    vin = data["vehicles"][0]["vin"]
    assert inspect(client, staff, vin).status_code == 201
    refused = register(client, staff, vin)
    assert refused.status_code == 409
    body = refused.get_json()
    assert (body["reason"], body["missing"]) == ("documents_missing", ["purchase_tax_number", "insurance_policy"])
    assert "车辆购置税完税证明号码、交强险保单号" in body["message"]
    assert get_batch(client, owner, data["id"])["vehicles"][0]["status"] == "inspected"  # nothing issued
    # One paper in, one still missing: named alone.
    assert patch(client, owner, vin, purchase_tax_number=PAPERS["purchase_tax_number"]).status_code == 200
    assert register(client, staff, vin).get_json()["missing"] == ["insurance_policy"]
    assert patch(client, staff, vin, insurance_policy=PAPERS["insurance_policy"]).status_code == 200
    registered = register(client, staff, vin)
    assert registered.status_code == 201 and registered.get_json()["status"] == "registered"


# ---- PATCH -----------------------------------------------------------------------------

def test_owner_and_officer_fill_in_papers(app, client, factory):
    owner, staff = company(factory), officer(factory)
    data = submit(client, owner.headers, factory.vehicles(1, papers=False)).get_json()
    vin = data["vehicles"][0]["vin"]
    by_owner = patch(client, owner, vin, certificate_number="wdy 1234 5678 9012", use_character="货运")
    assert by_owner.status_code == 200
    assert papers_of(by_owner.get_json()) == {"certificate_number": "WDY123456789012", "purchase_tax_number": None,
                                              "insurance_policy": None, "use_character": "货运"}
    assert by_owner.get_json()["documents_missing"] == ["purchase_tax_number", "insurance_policy"]
    by_officer = patch(client, staff, vin, use_character="非营运", insurance_policy=PAPERS["insurance_policy"])
    assert by_officer.status_code == 200
    assert papers_of(by_officer.get_json())["certificate_number"] == "WDY123456789012"  # left out: unchanged
    assert by_officer.get_json()["use_character"] == "非营运"
    from sqlalchemy import select

    from vmo.audit.models import AuditEntry
    from vmo.extensions import db

    with app.app_context():
        entries = [(e.actor_username, e.entity_id, e.before, e.after) for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "fleet.papers").order_by(AuditEntry.id))]
    assert entries == [
        (owner.username, vin, {"certificate_number": None, "use_character": None},
         {"certificate_number": "WDY123456789012", "use_character": "货运"}),
        (staff.username, vin, {"use_character": "货运", "insurance_policy": None},
         {"use_character": "非营运", "insurance_policy": "PDZA202650010000012345"})]


def test_patch_bad_input_changes_nothing(client, factory):
    owner = company(factory)
    data = batch(client, factory, owner, 1)
    vin = data["vehicles"][0]["vin"]
    before = papers_of(data["vehicles"][0])
    assert client.patch(f"/api/v1/fleet/vehicles/{vin}", json={}, headers=owner.headers).status_code == 200  # no-op
    for body, field in (({"use_character": "自用"}, "use_character"),
                        ({"certificate_number": "短"}, "certificate_number"),
                        ({"insurance_policy": 12345678}, "insurance_policy"),
                        ({"use_character": "非营运", "vin": "LSVAU218XN2183294"}, "vin"),
                        ({"insurance_policy": None}, "insurance_policy")):
        response = client.patch(f"/api/v1/fleet/vehicles/{vin}", json=body, headers=owner.headers)
        assert response.status_code == 422, body
        assert field in field_errors(response.get_json()), (body, response.get_json())
    assert papers_of(client.get(f"/api/v1/fleet/vehicles/{vin}", headers=owner.headers).get_json()) == before


def test_patch_refused_for_others_and_after_registration(client, factory):
    owner, stranger, staff = company(factory), company(factory, name="另一家公司"), officer(factory)
    data = scheduled_batch(client, factory, owner, staff, count=1)
    vin = data["vehicles"][0]["vin"]
    assert patch(client, stranger, vin, use_character="租赁").status_code == 404
    assert patch(client, officer(factory, office=factory.other_office()), vin, use_character="租赁").status_code == 404
    supervisor = type("Staff", (), {"headers": factory.headers(factory.staff("supervisor"))})
    assert patch(client, supervisor, vin, use_character="租赁").status_code == 403
    assert inspect(client, staff, vin).status_code == 201
    assert register(client, staff, vin).status_code == 201
    late = patch(client, owner, vin, use_character="租赁")
    assert late.status_code == 409 and late.get_json()["reason"] == "registered"
    assert client.get(f"/api/v1/fleet/vehicles/{vin}", headers=owner.headers).get_json()["use_character"] == "非营运"


# ---- the CSV import --------------------------------------------------------------------

COLUMNS = ("vin", "make", "model", "vehicle_type", "fuel_type", "color", "invoice_number", *PAPER_FIELDS)


def write_csv(path, rows):
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return str(path)


def test_csv_import_takes_papers_and_names_bad_ones_by_row(app, runner, factory, tmp_path):
    owner = company(factory)
    rows = factory.vehicles(3)
    rows[2] = {key: value for key, value in rows[2].items() if key not in PAPER_FIELDS}  # papers to follow
    result = runner.invoke(args=["fleet", "import", write_csv(tmp_path / "good.csv", rows), "--company",
                                 owner.username])
    assert result.exit_code == 0, result.output
    from sqlalchemy import select

    from vmo.extensions import db
    from vmo.fleet.models import FleetVehicle

    with app.app_context():
        stored = {v.vin: (v.certificate_number, v.use_character) for v in db.session.scalars(select(FleetVehicle))}
    assert stored == {rows[0]["vin"]: (rows[0]["certificate_number"], "非营运"),
                      rows[1]["vin"]: (rows[1]["certificate_number"], "非营运"), rows[2]["vin"]: (None, None)}

    bad = factory.vehicles(3)
    bad[0]["use_character"] = "营转非"
    bad[2]["insurance_policy"] = "保单123"
    result = runner.invoke(args=["fleet", "import", write_csv(tmp_path / "bad.csv", bad), "--company",
                                 owner.username])
    assert result.exit_code == 1
    assert "row 2: use_character: 营转非 is for a registered vehicle that leaves operating use" in result.output
    assert "row 4: insurance_policy: only letters and digits (as printed on the paper)" in result.output
    assert "Error: 2 problem(s) in the file; nothing was submitted" in result.output
    with app.app_context():
        assert len(db.session.scalars(select(FleetVehicle)).all()) == 3


def test_the_web_app_offers_the_same_uses_as_the_server():
    """The companies' app checks 使用性质 in the page against its own copy of the list: the same list."""
    import json
    import re
    from pathlib import Path

    from vmo.fleet.papers import NEW_VEHICLE_USE_CHARACTERS

    texts = (Path(__file__).resolve().parents[1] / "vmo" / "web" / "qiye" / "static" / "texts.js").read_text("utf-8")
    listed = re.search(r"export const USE_CHARACTERS = (\[[^\]]*\]);", texts).group(1)
    assert tuple(json.loads(re.sub(r",\s*\]", "]", listed))) == NEW_VEHICLE_USE_CHARACTERS
