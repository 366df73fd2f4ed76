"""The seed story as the office tells it: 15 new cars, a green channel asked for and opened the next day, moves."""
from sqlalchemy import select

from tests.helpers_fleet import (
    DAY, batch, book, company, day_info, get_batch, inspect, officer, open_day, register, scheduled_batch,
)
from tests.test_fleet_race import _together
from vmo.extensions import db
from vmo.notify.models import OutboxMessage

AFTERNOON = "2026-11-25T15:30:00+08:00"  # the company calls on Wednesday afternoon
TOMORROW = "2026-11-26"


def ask(client, owner, batch_id, wanted=TOMORROW, **body):
    return client.post(f"/api/v1/fleet/batches/{batch_id}/green-channel-request",
                       json={"wanted_date": wanted, **body}, headers=owner.headers)


def grant(client, staff, request_id, date=TOMORROW, arrive_from="12:00", arrive_until="20:00"):
    return client.post(f"/api/v1/green-channel/requests/{request_id}/grant",
                       json={"date": date, "arrive_from": arrive_from, "arrive_until": arrive_until},
                       headers=staff.headers)


def move(client, owner, batch_id, date):
    return client.patch(f"/api/v1/fleet/batches/{batch_id}/appointment", json={"date": date}, headers=owner.headers)


def texts(app, phone, kind="fleet_appointment") -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(OutboxMessage.body).where(OutboxMessage.phone == phone,
                                                                        OutboxMessage.kind == kind)
                                       .order_by(OutboxMessage.id)))


def test_fifteen_cars_book_a_day_opened_for_exactly_fifteen(app, client, factory):
    owner, staff = company(factory, contact_phone="13883000001"), officer(factory)
    day = open_day(client, staff, capacity=15, arrive_from="12:00", arrive_until="20:00", note="绿色通道")
    assert {k: day[k] for k in ("capacity", "booked", "available", "priority_capacity", "priority_available",
                                "arrive_from", "arrive_until")} == {
        "capacity": 15, "booked": 0, "available": 15, "priority_capacity": 10, "priority_available": 10,
        "arrive_from": "12:00", "arrive_until": "20:00"}
    fifteen = batch(client, factory, owner, 15)
    booked = book(client, owner, fifteen["id"])
    assert booked.status_code == 201, booked.get_json()
    body = booked.get_json()
    assert (body["date"], body["vehicles"], body["status"], body["arrive_from"], body["arrive_until"]) == (
        DAY, 15, "booked", "12:00", "20:00")
    after = day_info(client)
    assert (after["booked"], after["available"], after["priority_available"]) == (15, 0, 10)
    [confirmation] = texts(app, "13883000001")
    assert "15辆新车已预约11月27日绿色通道，请于12:00至20:00到" in confirmation
    # Each car is inspected and registered; the batch is done and the company gets one follow-up.
    for vehicle in fifteen["vehicles"]:
        assert inspect(client, staff, vehicle["vin"]).status_code == 201
        assert register(client, staff, vehicle["vin"]).status_code == 201
    done = get_batch(client, owner, fifteen["id"])
    assert done["status"] == "completed" and len({v["plate"] for v in done["vehicles"]}) == 15
    [follow_up] = texts(app, "13883000001", kind="follow_up")
    assert "贵公司15辆新车已全部登记" in follow_up


def test_a_request_in_the_afternoon_is_granted_for_the_next_day(app, client, factory):
    app.config["FROZEN_NOW"] = AFTERNOON
    owner, staff = company(factory, contact_phone="13883000001"), officer(factory)
    fifteen = batch(client, factory, owner, 15)
    asked = ask(client, owner, fifteen["id"], note="公司刚买了15台新车，能预约提前上户吗？")
    assert asked.status_code == 201, asked.get_json()
    request = asked.get_json()
    assert (request["status"], request["wanted_date"], request["vehicles"], request["date"]) == (
        "requested", TOMORROW, 15, None)
    assert ask(client, owner, fifteen["id"]).status_code == 409  # one open request per batch

    listed = client.get("/api/v1/green-channel/requests", headers=staff.headers)
    assert listed.status_code == 200
    assert [(r["id"], r["status"], r["company"]) for r in listed.get_json()] == [
        (request["id"], "requested", "南川区丰昌汽车服务有限公司")]
    # Tomorrow is not open at all: granting opens it for the batch, at noon, with overtime.
    granted = grant(client, staff, request["id"])
    assert granted.status_code == 200, granted.get_json()
    body = granted.get_json()
    assert (body["status"], body["date"], body["arrive_from"], body["arrive_until"]) == (
        "granted", TOMORROW, "12:00", "20:00")
    assert body["appointment_id"] is not None
    day = day_info(client, TOMORROW)
    assert (day["capacity"], day["booked"], day["available"], day["arrive_from"], day["arrive_until"],
            day["priority_capacity"]) == (15, 15, 0, "12:00", "20:00", 10)
    appointment = client.get(f"/api/v1/fleet/batches/{fifteen['id']}/appointment", headers=owner.headers).get_json()
    assert (appointment["date"], appointment["vehicles"], appointment["arrive_from"]) == (TOMORROW, 15, "12:00")
    assert get_batch(client, owner, fifteen["id"])["status"] == "scheduled"
    [text] = texts(app, "13883000001")
    assert "绿色通道已为您开通，15辆新车请于11月26日12:00至20:00到" in text
    # Decided once: a second grant or a decline is a 409.
    assert grant(client, staff, request["id"]).status_code == 409
    declined = client.post(f"/api/v1/green-channel/requests/{request['id']}/decline", json={"reason": "x"},
                           headers=staff.headers)
    assert declined.status_code == 409


def test_granting_raises_an_open_day_that_is_too_small(app, client, factory):
    owner, staff = company(factory), officer(factory)
    open_day(client, staff, capacity=10)
    others = scheduled_batch(client, factory, company(factory), staff, count=8, capacity=10)
    assert others["id"]
    fifteen = batch(client, factory, owner, 15)
    request = ask(client, owner, fifteen["id"], wanted=DAY).get_json()
    assert grant(client, staff, request["id"], date=DAY, arrive_from="08:30", arrive_until="18:00").status_code == 200
    day = day_info(client)
    assert (day["capacity"], day["booked"], day["available"], day["arrive_from"]) == (23, 23, 0, "08:30")


def test_a_declined_request_texts_the_reason_and_books_nothing(app, client, factory):
    owner, staff = company(factory, contact_phone="13883000001"), officer(factory)
    fifteen = batch(client, factory, owner, 15)
    request = ask(client, owner, fifteen["id"]).get_json()
    declined = client.post(f"/api/v1/green-channel/requests/{request['id']}/decline",
                           json={"reason": "当日查验场地检修"}, headers=staff.headers)
    assert declined.status_code == 200, declined.get_json()
    assert (declined.get_json()["status"], declined.get_json()["reason"]) == ("declined", "当日查验场地检修")
    assert get_batch(client, owner, fifteen["id"])["appointment"] is None
    [text] = texts(app, "13883000001")
    assert "11月26日开通绿色通道未能安排，原因：当日查验场地检修" in text
    # Declined, the company may ask again.
    assert ask(client, owner, fifteen["id"], wanted="2026-11-30").status_code == 201


def test_requests_are_checked_and_kept_to_their_office_and_owner(client, factory):
    owner, staff = company(factory), officer(factory)
    mine = batch(client, factory, owner, 2)
    stranger = company(factory)
    assert ask(client, stranger, mine["id"]).status_code == 404
    assert ask(client, owner, mine["id"], wanted="2026-11-24").status_code == 422
    assert client.post(f"/api/v1/fleet/batches/{mine['id']}/green-channel-request", json={},
                       headers=owner.headers).status_code == 422
    request = ask(client, owner, mine["id"]).get_json()
    assert client.get("/api/v1/green-channel/requests", headers=stranger.headers).get_json() == []
    assert grant(client, owner, request["id"]).status_code == 403
    assert grant(client, staff, 9999).status_code == 404
    bad_window = grant(client, staff, request["id"], arrive_from="20:00", arrive_until="12:00")
    assert bad_window.status_code == 422 and "arrive_until" in bad_window.get_json()["errors"]["json"]
    assert grant(client, staff, request["id"], arrive_from="25:00").status_code == 422
    assert client.get("/api/v1/green-channel/requests", headers=staff.headers).get_json()[0]["status"] == "requested"


def test_a_move_to_a_full_day_is_refused_and_the_old_appointment_stays(app, client, factory):
    owner, staff = company(factory), officer(factory)
    mine = scheduled_batch(client, factory, owner, staff, count=5, capacity=10)
    open_day(client, staff, day="2026-11-30", capacity=4)
    refused = move(client, owner, mine["id"], "2026-11-30")
    assert refused.status_code == 409
    assert refused.get_json()["available"] == 4
    appointment = get_batch(client, owner, mine["id"])["appointment"]
    assert (appointment["date"], appointment["status"], appointment["vehicles"]) == (DAY, "booked", 5)
    assert (day_info(client)["booked"], day_info(client, "2026-11-30")["booked"]) == (5, 0)
    assert move(client, owner, mine["id"], "2026-11-28").status_code == 422  # not open
    assert move(client, owner, mine["id"], "2026-11-24").status_code == 422  # past


def test_a_move_takes_the_new_places_then_frees_the_old(app, client, factory):
    owner, staff = company(factory, contact_phone="13883000001"), officer(factory)
    mine = scheduled_batch(client, factory, owner, staff, count=5, capacity=10)
    open_day(client, staff, day="2026-11-30", capacity=5, arrive_from="13:00", arrive_until="19:00")
    moved = move(client, owner, mine["id"], "2026-11-30")
    assert moved.status_code == 200, moved.get_json()
    assert (moved.get_json()["date"], moved.get_json()["arrive_from"]) == ("2026-11-30", "13:00")
    assert (day_info(client)["booked"], day_info(client, "2026-11-30")["booked"]) == (0, 5)
    assert "绿色通道改为11月30日，请于13:00至19:00到" in texts(app, "13883000001")[-1]
    # After an inspection has begun, the batch stays where it is.
    inspect(client, staff, mine["vehicles"][0]["vin"])
    started = move(client, owner, mine["id"], DAY)
    assert started.status_code == 409 and "inspection has started" in started.get_json()["message"]
    assert day_info(client, "2026-11-30")["booked"] == 5


def test_two_moves_racing_for_the_last_places_one_wins(app, client, factory):
    staff = officer(factory)
    open_day(client, staff, day="2026-11-30", capacity=4)
    owners = [company(factory), company(factory)]
    batches = [scheduled_batch(client, factory, o, staff, count=3, capacity=30) for o in owners]
    answers = _together(*[lambda o=o, b=b: move(app.test_client(), o, b["id"], "2026-11-30")
                          for o, b in zip(owners, batches)])
    assert sorted(a.status_code for a in answers) == [200, 409], [a.get_json() for a in answers]
    assert day_info(client, "2026-11-30")["booked"] == 3
    assert day_info(client)["booked"] == 3
    dates = sorted(get_batch(client, o, b["id"])["appointment"]["date"] for o, b in zip(owners, batches))
    assert dates == ["2026-11-27", "2026-11-30"]


def test_the_demo_story_runs_end_to_end_for_the_approved_demo_company(app, client, runner):
    """The README's story on `vmo demo`: 丰昌 (approved) has its request granted, chooses a plate, and its 15
    cars (papers given) are inspected and registered; 金佛山 (pending) submitted, and is refused a day."""
    assert runner.invoke(args=["demo"]).exit_code == 0

    def headers(username):
        answer = client.post("/api/v1/auth/token", json={"username": username, "password": "demo-pass-2026"})
        return {"Authorization": f"Bearer {answer.get_json()['token']}"}

    co, off, waiting = headers("fengchang"), headers("officer"), headers("jinfoshan")
    [request] = client.get("/api/v1/green-channel/requests", headers=off).get_json()
    assert (request["company"], request["vehicles"], request["status"]) == ("重庆市南川区丰昌汽车服务有限公司", 15, "requested")
    granted = client.post(f"/api/v1/green-channel/requests/{request['id']}/grant", headers=off,
                          json={"date": TOMORROW, "arrive_from": "12:00", "arrive_until": "20:00"})
    assert granted.status_code == 200, granted.get_json()
    batch_id = request["batch_id"]
    vins = [v["vin"] for v in client.get(f"/api/v1/fleet/batches/{batch_id}", headers=co).get_json()["vehicles"]]
    choices = client.get(f"/api/v1/fleet/vehicles/{vins[0]}/plate-choices", headers=co).get_json()["choices"]
    reserved = client.post(f"/api/v1/fleet/vehicles/{vins[0]}/plate", json={"plate": choices[3]}, headers=co)
    assert reserved.status_code == 200
    plates = []
    for vin in vins:
        assert client.post(f"/api/v1/fleet/vehicles/{vin}/inspection", json={"result": "pass"},
                           headers=off).status_code == 201
        registered = client.post(f"/api/v1/fleet/vehicles/{vin}/registration", headers=off)
        assert registered.status_code == 201, registered.get_json()
        plates.append(registered.get_json()["plate"])
    assert plates[0] == choices[3] and len(set(plates)) == 15
    assert client.get(f"/api/v1/fleet/batches/{batch_id}", headers=co).get_json()["status"] == "completed"

    [pending] = client.get("/api/v1/fleet/batches", headers=waiting).get_json()
    assert [v["documents_missing"] for v in pending["vehicles"]] == [
        [], ["purchase_tax_number", "insurance_policy", "use_character"]]
    refused = client.post(f"/api/v1/fleet/batches/{pending['id']}/appointment", json={"date": TOMORROW},
                          headers=waiting)
    assert refused.status_code == 403 and refused.get_json()["reason"] == "company_not_approved"
    listed = client.get("/api/v1/companies?status=pending", headers=off).get_json()
    assert [c["username"] for c in listed] == ["jinfoshan"]
