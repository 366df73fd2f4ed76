"""Staff answers mask phones (138****5678); an officer who must call someone asks for one number, for one
case, and the audit log records who asked for which."""
from tests.helpers_tours import create_tour, headers, officer, publish, stop  # noqa: F401  (fixtures)
from vmo.extensions import db
from vmo.motorcycles.models import Motorcycle
from vmo.offices.services import get_office

REVEAL = "/api/v1/phones/reveal"


def reveal(client, headers, case_type, case_id):
    return client.post(REVEAL, json={"case": {"type": case_type, "id": case_id}}, headers=headers)


def test_a_tour_registrations_phone_is_masked_and_revealed_once_audited(client, factory, officer, headers):
    tour = create_tour(client, headers, [officer], stops=[stop("大观镇", (9, 0))])
    publish(client, headers, tour["id"])
    stop_id = tour["stops"][0]["id"]
    made = client.post(f"/api/v1/tours/{tour['id']}/stops/{stop_id}/registrations",
                       json={"plate": "渝G10001", "owner_name": "王德明", "phone": "13900000001"})
    assert made.status_code == 201
    [listed] = client.get(f"/api/v1/tours/{tour['id']}/stops/{stop_id}/registrations", headers=headers).get_json()
    assert listed["phone"] == "139****0001"
    shown = reveal(client, headers, "tour_registration", listed["id"])
    assert shown.status_code == 200 and shown.get_json() == {
        "case": {"type": "tour_registration", "id": str(listed["id"])}, "phone": "13900000001"}
    [entry] = client.get("/api/v1/audit?action=phone.reveal", headers=headers).get_json()
    assert (entry["entity"], entry["entity_id"], entry["after"]) == (
        "tour_registration", str(listed["id"]), {"phone": "139****0001"})
    # Another office's officer finds no such case; a company may not ask at all.
    other = factory.staff("officer", office=factory.other_office())
    assert reveal(client, factory.headers(other), "tour_registration", listed["id"]).status_code == 404
    company = factory.company()
    assert reveal(client, factory.headers(company["username"]), "tour_registration", listed["id"]).status_code == 403


def test_the_motorcycle_register_masks_phones_and_reveals_by_plate(app, client, factory, headers):
    with app.app_context():
        db.session.add(Motorcycle(office_id=get_office(factory.office).id, plate="渝G20001", owner_name="李四",
                                  township="青杠", phone="13800138000"))
        db.session.commit()
    assert client.get("/api/v1/motorcycles/渝G20001", headers=headers).get_json()["phone"] == "138****8000"
    assert reveal(client, headers, "motorcycle", "渝G20001").get_json()["phone"] == "13800138000"
    assert reveal(client, headers, "motorcycle", "渝G99999").status_code == 404
    assert reveal(client, headers, "motorcycle", "").status_code == 422


def test_every_feature_that_masks_phones_provides_its_case_type(app):
    from vmo.audit import phones

    assert {"company", "fleet_batch", "motorcycle", "priority_booking", "tour_registration"} <= set(phones.case_types(app))


def test_staff_see_a_companys_contact_masked_and_reveal_it_audited(client, factory, headers):
    from tests.helpers_fleet import pending_company

    owner = pending_company(factory, contact_phone="13983000123")
    # Staff see it masked, in the list and one by one (its sign-up answer gave the company its own number).
    assert client.get(f"/api/v1/companies/{owner.id}", headers=headers).get_json()["contact_phone"] == "139****0123"
    [listed] = client.get("/api/v1/companies?status=pending", headers=headers).get_json()
    assert listed["contact_phone"] == "139****0123"
    shown = reveal(client, headers, "company", owner.id)
    assert shown.status_code == 200 and shown.get_json()["phone"] == "13983000123"
    [entry] = client.get("/api/v1/audit?action=phone.reveal", headers=headers).get_json()
    assert (entry["entity"], entry["entity_id"]) == ("company", str(owner.id))
    assert reveal(client, headers, "company", "nope").status_code == 404
    other = factory.staff("officer", office=factory.other_office())
    assert reveal(client, factory.headers(other), "company", owner.id).status_code == 404
