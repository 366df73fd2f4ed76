"""The role and ownership matrix: every fleet endpoint called by each role, another company and another office."""
import pytest

from tests.helpers_fleet import DAY, batch, company, inspect, officer, open_day
from tests.conftest import PASSWORD


@pytest.fixture
def world(app, client, factory):
    """The owner company with a batch (one vehicle inspected), and every kind of caller."""
    from types import SimpleNamespace

    owner, staff = company(factory), officer(factory)
    open_day(client, staff, capacity=30)
    booked = batch(client, factory, owner, 2)
    assert client.post(f"/api/v1/fleet/batches/{booked['id']}/appointment", json={"date": DAY},
                       headers=owner.headers).status_code == 201
    assert inspect(client, staff, booked["vehicles"][0]["vin"]).status_code == 201
    plain = batch(client, factory, owner, 1)
    factory.other_office()
    callers = {
        "owner": owner.headers,
        "other_company": company(factory).headers,
        "candidate": factory.headers(factory.candidate()["username"]),
        "officer": staff.headers,
        "supervisor": factory.headers(factory.staff("supervisor")),
        "admin": factory.headers(factory.staff("admin")),
        "other_office_officer": officer(factory, office="fuling").headers,
        "anonymous": {},
    }
    return SimpleNamespace(callers=callers, booked=booked, plain=plain,
                           inspected_vin=booked["vehicles"][0]["vin"], scheduled_vin=booked["vehicles"][1]["vin"],
                           vehicles=factory.vehicles(1))


def endpoints(w):
    """(name, method, path, body) for every fleet endpoint, aimed at the owner's objects."""
    return {
        "list": ("GET", "/api/v1/fleet/batches", None),
        "submit": ("POST", "/api/v1/fleet/batches", {"vehicles": w.vehicles}),
        "get_batch": ("GET", f"/api/v1/fleet/batches/{w.booked['id']}", None),
        "get_appointment": ("GET", f"/api/v1/fleet/batches/{w.booked['id']}/appointment", None),
        "book": ("POST", f"/api/v1/fleet/batches/{w.plain['id']}/appointment", {"date": DAY}),
        "cancel": ("DELETE", f"/api/v1/fleet/batches/{w.plain['id']}/appointment", None),
        "get_vehicle": ("GET", f"/api/v1/fleet/vehicles/{w.scheduled_vin}", None),
        "inspect": ("POST", f"/api/v1/fleet/vehicles/{w.scheduled_vin}/inspection", {"result": "pass"}),
        "register": ("POST", f"/api/v1/fleet/vehicles/{w.inspected_vin}/registration", None),
        "open_day": ("PUT", "/api/v1/green-channel/days/2026-12-01", {"capacity": 5}),
        "list_days": ("GET", "/api/v1/green-channel/days", None),
        "audit": ("GET", "/api/v1/audit", None),
    }


# Expected status per caller; the owner's successful calls are in the other test modules.
OK = {"list": 200, "submit": 201, "get_batch": 200, "get_appointment": 200, "book": 201, "cancel": 404,
      "get_vehicle": 200, "inspect": 201, "register": 201, "open_day": 201, "list_days": 200, "audit": 200}
MATRIX = {
    "owner": {**OK, "cancel": 200, "inspect": 403, "register": 403, "open_day": 403, "audit": 403},
    # Another company: its own list works, the owner's objects do not exist for it.
    "other_company": {**OK, "get_batch": 404, "get_appointment": 404, "book": 404, "cancel": 404,
                      "get_vehicle": 404, "inspect": 403, "register": 403, "open_day": 403, "audit": 403},
    "candidate": {**{k: 403 for k in OK}, "list_days": 200},
    "officer": {**OK, "submit": 403, "book": 403, "cancel": 403},
    "supervisor": {**OK, "submit": 403, "book": 403, "cancel": 403, "inspect": 403, "register": 403,
                   "open_day": 403},
    "admin": {**OK, "submit": 403, "book": 403, "cancel": 403, "inspect": 403, "register": 403, "open_day": 403},
    # Staff of another office: the Nanchuan objects do not exist for them.
    "other_office_officer": {**OK, "submit": 403, "book": 403, "cancel": 403, "get_batch": 404,
                             "get_appointment": 404, "get_vehicle": 404, "inspect": 404, "register": 404},
    "anonymous": {**{k: 401 for k in OK}, "list_days": 200},
}


@pytest.mark.parametrize("caller", list(MATRIX))
def test_every_fleet_endpoint_for_every_caller(client, world, caller):
    headers = world.callers[caller]
    got = {}
    for name, (method, path, body) in endpoints(world).items():
        response = client.open(path, method=method, json=body, headers=headers)
        got[name] = response.status_code
        if response.status_code >= 400:
            error = response.get_json()
            assert error["code"] == response.status_code and error["message"], (name, error)
    assert got == MATRIX[caller]


def test_a_foreign_batch_answers_exactly_like_a_missing_one(client, world):
    headers = world.callers["other_company"]
    foreign = client.get(f"/api/v1/fleet/batches/{world.booked['id']}", headers=headers).get_json()
    missing = client.get("/api/v1/fleet/batches/99999", headers=headers).get_json()
    assert foreign["message"] == f"no batch {world.booked['id']}"
    assert missing["message"] == "no batch 99999"
    assert set(foreign) == set(missing) == {"code", "status", "message", "request_id"}


def test_another_company_lists_only_its_own(client, world):
    assert client.get("/api/v1/fleet/batches", headers=world.callers["other_company"]).get_json() == []


def test_other_office_staff_see_none_of_this_office(client, world):
    listing = client.get("/api/v1/fleet/batches", headers=world.callers["other_office_officer"])
    assert listing.get_json() == []


def test_a_company_without_profile_cannot_submit(app, client, factory):
    # A company-role account whose company row is missing (e.g. deleted): 404, not a 500.
    from sqlalchemy import delete

    from vmo.accounts.models import Company
    from vmo.extensions import db

    owner = company(factory)
    with app.app_context():
        db.session.execute(delete(Company).where(Company.id == owner.id))
        db.session.commit()
    response = client.post("/api/v1/fleet/batches", json={"vehicles": factory.vehicles(1)}, headers=owner.headers)
    assert response.status_code == 404
    assert client.get("/api/v1/auth/token").status_code == 405
    assert client.post("/api/v1/auth/token", json={"username": owner.username, "password": PASSWORD}).status_code == 200
