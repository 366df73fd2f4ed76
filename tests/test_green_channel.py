"""Green-channel days and appointments: capacity, whole-batch booking, cancelling, and racing for the last places."""
import threading

import pytest
from sqlalchemy import func, select

from tests.helpers_fleet import (
    DAY, batch, book, company, day_info, get_batch, inspect, officer, open_day, register, scheduled_batch,
)
from vmo.booking.models import Slot
from vmo.extensions import db
from vmo.fleet.models import FleetAppointment, PlatePool
from vmo.greenchannel.models import GreenChannelDay


def cancel(client, owner, batch_id):
    return client.delete(f"/api/v1/fleet/batches/{batch_id}/appointment", headers=owner.headers)


def put_day(client, staff, day, **body):
    return client.put(f"/api/v1/green-channel/days/{day}", json=body, headers=staff.headers)


# ---- days ------------------------------------------------------------------------------

def test_open_then_change_a_day(app, client, factory):
    staff = officer(factory)
    opened = put_day(client, staff, DAY, capacity=30, note="绿色通道")
    assert opened.status_code == 201, opened.get_json()
    body = opened.get_json()
    assert (body["date"], body["capacity"], body["booked"], body["note"]) == (DAY, 30, 0, "绿色通道")
    changed = put_day(client, staff, DAY, capacity=45, note="加班至20:00")
    assert changed.status_code == 200
    assert (changed.get_json()["capacity"], changed.get_json()["note"]) == (45, "加班至20:00")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(GreenChannelDay)) == 1


def test_day_changes_are_audited(client, factory):
    staff = officer(factory)
    put_day(client, staff, DAY, capacity=30)
    put_day(client, staff, DAY, capacity=40)
    entries = client.get("/api/v1/audit?entity=green_channel_day", headers=staff.headers).get_json()
    window = {"arrive_from": "09:00", "arrive_until": "17:00", "note": None}
    assert [(e["action"], e["before"], e["after"]) for e in entries] == [
        # The priority places are the hall's lane's of that date (10 on a working day), whatever the fleet capacity.
        ("green_channel.resize", {**window, "capacity": 30, "priority_capacity": 10},
         {**window, "capacity": 40, "priority_capacity": 10}),
        ("green_channel.open", None, {**window, "capacity": 30, "priority_capacity": 10}),
    ]


def test_today_can_be_opened_but_not_the_past(client, factory):
    staff = officer(factory)
    assert put_day(client, staff, "2026-11-25", capacity=5).status_code == 201
    past = put_day(client, staff, "2026-11-24", capacity=5)
    assert past.status_code == 422
    assert past.get_json()["errors"] == {"path": {"date": ["in the past"]}}


def test_capacity_cannot_fall_below_what_is_booked(client, factory):
    owner, staff = company(factory), officer(factory)
    scheduled_batch(client, factory, owner, staff, 4, capacity=10)
    response = put_day(client, staff, DAY, capacity=3)
    assert response.status_code == 409
    assert response.get_json()["booked"] == 4
    assert day_info(client)["capacity"] == 10
    # Exactly what is booked is fine as far as the booked places go.
    assert put_day(client, staff, DAY, capacity=20).status_code == 200


@pytest.mark.parametrize("body,field", [({"capacity": -1}, "capacity"), ({}, "capacity"),
                                        ({"capacity": "many"}, "capacity")])
def test_bad_capacity_is_422(client, factory, body, field):
    staff = officer(factory)
    response = put_day(client, staff, DAY, **body)
    assert response.status_code == 422
    assert list(response.get_json()["errors"]["json"]) == [field]


@pytest.mark.parametrize("day", ["2026-13-01", "2026-02-30", "tomorrow", "20261127"])
def test_bad_dates_in_the_path_are_404(client, factory, day):
    staff = officer(factory)
    response = put_day(client, staff, day, capacity=5)
    assert response.status_code == 404
    assert response.get_json()["code"] == 404


def test_list_days_with_from_and_to(client, factory):
    staff = officer(factory)
    for day in ("2026-11-26", "2026-11-27", "2026-11-30", "2026-12-01"):
        open_day(client, staff, day, capacity=30)
    days = client.get("/api/v1/green-channel/days?from=2026-11-27&to=2026-11-30").get_json()
    assert [d["date"] for d in days] == ["2026-11-27", "2026-11-30"]
    assert all(d["capacity"] == 30 and d["booked"] == 0 for d in days)
    everything = client.get("/api/v1/green-channel/days")
    assert [d["date"] for d in everything.get_json()] == ["2026-11-26", "2026-11-27", "2026-11-30", "2026-12-01"]
    assert '"total": 4' in everything.headers["X-Pagination"]
    bad = client.get("/api/v1/green-channel/days?from=soon")
    assert bad.status_code == 422 and list(bad.get_json()["errors"]) == ["query"]


def test_days_are_per_office(client, factory):
    staff = officer(factory)
    open_day(client, staff, capacity=30)
    factory.other_office()
    fuling = officer(factory, office="fuling")
    open_day(client, fuling, capacity=7)
    assert day_info(client)["capacity"] == 30
    assert day_info(client, office="fuling")["capacity"] == 7
    mine = client.get(f"/api/v1/green-channel/days?from={DAY}&to={DAY}", headers=fuling.headers).get_json()
    assert [d["capacity"] for d in mine] == [7]
    one = client.get(f"/api/v1/green-channel/days/{DAY}", headers=fuling.headers).get_json()
    assert one["capacity"] == 7
    assert client.get("/api/v1/green-channel/days/2026-11-28").status_code == 404


# ---- appointments ----------------------------------------------------------------------

def test_book_counts_the_whole_batch_at_once(app, client, factory):
    owner, staff = company(factory), officer(factory)
    body = batch(client, factory, owner, 5)
    open_day(client, staff, capacity=30)
    before = day_info(client)
    response = book(client, owner, body["id"])
    assert response.status_code == 201, response.get_json()
    appointment = response.get_json()
    assert (appointment["batch_id"], appointment["date"], appointment["vehicles"], appointment["status"]) == (
        body["id"], DAY, 5, "booked")
    assert appointment["created_at"] == "2026-11-25T10:00:00+08:00" and appointment["cancelled_at"] is None
    after = day_info(client)
    assert after["booked"] == before["booked"] + 5
    assert after["available"] == before["available"] - 5
    current = get_batch(client, owner, body["id"])
    assert current["status"] == "scheduled"
    assert current["appointment"] == appointment
    assert {v["status"] for v in current["vehicles"]} == {"scheduled"}
    shown = client.get(f"/api/v1/fleet/batches/{body['id']}/appointment", headers=owner.headers)
    assert shown.status_code == 200 and shown.get_json() == appointment


def test_not_enough_places_is_409_and_nothing_is_held(app, client, factory):
    owner, staff = company(factory), officer(factory)
    open_day(client, staff, capacity=10)
    available = day_info(client)["available"]
    body = batch(client, factory, owner, available + 1)
    response = book(client, owner, body["id"])
    assert response.status_code == 409
    assert response.get_json()["available"] == available
    assert response.get_json()["message"] == f"{DAY} has fewer than {available + 1} places left for this batch"
    assert day_info(client)["booked"] == 0
    current = get_batch(client, owner, body["id"])
    assert current["status"] == "submitted" and current["appointment"] is None
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FleetAppointment)) == 0
    # An extra shift makes room.
    open_day(client, staff, capacity=40)
    assert book(client, owner, body["id"]).status_code == 201


def test_second_booking_of_a_batch_is_409(client, factory):
    owner, staff = company(factory), officer(factory)
    body = scheduled_batch(client, factory, owner, staff, 2)
    open_day(client, staff, "2026-11-30", capacity=30)
    response = book(client, owner, body["id"], "2026-11-30")
    assert response.status_code == 409
    assert response.get_json()["message"] == f"batch {body['id']} already has an appointment on {DAY}"
    assert day_info(client, "2026-11-30")["booked"] == 0


def test_booking_a_closed_or_past_day_is_422(client, factory):
    owner, staff = company(factory), officer(factory)
    body = batch(client, factory, owner, 1)
    closed = book(client, owner, body["id"], "2026-11-28")
    assert closed.status_code == 422
    assert closed.get_json()["errors"] == {"json": {"date": ["no green-channel day open on this date"]}}
    past = book(client, owner, body["id"], "2026-11-24")
    assert past.status_code == 422
    assert past.get_json()["errors"] == {"json": {"date": ["in the past"]}}
    bad = book(client, owner, body["id"], "next friday")
    assert bad.status_code == 422 and list(bad.get_json()["errors"]["json"]) == ["date"]


def test_cancel_frees_the_capacity_and_allows_a_new_booking(app, client, factory):
    owner, staff = company(factory), officer(factory)
    body = scheduled_batch(client, factory, owner, staff, 4)
    booked = day_info(client)["booked"]
    response = cancel(client, owner, body["id"])
    assert response.status_code == 200
    assert response.get_json()["status"] == "cancelled"
    assert response.get_json()["cancelled_at"] == "2026-11-25T10:00:00+08:00"
    assert day_info(client)["booked"] == booked - 4
    current = get_batch(client, owner, body["id"])
    assert current["status"] == "submitted" and current["appointment"] is None
    assert {v["status"] for v in current["vehicles"]} == {"submitted"}
    assert client.get(f"/api/v1/fleet/batches/{body['id']}/appointment", headers=owner.headers).status_code == 404
    assert cancel(client, owner, body["id"]).status_code == 404
    assert book(client, owner, body["id"]).status_code == 201
    assert day_info(client)["booked"] == booked
    entries = client.get("/api/v1/audit?action=fleet.cancel", headers=staff.headers).get_json()
    assert entries[0]["before"] == {"status": "scheduled", "date": DAY, "vehicles": 4}
    assert entries[0]["after"] == {"status": "submitted"}


def test_cancel_after_inspection_started_is_409(client, factory):
    owner, staff = company(factory), officer(factory)
    body = scheduled_batch(client, factory, owner, staff, 2)
    inspect(client, staff, body["vehicles"][0]["vin"], "fail", ["后视镜缺失"])
    booked = day_info(client)["booked"]
    response = cancel(client, owner, body["id"])
    assert response.status_code == 409
    assert day_info(client)["booked"] == booked
    assert get_batch(client, owner, body["id"])["appointment"]["status"] == "booked"


def test_cancel_without_an_appointment_is_404(client, factory):
    owner = company(factory)
    body = batch(client, factory, owner, 1)
    response = cancel(client, owner, body["id"])
    assert response.status_code == 404
    assert response.get_json()["message"] == f"batch {body['id']} has no appointment"


# ---- racing ----------------------------------------------------------------------------

def race(app, requests):
    """Run each (method, path, json, headers) at once, each thread with its own test client."""
    barrier = threading.Barrier(len(requests))
    results = [None] * len(requests)

    def run(index, method, path, body, headers):
        client = app.test_client()
        barrier.wait()
        response = client.open(path, method=method, json=body, headers=headers)
        results[index] = (response.status_code, response.get_json())

    threads = [threading.Thread(target=run, args=(i, *r)) for i, r in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert all(r is not None for r in results), results
    return results


def test_companies_racing_for_the_last_places_never_overbook(app, client, factory):
    staff = officer(factory)
    open_day(client, staff, capacity=10)
    available = day_info(client)["available"]
    owners = [company(factory) for _ in range(8)]
    batches = [batch(client, factory, owner, 3) for owner in owners]
    results = race(app, [("POST", f"/api/v1/fleet/batches/{b['id']}/appointment", {"date": DAY}, o.headers)
                         for b, o in zip(batches, owners)])
    codes = sorted(code for code, _ in results)
    winners = available // 3
    assert codes == [201] * winners + [409] * (8 - winners), results
    assert winners == 3
    assert all(body["available"] < 3 for code, body in results if code == 409)
    info = day_info(client)
    assert info["booked"] == 3 * winners
    with app.app_context():
        held = db.session.scalar(select(func.sum(FleetAppointment.units)).where(FleetAppointment.status == "booked"))
        slot_booked = db.session.scalar(select(Slot.booked).join(GreenChannelDay, GreenChannelDay.slot_id == Slot.id))
    assert held == slot_booked == 3 * winners


def test_one_batch_booked_twice_at_once_holds_its_places_once(app, client, factory):
    owner, staff = company(factory), officer(factory)
    open_day(client, staff, capacity=30)
    body = batch(client, factory, owner, 4)
    path = f"/api/v1/fleet/batches/{body['id']}/appointment"
    results = race(app, [("POST", path, {"date": DAY}, owner.headers)] * 4)
    assert sorted(code for code, _ in results) == [201, 409, 409, 409], results
    assert day_info(client)["booked"] == 4


@pytest.mark.parametrize("app_config", [{"PLATE_POOL_TOPUP": 2}])
def test_officers_registering_at_once_never_get_the_same_plate(app, client, factory, app_config):
    owner = company(factory)
    officers = [officer(factory) for _ in range(2)]
    body = scheduled_batch(client, factory, owner, officers[0], 8)
    vins = [v["vin"] for v in body["vehicles"]]
    for vin in vins:
        assert inspect(client, officers[0], vin).status_code == 201
    results = race(app, [("POST", f"/api/v1/fleet/vehicles/{vin}/registration", None, officers[i % 2].headers)
                         for i, vin in enumerate(vins)])
    assert [code for code, _ in results] == [201] * 8, results
    plates = [data["plate"] for _, data in results]
    assert len(set(plates)) == 8
    assert get_batch(client, owner, body["id"])["status"] == "completed"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PlatePool)
                                 .where(PlatePool.vehicle_id.is_not(None))) == 8


def test_same_vehicle_registered_twice_at_once_gets_one_plate(app, client, factory):
    owner = company(factory)
    officers = [officer(factory) for _ in range(3)]
    vin = scheduled_batch(client, factory, owner, officers[0], 1)["vehicles"][0]["vin"]
    inspect(client, officers[0], vin)
    results = race(app, [("POST", f"/api/v1/fleet/vehicles/{vin}/registration", None, o.headers) for o in officers])
    assert sorted(code for code, _ in results) == [201, 409, 409], results
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PlatePool)
                                 .where(PlatePool.vehicle_id.is_not(None))) == 1
    assert register(client, officers[0], vin).status_code == 409


def test_fleet_and_priority_meet_only_in_the_green_channel():
    """The green channel has its own package; fleet and priority depend on it, not on each other, so
    either can change without the other."""
    from tests.test_layering import ROOT, imported_modules

    def imports(package):
        return {name for path in (ROOT / "vmo" / package).rglob("*.py") for name in imported_modules(path)}

    assert not {n for n in imports("fleet") if n.startswith("vmo.priority")}
    assert not {n for n in imports("priority") if n.startswith("vmo.fleet")}
    assert not {n for n in imports("greenchannel") if n.startswith(("vmo.fleet", "vmo.priority"))}
