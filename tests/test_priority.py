"""The priority green channel: a kept share of each day for pregnant, elderly (70+) and disabled people."""
from datetime import date

import pytest

from tests.helpers_fleet import DAY, batch, book, company, day_info, officer, open_day
from vmo import validators


def id_number(birth: date, female: bool = True, seq: int = 0) -> str:
    first17 = "500119" + birth.strftime("%Y%m%d") + f"{seq:02d}" + ("2" if female else "1")
    return first17 + validators.resident_id_check_char(first17)


def person(reason="disabled", birth=date(1985, 3, 15), female=True, seq=0, day=DAY, **extra):
    return {"name": "张桂英", "id_number": id_number(birth, female, seq), "phone": "13983000002",
            "reason": reason, "date": day, **extra}


def book_priority(client, body, **headers):
    return client.post("/api/v1/green-channel/priority-bookings", json=body, headers=headers)


@pytest.fixture
def staff(factory):
    return officer(factory, username="desk")


@pytest.mark.parametrize("capacity,kept", [(30, 3), (5, 1), (1, 1), (11, 2), (0, 0)])
def test_the_day_keeps_a_rounded_up_share_of_at_least_one(client, factory, staff, capacity, kept):
    body = open_day(client, staff, capacity=capacity)
    assert {k: body[k] for k in ("capacity", "booked", "available", "priority_capacity", "priority_available")} == \
        {"capacity": capacity, "booked": 0, "available": capacity - kept, "priority_capacity": kept,
         "priority_available": kept}


def test_elderly_is_read_from_the_id_number_on_the_day(client, factory, staff):
    open_day(client, staff, capacity=30)
    seventy_on_the_day = person("elderly", birth=date(1956, 11, 27))
    response = book_priority(client, seventy_on_the_day)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert {k: body[k] for k in ("date", "name", "reason", "status", "id_number")} == {
        "date": DAY, "name": "张桂英", "reason": "elderly", "status": "booked",
        "id_number": seventy_on_the_day["id_number"][:6] + "********" + seventy_on_the_day["id_number"][-4:]}
    assert body["reference"].startswith("P") and len(body["reference"]) == 8

    sixty_nine = book_priority(client, person("elderly", birth=date(1956, 11, 28), seq=1))
    assert sixty_nine.status_code == 422
    assert sixty_nine.get_json()["errors"] == {"json": {"reason": [
        "the ID number gives age 69 on 2026-11-27; the elderly priority is from 70"]}}
    assert day_info(client)["priority_available"] == 2


def test_pregnancy_needs_a_womans_id_and_disability_is_checked_at_the_counter(client, factory, staff):
    open_day(client, staff, capacity=30)
    man = book_priority(client, person("pregnant", female=False))
    assert man.status_code == 422 and "reason" in man.get_json()["errors"]["json"]
    assert book_priority(client, person("pregnant", seq=1)).status_code == 201
    disabled = book_priority(client, person("disabled", female=False, seq=2, certificate_number="50011919850315001X11"))
    assert disabled.status_code == 201


def test_the_share_exhausted_is_409_and_nothing_is_booked(app, client, factory, staff):
    open_day(client, staff, capacity=10)  # one place kept
    assert book_priority(client, person(seq=1)).status_code == 201
    full = book_priority(client, person(seq=2))
    assert full.status_code == 409
    assert full.get_json()["available"] == 0
    assert "priority places of 2026-11-27 are all booked" in full.get_json()["message"]
    info = day_info(client)
    assert (info["booked"], info["priority_available"], info["available"]) == (1, 0, 9)


def test_ordinary_bookings_cannot_take_the_priority_share(client, factory, staff):
    open_day(client, staff, capacity=10)
    owner = company(factory)
    ten = batch(client, factory, owner, 10)
    refused = book(client, owner, ten["id"])
    assert refused.status_code == 409
    assert refused.get_json()["available"] == 9
    nine = batch(client, factory, owner, 9)
    assert book(client, owner, nine["id"]).status_code == 201
    info = day_info(client)
    assert (info["capacity"], info["booked"], info["available"], info["priority_available"]) == (10, 9, 0, 1)
    # The kept place is still there for a priority booking.
    assert book_priority(client, person()).status_code == 201
    assert day_info(client)["booked"] == 10


def test_priority_bookings_are_served_first_in_the_days_list(client, factory, staff):
    open_day(client, staff, capacity=20)  # two kept
    owner = company(factory)
    first_batch = batch(client, factory, owner, 3)
    assert book(client, owner, first_batch["id"]).status_code == 201
    late = book_priority(client, person("elderly", birth=date(1950, 1, 2), seq=1, business="机动车转移登记")).get_json()
    queue = client.get(f"/api/v1/green-channel/days/{DAY}/queue", headers=staff.headers)
    assert queue.status_code == 200, queue.get_json()
    body = queue.get_json()
    assert (body["date"], body["capacity"], body["priority_capacity"]) == (DAY, 20, 2)
    assert [(e["position"], e["kind"], e["name"], e["vehicles"]) for e in body["entries"]] == [
        (1, "priority", "张桂英", 1), (2, "fleet", "南川区丰昌汽车服务有限公司", 3)]
    assert (body["entries"][0]["reference"], body["entries"][0]["reason"], body["entries"][0]["business"]) == \
        (late["reference"], "elderly", "机动车转移登记")
    assert body["entries"][1]["batch_id"] == first_batch["id"]
    assert client.get(f"/api/v1/green-channel/days/{DAY}/queue").status_code == 401
    assert client.get(f"/api/v1/green-channel/days/{DAY}/queue", headers=owner.headers).status_code == 403
    assert client.get("/api/v1/green-channel/days/2026-11-30/queue", headers=staff.headers).status_code == 404


def test_one_person_one_booking_per_day_and_cancel_frees_the_place(app, client, factory, staff):
    open_day(client, staff, capacity=20)
    first = book_priority(client, person()).get_json()
    again = book_priority(client, person())
    assert again.status_code == 409 and "already has a priority booking" in again.get_json()["message"]
    looked_up = client.get(f"/api/v1/green-channel/priority-bookings/{first['reference']}")
    assert looked_up.status_code == 200 and looked_up.get_json() == first
    cancelled = client.delete(f"/api/v1/green-channel/priority-bookings/{first['reference']}")
    assert (cancelled.status_code, cancelled.get_json()["status"]) == (200, "cancelled")
    assert client.delete(f"/api/v1/green-channel/priority-bookings/{first['reference']}").status_code == 409
    assert client.get("/api/v1/green-channel/priority-bookings/PXXXXXXX").status_code == 404
    assert day_info(client)["priority_available"] == 2
    assert book_priority(client, person()).status_code == 201  # may book again after cancelling


@pytest.mark.parametrize("change,field", [
    ({"date": "2026-11-24"}, "date"),               # past
    ({"date": "2026-11-28"}, "date"),               # not open
    ({"id_number": "500119198503150020"}, "id_number"),  # bad check character
    ({"phone": "023-71400000"}, "phone"),
    ({"reason": "vip"}, "reason"),
    ({"name": ""}, "name"),
])
def test_bad_requests_are_422_and_book_nothing(client, factory, staff, change, field):
    open_day(client, staff, capacity=20)
    response = book_priority(client, {**person(), **change})
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]["json"]
    assert day_info(client)["priority_available"] == 2


def test_resizing_keeps_the_share_and_the_bookings(client, factory, staff):
    open_day(client, staff, capacity=10)
    assert book_priority(client, person()).status_code == 201
    grown = open_day(client, staff, capacity=25)
    assert (grown["capacity"], grown["priority_capacity"], grown["available"], grown["priority_available"]) == \
        (25, 3, 22, 2)
    owner = company(factory)
    twenty = batch(client, factory, owner, 20)
    assert book(client, owner, twenty["id"]).status_code == 201
    # 20 ordinary + 1 priority booked: 22 would keep 3 for priority and leave only 19 ordinary places.
    refused = client.put(f"/api/v1/green-channel/days/{DAY}", json={"capacity": 22}, headers=staff.headers)
    assert refused.status_code == 409
    assert refused.get_json()["booked"] == 21
    assert day_info(client)["capacity"] == 25


def test_a_booking_queues_a_confirmation_text(app, client, factory, staff):
    open_day(client, staff, capacity=20)
    reference = book_priority(client, person()).get_json()["reference"]
    outbox = client.get("/api/v1/sms/outbox", headers=staff.headers, query_string={"kind": "priority_booking"})
    messages = outbox.get_json()
    assert len(messages) == 1
    # Staff see the number and the reference masked (PIPL; the reference looks up and cancels the booking).
    assert messages[0]["phone"] == "139****0002" and reference not in messages[0]["body"]
    assert messages[0]["status"] == "pending"


def test_the_share_is_configurable(app, client, factory, staff):
    app.config["PRIORITY_SHARE"] = 0
    body = open_day(client, staff, capacity=10)
    assert (body["available"], body["priority_capacity"]) == (10, 0)
    refused = book_priority(client, person())
    assert refused.status_code == 409
