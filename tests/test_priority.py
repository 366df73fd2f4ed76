"""The hall's priority lane: places of its own every working day, booked only by a phone that answers its
code (or by staff at the counter), one active booking per person and per phone."""
import hashlib
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.helpers_fleet import DAY, batch, book, company, day_info, officer, open_day
from tests.helpers_world import priority_reference
from tests.test_fleet_race import _together
from vmo import settings, validators
from vmo.extensions import db

SATURDAY = "2026-11-28"
PHONE = "13983000002"
URL = "/api/v1/green-channel/priority-bookings"


def id_number(birth: date, female: bool = True, seq: int = 0) -> str:
    first17 = "500119" + birth.strftime("%Y%m%d") + f"{seq:02d}" + ("2" if female else "1")
    return first17 + validators.resident_id_check_char(first17)


def person(reason="disabled", birth=date(1985, 3, 15), female=True, seq=0, day=DAY, phone=PHONE, **extra):
    return {"name": "张桂英", "id_number": id_number(birth, female, seq), "phone": phone,
            "reason": reason, "date": day, **extra}


def texted_code(app, phone=PHONE) -> str:
    """The last priority code the phone received (the outbox table: what the phone shows)."""
    from vmo.notify.models import OutboxMessage

    with app.app_context():
        body = db.session.scalar(select(OutboxMessage.body).where(OutboxMessage.phone == phone,
                                                                  OutboxMessage.kind == "priority_code")
                                 .order_by(OutboxMessage.id.desc()).limit(1))
    assert body is not None, f"no code texted to {phone}"
    return re.search(r"验证码(\d{6})", body).group(1)


def confirm(client, phone=PHONE, code=None):
    code = code if code is not None else texted_code(client.application, phone)
    return client.post(f"{URL}/confirm", json={"phone": phone, "code": code})


def book_priority(client, body, **headers):
    """A booking as a person makes it (the request, then the texted code), or by staff when `headers` sign one in."""
    asked = client.post(URL, json=body, headers=headers)
    if headers or asked.status_code != 202:
        return asked
    return confirm(client, body["phone"])


def texts_to(app, phone=PHONE, kind="priority_booking") -> list[str]:
    from vmo.notify.models import OutboxMessage

    with app.app_context():
        return list(db.session.scalars(select(OutboxMessage.body).where(OutboxMessage.phone == phone,
                                                                        OutboxMessage.kind == kind)
                                       .order_by(OutboxMessage.id)))


def lane(client, day=DAY) -> dict:
    days = client.get(f"/api/v1/priority/days?from={day}&to={day}").get_json()
    assert len(days) == 1, days
    return days[0]


@pytest.fixture
def staff(factory):
    return officer(factory, username="desk")


# ---- days of its own ---------------------------------------------------------------------

def test_every_working_day_has_priority_places_without_any_fleet_day(client, factory, staff):
    factory.office  # noqa: B018
    assert lane(client) == {"date": DAY, "capacity": 10, "booked": 0, "available": 10}
    assert lane(client, SATURDAY)["capacity"] == 0  # the weekend has none unless an officer opens it
    # No green-channel day anywhere: the lane books all the same.
    booked = book_priority(client, person())
    assert booked.status_code == 201, booked.get_json()
    assert lane(client)["available"] == 9
    refused = client.post(URL, json=person(day=SATURDAY, seq=1, phone="13983000003"))
    assert refused.status_code == 422 and "date" in refused.get_json()["errors"]["json"]


def test_the_daily_places_are_a_setting(app, client, factory):
    factory.office  # noqa: B018
    app.config["PRIORITY_DAILY_CAPACITY"] = 2
    settings.reload(app)
    assert lane(client)["capacity"] == 2


def test_an_officer_sets_a_days_places_and_the_green_channel_day_shows_the_same(client, factory, staff):
    put = client.put(f"/api/v1/priority/days/{SATURDAY}", json={"capacity": 3}, headers=staff.headers)
    assert put.status_code == 200, put.get_json()
    assert put.get_json() == {"date": SATURDAY, "capacity": 3, "booked": 0, "available": 3}
    assert book_priority(client, person(day=SATURDAY)).status_code == 201
    below = client.put(f"/api/v1/priority/days/{SATURDAY}", json={"capacity": 0}, headers=staff.headers)
    assert below.status_code == 409 and below.get_json()["reason"] == "below_booked"
    assert client.put(f"/api/v1/priority/days/{SATURDAY}", json={"capacity": 1},
                      headers=staff.headers).status_code == 200  # down to what is booked: allowed
    assert client.put("/api/v1/priority/days/2026-11-24", json={"capacity": 3},
                      headers=staff.headers).status_code == 422  # past
    owner = company(factory)
    assert client.put(f"/api/v1/priority/days/{DAY}", json={"capacity": 3}, headers=owner.headers).status_code == 403
    # A fleet day of the same date shows the lane's places, and setting them there sets the lane's.
    assert open_day(client, staff, capacity=30)["priority_capacity"] == 10
    assert open_day(client, staff, capacity=30, priority_capacity=4)["priority_capacity"] == 4
    assert lane(client)["capacity"] == 4


def test_neither_number_eats_the_other(client, factory, staff):
    open_day(client, staff, capacity=10)
    owner = company(factory)
    ten = batch(client, factory, owner, 10)
    assert book(client, owner, ten["id"]).status_code == 201
    info = day_info(client)
    assert (info["capacity"], info["booked"], info["available"], info["priority_available"]) == (10, 10, 0, 10)
    assert book_priority(client, person()).status_code == 201
    assert day_info(client)["priority_available"] == 9


# ---- the code: nothing held until the phone answers ------------------------------------------

def test_a_request_holds_nothing_until_the_phone_confirms_its_code(app, client, factory):
    factory.office  # noqa: B018
    asked = client.post(URL, json=person())
    assert asked.status_code == 202, asked.get_json()
    body = asked.get_json()
    assert (body["status"], body["phone"], body["date"]) == ("code_sent", "139****0002", DAY)
    assert lane(client)["available"] == 10  # nothing held
    confirmed = confirm(client)
    assert confirmed.status_code == 201, confirmed.get_json()
    answer = confirmed.get_json()
    assert answer["reference"] == priority_reference(app, person()["id_number"])
    assert (answer["name"], answer["reason"], answer["phone"], answer["at_counter"]) == (
        "张桂英", "disabled", "139****0002", False)
    assert lane(client)["available"] == 9
    [text] = texts_to(app)
    assert answer["reference"] in text and "11月27日" in text
    # The code is spent: confirming again finds nothing.
    assert confirm(client, code="000000").status_code == 422


def test_the_reviews_attack_three_anonymous_posts_take_nothing(client, factory):
    factory.office  # noqa: B018
    app_ = client.application
    app_.config["PRIORITY_DAILY_CAPACITY"] = 3
    settings.reload(app_)
    for seq in range(3):
        assert client.post(URL, json=person("elderly", birth=date(1950, 1, 1), seq=seq,
                                            phone=f"1398300001{seq}")).status_code == 202
    assert lane(client)["available"] == 3
    assert confirm(client, "13983000010", "123456").status_code == 422  # a made-up phone cannot answer


@pytest.mark.parametrize("wrong_tries,status", [(4, 201), (5, 422)])
def test_tries_are_counted_and_the_fifth_wrong_code_spends_it(client, factory, wrong_tries, status):
    factory.office  # noqa: B018
    assert client.post(URL, json=person()).status_code == 202
    right = texted_code(client.application)
    wrong = f"{(int(right) + 1) % 10 ** 6:06d}"
    for _ in range(wrong_tries):
        refused = confirm(client, code=wrong)
        assert refused.status_code == 422 and refused.get_json()["reason"] == "wrong_code"
    assert confirm(client, code=right).status_code == status


@pytest.mark.parametrize("later,status", [("2026-11-25T10:09:59+08:00", 201), ("2026-11-25T10:10:00+08:00", 422)])
def test_a_code_holds_ten_minutes(app, client, factory, later, status):
    factory.office  # noqa: B018
    assert client.post(URL, json=person()).status_code == 202
    code = texted_code(app)
    app.config["FROZEN_NOW"] = later
    assert confirm(client, code=code).status_code == status


def test_a_code_is_stored_only_as_a_keyed_hash_and_masked_for_staff(app, client, factory, staff):
    from vmo.priority.models import PriorityRequest

    factory.office  # noqa: B018
    assert client.post(URL, json=person()).status_code == 202
    code = texted_code(app)
    with app.app_context():
        row = db.session.scalar(select(PriorityRequest))
        plain = {hashlib.sha256(f"{row.id}:{code}".encode()).hexdigest(), hashlib.sha256(code.encode()).hexdigest(),
                 hashlib.sha256(f"priority:{row.id}:{PHONE}:{code}".encode()).hexdigest()}
        assert row.code_hash not in plain and code not in row.code_hash and len(row.code_hash) == 64
    outbox = client.get("/api/v1/sms/outbox", headers=staff.headers, query_string={"kind": "priority_code"})
    [message] = outbox.get_json()
    assert code not in message["body"] and message["phone"] == "139****0002"


@pytest.mark.parametrize("sent,status", [(4, 202), (5, 429)])
def test_codes_per_phone_per_day(client, factory, sent, status):
    factory.office  # noqa: B018
    for seq in range(sent):
        assert client.post(URL, json=person(seq=seq)).status_code == 202
    assert client.post(URL, json=person(seq=9)).status_code == status


# ---- one active booking per person and per phone ---------------------------------------------

def test_one_active_booking_per_id_number_and_per_phone(app, client, factory):
    factory.office  # noqa: B018
    first = person()
    assert book_priority(client, first).status_code == 201
    # The same ID number with another phone (on another day): refused; the booking's own phone is told.
    again = book_priority(client, {**first, "phone": "13983000009", "date": "2026-11-30"})
    assert again.status_code == 409 and again.get_json()["reason"] == "already_booked"
    assert sum("再次预约" in b for b in texts_to(app)) == 1
    # The same phone for another person: refused too.
    other = book_priority(client, person(seq=3))
    assert other.status_code == 409 and other.get_json()["reason"] == "already_booked"
    assert lane(client)["booked"] == 1
    # Cancelled, the person may book again.
    reference = priority_reference(app, first["id_number"])
    assert client.delete(f"{URL}/{reference}").status_code == 200
    assert book_priority(client, first).status_code == 201


def test_a_past_booking_no_longer_blocks(app, client, factory):
    factory.office  # noqa: B018
    assert book_priority(client, person(day="2026-11-25")).status_code == 201  # today
    app.config["FROZEN_NOW"] = "2026-11-26T09:00:00+08:00"
    assert book_priority(client, person(day="2026-11-27")).status_code == 201


def test_staff_book_at_the_counter_directly_also_for_family_members(app, client, factory, staff):
    father = person("elderly", birth=date(1950, 1, 1), female=False, seq=1, phone="13983000077")
    mother = person("elderly", birth=date(1952, 2, 2), seq=2, phone="13983000077")  # the son's phone for both
    for body in (father, mother):
        booked = book_priority(client, body, **staff.headers)
        assert booked.status_code == 201, booked.get_json()
        assert booked.get_json()["at_counter"] is True and booked.get_json()["reference"]
    assert lane(client)["booked"] == 2
    # The ID number still holds one booking at a time, at the counter too.
    assert book_priority(client, father, **staff.headers).get_json()["reason"] == "already_booked"
    audit = client.get("/api/v1/audit?action=priority.book", headers=staff.headers).get_json()
    assert [(e["actor"], e["after"]["at_counter"]) for e in audit] == [("desk", True), ("desk", True)]


def test_the_last_place_is_taken_once(app, client, factory):
    """Two phones confirming at the same moment for the last place: one 201, one 409 full."""
    factory.office  # noqa: B018
    app.config["PRIORITY_DAILY_CAPACITY"] = 1
    settings.reload(app)
    phones = ["13983000021", "13983000022"]
    for seq, phone in enumerate(phones):
        assert client.post(URL, json=person(seq=seq, phone=phone)).status_code == 202
    codes = [texted_code(app, phone) for phone in phones]
    answers = _together(*[lambda p=p, c=c: app.test_client().post(f"{URL}/confirm", json={"phone": p, "code": c})
                          for p, c in zip(phones, codes)])
    assert sorted(a.status_code for a in answers) == [201, 409], [a.get_json() for a in answers]
    refused = next(a for a in answers if a.status_code == 409)
    assert refused.get_json()["reason"] == "full"
    assert lane(client) == {"date": DAY, "capacity": 1, "booked": 1, "available": 0}
    # A full day is told at the request already.
    full = client.post(URL, json=person(seq=5, phone="13983000025"))
    assert full.status_code == 409 and full.get_json()["reason"] == "full"


# ---- who may book ------------------------------------------------------------------------------

def test_elderly_is_read_from_the_id_number_on_the_day_from_60(client, factory):
    """老年人权益保障法 art. 2: the elderly are citizens aged 60 and over."""
    factory.office  # noqa: B018
    assert client.post(URL, json=person("elderly", birth=date(1966, 11, 27))).status_code == 202
    fifty_nine = client.post(URL, json=person("elderly", birth=date(1966, 11, 28), seq=1))
    assert fifty_nine.status_code == 422
    assert fifty_nine.get_json()["errors"] == {"json": {"reason": [
        "the ID number gives age 59 on 2026-11-27; the elderly priority is from 60"]}}


def test_the_elderly_age_is_a_setting(app, client, factory):
    factory.office  # noqa: B018
    app.config["PRIORITY_ELDERLY_AGE"] = 70
    settings.reload(app)
    refused = client.post(URL, json=person("elderly", birth=date(1956, 11, 28)))
    assert refused.status_code == 422 and "from 70" in refused.get_json()["errors"]["json"]["reason"][0]


def test_pregnancy_needs_a_womans_id(client, factory):
    factory.office  # noqa: B018
    man = client.post(URL, json=person("pregnant", female=False))
    assert man.status_code == 422 and "reason" in man.get_json()["errors"]["json"]
    assert client.post(URL, json=person("pregnant", seq=1)).status_code == 202


@pytest.mark.parametrize("change,field", [
    ({"date": "2026-11-24"}, "date"),               # past
    ({"date": SATURDAY}, "date"),                   # no places that day
    ({"id_number": "500119198503150020"}, "id_number"),  # bad check character
    ({"phone": "023-71400000"}, "phone"),
    ({"reason": "vip"}, "reason"),
    ({"name": ""}, "name"),
])
def test_bad_requests_are_422_and_text_nothing(app, client, factory, change, field):
    factory.office  # noqa: B018
    response = client.post(URL, json={**person(), **change})
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]["json"]
    assert texts_to(app, kind="priority_code") == []


# ---- the reference: who sees what ----------------------------------------------------------

def test_the_name_and_reason_only_for_the_phones_holder_and_staff(app, client, factory, staff):
    factory.office  # noqa: B018
    assert book_priority(client, person()).status_code == 201
    reference = priority_reference(app, person()["id_number"])
    anyone = client.get(f"{URL}/{reference}").get_json()
    assert (anyone["reference"], anyone["status"], anyone["date"]) == (reference, "booked", DAY)
    assert (anyone["name"], anyone["reason"], anyone["id_number"], anyone["business"]) == (None, None, None, None)
    assert anyone["phone"] == "139****0002"
    assert client.get(f"{URL}/{reference}?phone=13983000003").get_json()["name"] is None
    holder = client.get(f"{URL}/{reference}?phone={PHONE}").get_json()
    assert (holder["name"], holder["reason"]) == ("张桂英", "disabled")
    desk = client.get(f"{URL}/{reference}", headers=staff.headers).get_json()
    assert (desk["name"], desk["reason"]) == ("张桂英", "disabled")
    assert client.get(f"{URL}/PXXXXXXX").status_code == 404


def test_cancel_by_reference_frees_the_place(app, client, factory):
    factory.office  # noqa: B018
    assert book_priority(client, person()).status_code == 201
    reference = priority_reference(app, person()["id_number"])
    cancelled = client.delete(f"{URL}/{reference}")
    assert (cancelled.status_code, cancelled.get_json()["status"], cancelled.get_json()["name"]) == (
        200, "cancelled", None)
    assert client.delete(f"{URL}/{reference}").status_code == 409
    assert lane(client)["available"] == 10


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True, "RATELIMIT_REFERENCES_PER_ADDRESS": "3 per hour",
                                         "RATELIMIT_REGISTRATIONS_PER_ADDRESS": ""}])
def test_look_ups_and_cancels_by_reference_are_rate_limited(client, factory, staff, app_config):
    factory.office  # noqa: B018
    address = {"REMOTE_ADDR": "203.0.113.9"}
    for _ in range(2):
        assert client.get(f"{URL}/PGUESS01", environ_base=address).status_code == 404
    assert client.delete(f"{URL}/PGUESS02", environ_base=address).status_code == 404
    limited = client.get(f"{URL}/PGUESS03", environ_base=address)
    assert limited.status_code == 429 and "by reference" in limited.get_json()["message"]
    assert client.delete(f"{URL}/PGUESS04", environ_base=address).status_code == 429
    # Staff at the desk are not counted.
    assert client.get(f"{URL}/PGUESS05", environ_base=address, headers=staff.headers).status_code == 404


# ---- the queue: masked phones, an audited reveal -------------------------------------------------

def test_queues_mask_phones_and_an_officer_reveals_one_number_audited(app, client, factory, staff):
    open_day(client, staff, capacity=20, arrive_from="12:00", arrive_until="20:00")
    owner = company(factory)
    fleet = batch(client, factory, owner, 3)
    assert book(client, owner, fleet["id"]).status_code == 201
    late = person("elderly", birth=date(1950, 1, 2), seq=1, business="机动车转移登记")
    assert book_priority(client, late).status_code == 201
    body = client.get(f"/api/v1/green-channel/days/{DAY}/queue", headers=staff.headers).get_json()
    assert [(e["position"], e["kind"], e["phone"]) for e in body["entries"]] == [
        (1, "priority", "139****0002"), (2, "fleet", "138****8000")]
    lane_queue = client.get(f"/api/v1/priority/days/{DAY}/queue", headers=staff.headers)
    assert lane_queue.status_code == 200
    [entry] = lane_queue.get_json()
    assert (entry["position"], entry["phone"], entry["reason"], entry["business"]) == (
        1, "139****0002", "elderly", "机动车转移登记")
    assert client.get(f"/api/v1/priority/days/{DAY}/queue", headers=owner.headers).status_code == 403
    revealed = client.post("/api/v1/phones/reveal", json={"case": {"type": "priority_booking", "id": entry["id"]}},
                           headers=staff.headers)
    assert revealed.status_code == 200, revealed.get_json()
    assert revealed.get_json()["phone"] == PHONE
    [logged] = client.get("/api/v1/audit?action=phone.reveal", headers=staff.headers).get_json()
    assert (logged["actor"], logged["entity"], logged["entity_id"], logged["after"]) == (
        "desk", "priority_booking", str(entry["id"]), {"phone": "139****0002"})
    assert client.post("/api/v1/phones/reveal", json={"case": {"type": "priority_booking", "id": entry["id"]}},
                       headers=owner.headers).status_code == 403
    assert client.post("/api/v1/phones/reveal", json={"case": {"type": "priority_booking", "id": 999}},
                       headers=staff.headers).status_code == 404
    assert client.post("/api/v1/phones/reveal", json={"case": {"type": "horoscope", "id": 1}},
                       headers=staff.headers).status_code == 422
    with app.app_context():
        from vmo.audit.models import AuditEntry

        assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.action == "phone.reveal")) == 1
