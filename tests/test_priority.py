"""The priority green channel: places kept apart for pregnant, elderly (60+) and disabled people."""
from datetime import date

import pytest

from tests.helpers_fleet import DAY, batch, book, company, day_info, officer, open_day
from tests.helpers_world import priority_reference
from vmo import settings, validators


def id_number(birth: date, female: bool = True, seq: int = 0) -> str:
    first17 = "500119" + birth.strftime("%Y%m%d") + f"{seq:02d}" + ("2" if female else "1")
    return first17 + validators.resident_id_check_char(first17)


def person(reason="disabled", birth=date(1985, 3, 15), female=True, seq=0, day=DAY, **extra):
    return {"name": "张桂英", "id_number": id_number(birth, female, seq), "phone": "13983000002",
            "reason": reason, "date": day, **extra}


def book_priority(client, body, **headers):
    return client.post("/api/v1/green-channel/priority-bookings", json=body, headers=headers)


def receipt(body) -> dict:
    """The answer to every accepted booking: nothing in it says whether the ID number had one already."""
    return {"status": "received", "date": body["date"], "reason": body["reason"], "phone": "139****0002",
            "message": "预约结果已发送至尾号0002的手机，请凭短信中的预约号查询或取消。"}


def texts_to(app, phone="13983000002") -> list[str]:
    """What the phone receives (the staff outbox masks numbers and references, so read the table)."""
    from sqlalchemy import select

    from vmo.extensions import db
    from vmo.notify.models import OutboxMessage

    with app.app_context():
        return list(db.session.scalars(select(OutboxMessage.body).where(OutboxMessage.phone == phone,
                                                                        OutboxMessage.kind == "priority_booking")
                                       .order_by(OutboxMessage.id)))


@pytest.fixture
def staff(factory):
    return officer(factory, username="desk")


@pytest.mark.parametrize("capacity,kept", [(30, 3), (5, 1), (1, 1), (11, 2), (15, 2), (0, 0)])
def test_priority_places_come_on_top_of_the_fleet_capacity(client, factory, staff, capacity, kept):
    body = open_day(client, staff, capacity=capacity)
    assert {k: body[k] for k in ("capacity", "booked", "available", "priority_capacity", "priority_available")} == \
        {"capacity": capacity, "booked": 0, "available": capacity, "priority_capacity": kept,
         "priority_available": kept}


def test_the_officer_may_set_the_priority_places(client, factory, staff):
    body = open_day(client, staff, capacity=15, priority_capacity=5)
    assert (body["capacity"], body["available"], body["priority_capacity"], body["priority_available"]) == (15, 15, 5, 5)
    assert book_priority(client, person()).status_code == 201
    lowered = client.put(f"/api/v1/green-channel/days/{DAY}", json={"capacity": 15, "priority_capacity": 0},
                         headers=staff.headers)
    assert lowered.status_code == 409
    assert lowered.get_json()["errors"] == {"json": {"priority_capacity": ["1 places are already booked"]}}
    assert day_info(client)["priority_capacity"] == 5


def test_elderly_is_read_from_the_id_number_on_the_day_from_60(app, client, factory, staff):
    """老年人权益保障法 art. 2: the elderly are citizens aged 60 and over."""
    open_day(client, staff, capacity=30)
    sixty_on_the_day = person("elderly", birth=date(1966, 11, 27))
    response = book_priority(client, sixty_on_the_day)
    assert response.status_code == 201, response.get_json()
    assert response.get_json() == receipt(sixty_on_the_day)
    reference = priority_reference(app, sixty_on_the_day["id_number"])
    assert reference.startswith("P") and len(reference) == 8
    booked = client.get(f"/api/v1/green-channel/priority-bookings/{reference}").get_json()
    assert {k: booked[k] for k in ("date", "name", "reason", "status", "id_number")} == {
        "date": DAY, "name": "张桂英", "reason": "elderly", "status": "booked",
        "id_number": sixty_on_the_day["id_number"][:6] + "********" + sixty_on_the_day["id_number"][-4:]}

    fifty_nine = book_priority(client, person("elderly", birth=date(1966, 11, 28), seq=1))
    assert fifty_nine.status_code == 422
    assert fifty_nine.get_json()["errors"] == {"json": {"reason": [
        "the ID number gives age 59 on 2026-11-27; the elderly priority is from 60"]}}
    assert day_info(client)["priority_available"] == 2


def test_the_elderly_age_is_a_setting(app, client, factory, staff):
    app.config["PRIORITY_ELDERLY_AGE"] = 70
    settings.reload(app)  # as a restart with the new setting would
    open_day(client, staff, capacity=30)
    refused = book_priority(client, person("elderly", birth=date(1956, 11, 28)))
    assert refused.status_code == 422 and "from 70" in refused.get_json()["errors"]["json"]["reason"][0]


def test_pregnancy_needs_a_womans_id_and_disability_is_checked_at_the_counter(client, factory, staff):
    open_day(client, staff, capacity=30)
    man = book_priority(client, person("pregnant", female=False))
    assert man.status_code == 422 and "reason" in man.get_json()["errors"]["json"]
    assert book_priority(client, person("pregnant", seq=1)).status_code == 201
    disabled = book_priority(client, person("disabled", female=False, seq=2, certificate_number="50011919850315001X11"))
    assert disabled.status_code == 201


def test_the_priority_places_exhausted_is_409_and_nothing_is_booked(app, client, factory, staff):
    open_day(client, staff, capacity=10)  # one place kept
    assert book_priority(client, person(seq=1)).status_code == 201
    full = book_priority(client, person(seq=2))
    assert full.status_code == 409
    assert full.get_json()["available"] == 0
    assert "priority places of 2026-11-27 are all booked" in full.get_json()["message"]
    # A full day answers the same for an ID number that already booked: nothing told about it.
    again = book_priority(client, person(seq=1))
    assert (again.status_code, again.get_json()["message"]) == (409, full.get_json()["message"])
    info = day_info(client)
    assert (info["booked"], info["priority_available"], info["available"]) == (0, 0, 10)


def test_neither_number_eats_the_other(client, factory, staff):
    open_day(client, staff, capacity=10)
    owner = company(factory)
    ten = batch(client, factory, owner, 10)
    assert book(client, owner, ten["id"]).status_code == 201
    info = day_info(client)
    assert (info["capacity"], info["booked"], info["available"], info["priority_available"]) == (10, 10, 0, 1)
    one_more = batch(client, factory, owner, 1)
    refused = book(client, owner, one_more["id"])
    assert (refused.status_code, refused.get_json()["available"]) == (409, 0)
    # The kept place is still there for a priority booking.
    assert book_priority(client, person()).status_code == 201
    assert day_info(client)["priority_available"] == 0


def test_priority_bookings_are_served_first_in_the_days_list(app, client, factory, staff):
    open_day(client, staff, capacity=20, arrive_from="12:00", arrive_until="20:00")  # two kept
    owner = company(factory)
    first_batch = batch(client, factory, owner, 3)
    assert book(client, owner, first_batch["id"]).status_code == 201
    late = person("elderly", birth=date(1950, 1, 2), seq=1, business="机动车转移登记")
    assert book_priority(client, late).status_code == 201
    queue = client.get(f"/api/v1/green-channel/days/{DAY}/queue", headers=staff.headers)
    assert queue.status_code == 200, queue.get_json()
    body = queue.get_json()
    assert (body["date"], body["capacity"], body["priority_capacity"], body["arrive_from"], body["arrive_until"]) \
        == (DAY, 20, 2, "12:00", "20:00")
    assert [(e["position"], e["kind"], e["name"], e["vehicles"]) for e in body["entries"]] == [
        (1, "priority", "张桂英", 1), (2, "fleet", "南川区丰昌汽车服务有限公司", 3)]
    assert (body["entries"][0]["reference"], body["entries"][0]["reason"], body["entries"][0]["business"]) == \
        (priority_reference(app, late["id_number"]), "elderly", "机动车转移登记")
    assert body["entries"][1]["batch_id"] == first_batch["id"]
    assert client.get(f"/api/v1/green-channel/days/{DAY}/queue").status_code == 401
    assert client.get(f"/api/v1/green-channel/days/{DAY}/queue", headers=owner.headers).status_code == 403
    assert client.get("/api/v1/green-channel/days/2026-11-30/queue", headers=staff.headers).status_code == 404


def test_a_taken_id_number_answers_exactly_like_a_fresh_one(app, client, factory, staff):
    """The answer never confirms that a stranger's ID number has a booking."""
    open_day(client, staff, capacity=20, priority_capacity=5)
    owner_body = person()
    first = book_priority(client, owner_body)
    stranger_body = {**owner_body, "name": "王某", "phone": "13983000002"}
    again = book_priority(client, stranger_body)
    fresh = book_priority(client, person(seq=5))
    assert first.status_code == again.status_code == fresh.status_code == 201
    assert first.get_json() == again.get_json() == fresh.get_json() == receipt(owner_body)
    # Only one place is taken for the ID number; its phone (not the caller) is told of the attempt.
    assert day_info(client)["priority_available"] == 3
    reference = priority_reference(app, owner_body["id_number"])
    bodies = texts_to(app)
    assert sum(reference in b and "再次预约" in b for b in bodies) == 1
    # A stranger giving another phone gets the same answer shape, and nothing reaches that phone.
    other_phone = book_priority(client, {**owner_body, "phone": "13983000009"})
    assert other_phone.status_code == 201
    assert other_phone.get_json() == {**receipt(owner_body), "phone": "139****0009",
                                      "message": "预约结果已发送至尾号0009的手机，请凭短信中的预约号查询或取消。"}
    assert texts_to(app, "13983000009") == []


def test_cancel_by_reference_frees_the_place(app, client, factory, staff):
    open_day(client, staff, capacity=20)
    assert book_priority(client, person()).status_code == 201
    reference = priority_reference(app, person()["id_number"])
    looked_up = client.get(f"/api/v1/green-channel/priority-bookings/{reference}")
    assert looked_up.status_code == 200 and looked_up.get_json()["reference"] == reference
    cancelled = client.delete(f"/api/v1/green-channel/priority-bookings/{reference}")
    assert (cancelled.status_code, cancelled.get_json()["status"]) == (200, "cancelled")
    assert client.delete(f"/api/v1/green-channel/priority-bookings/{reference}").status_code == 409
    assert client.get("/api/v1/green-channel/priority-bookings/PXXXXXXX").status_code == 404
    assert day_info(client)["priority_available"] == 2
    assert book_priority(client, person()).status_code == 201  # may book again after cancelling
    assert priority_reference(app, person()["id_number"]) != reference


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
        (25, 3, 25, 2)
    owner = company(factory)
    twenty = batch(client, factory, owner, 20)
    assert book(client, owner, twenty["id"]).status_code == 201
    refused = client.put(f"/api/v1/green-channel/days/{DAY}", json={"capacity": 19}, headers=staff.headers)
    assert refused.status_code == 409
    assert refused.get_json()["booked"] == 20
    assert day_info(client)["capacity"] == 25
    # Shrinking to what is booked keeps the one priority booking's place even below the share.
    shrunk = open_day(client, staff, capacity=20)
    assert (shrunk["capacity"], shrunk["available"], shrunk["priority_capacity"]) == (20, 0, 2)


def test_a_booking_texts_the_reference_and_the_arrival_window(app, client, factory, staff):
    open_day(client, staff, capacity=20, arrive_from="12:00", arrive_until="20:00")
    assert book_priority(client, person()).status_code == 201
    reference = priority_reference(app, person()["id_number"])
    outbox = client.get("/api/v1/sms/outbox", headers=staff.headers, query_string={"kind": "priority_booking"})
    messages = outbox.get_json()
    assert len(messages) == 1
    # Staff see the number and the reference masked (PIPL; the reference looks up and cancels the booking).
    assert messages[0]["phone"] == "139****0002" and reference not in messages[0]["body"]
    assert messages[0]["status"] == "pending"
    [body] = texts_to(app)
    assert reference in body and "11月27日" in body and "12:00至20:00" in body


def test_the_share_is_configurable(app, client, factory, staff):
    app.config["PRIORITY_SHARE"] = 0
    settings.reload(app)
    body = open_day(client, staff, capacity=10)
    assert (body["available"], body["priority_capacity"]) == (10, 0)
    refused = book_priority(client, person())
    assert refused.status_code == 409
