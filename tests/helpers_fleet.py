"""Factories for fleet tests: a company with a batch, an officer, an open green-channel day."""
import re
from types import SimpleNamespace

DAY = "2026-11-27"  # the Friday after the frozen "now" (Wednesday 2026-11-25)
ORDINARY_PLATE = re.compile(r"^渝G[0-9A-HJ-NP-Z]{5}$")
NEW_ENERGY_PLATE = re.compile(r"^渝G[DF][0-9A-HJ-NP-Z][0-9]{4}$")


def company(factory, **kw) -> SimpleNamespace:
    """A signed-up company and its auth headers."""
    data = factory.company(**kw)
    return SimpleNamespace(**data, headers=factory.headers(data["username"]))


def officer(factory, office=None, **kw) -> SimpleNamespace:
    user = factory.staff("officer", office=office, **kw)
    return SimpleNamespace(**vars(user), headers=factory.headers(user))


def submit(client, headers, vehicles, note=None, **extra_headers):
    body = {"vehicles": vehicles}
    if note is not None:
        body["note"] = note
    return client.post("/api/v1/fleet/batches", json=body, headers={**headers, **extra_headers})


def batch(client, factory, owner, count=3, fuel_type="petrol") -> dict:
    """A submitted batch of `count` vehicles (JSON) for `owner`."""
    response = submit(client, owner.headers, factory.vehicles(count, fuel_type=fuel_type))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def open_day(client, staff, day=DAY, capacity=30, **body):
    response = client.put(f"/api/v1/green-channel/days/{day}", json={"capacity": capacity, **body},
                          headers=staff.headers)
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


def day_info(client, day=DAY, office=None) -> dict:
    query = f"?from={day}&to={day}" + (f"&office={office}" if office else "")
    days = client.get(f"/api/v1/green-channel/days{query}").get_json()
    assert len(days) == 1, days
    return days[0]


def book(client, owner, batch_id, day=DAY):
    return client.post(f"/api/v1/fleet/batches/{batch_id}/appointment", json={"date": day}, headers=owner.headers)


def inspect(client, staff, vin, result="pass", defects=None):
    body = {"result": result}
    if defects is not None:
        body["defects"] = defects
    return client.post(f"/api/v1/fleet/vehicles/{vin}/inspection", json=body, headers=staff.headers)


def register(client, staff, vin):
    return client.post(f"/api/v1/fleet/vehicles/{vin}/registration", headers=staff.headers)


def scheduled_batch(client, factory, owner, staff, count=3, fuel_type="petrol", capacity=30) -> dict:
    """A batch booked on DAY (opening the day if needed)."""
    data = batch(client, factory, owner, count, fuel_type)
    open_day(client, staff, capacity=capacity)
    response = book(client, owner, data["id"])
    assert response.status_code == 201, response.get_json()
    return data


def get_batch(client, owner, batch_id) -> dict:
    response = client.get(f"/api/v1/fleet/batches/{batch_id}", headers=owner.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def pending_company(factory, **kw) -> SimpleNamespace:
    """A company just signed up: the office has not checked its business licence yet."""
    return company(factory, approved=False, **kw)


def texts_to(app, phone) -> list[str]:
    """The texts queued for `phone`, oldest first, signed as the phone will show them."""
    from sqlalchemy import select

    from vmo.extensions import db
    from vmo.notify.models import OutboxMessage

    with app.app_context():
        return list(db.session.scalars(select(OutboxMessage.body).where(OutboxMessage.phone == phone)
                                       .order_by(OutboxMessage.id)))


def completed_batch(client, factory, owner, staff, count=1) -> dict:
    """A batch whose every vehicle is inspected and registered: the batch is completed."""
    data = scheduled_batch(client, factory, owner, staff, count)
    for vehicle in data["vehicles"]:
        assert inspect(client, staff, vehicle["vin"]).status_code == 201
        response = register(client, staff, vehicle["vin"])
        assert response.status_code == 201, response.get_json()
    final = get_batch(client, owner, data["id"])
    assert final["status"] == "completed"
    return final
