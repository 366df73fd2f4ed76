"""Office time: every date-time in every JSON answer is written in the office's zone (+08:00), never UTC."""
import re
from datetime import date, datetime, timedelta, timezone

from tests.conftest import FROZEN_NOW
from tests.helpers_exams import create_session, local as exam_local, SATURDAY
from tests.helpers_fleet import company, inspect, officer as fleet_officer, register, scheduled_batch
from tests.helpers_followup import SECRET, post_inbound, queue_follow_up
from tests.helpers_tours import at, create_tour, publish
from vmo import settings
from vmo.timefmt import localize, local_iso

import pytest

DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}[^\"]*")
SHANGHAI_OFFSET = "+08:00"


@pytest.fixture
def app_config():
    return {"SMS_HMAC_SECRET": SECRET}


def _datetimes(value, path="$"):
    """(path, string) of every date-time string anywhere in a JSON answer."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _datetimes(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _datetimes(v, f"{path}[{i}]")
    elif isinstance(value, str) and DATETIME.fullmatch(value):
        yield path, value


def _local_only(response, *, at_least: int) -> list[str]:
    assert response.status_code < 300, response.get_json()
    found = list(_datetimes(response.get_json()))
    assert len(found) >= at_least, found
    utc = [(path, value) for path, value in found if not value.endswith(SHANGHAI_OFFSET)]
    assert utc == [], f"{response.request.path}: not in office time: {utc}"
    return [value for _, value in found]


def test_localize_writes_instants_in_office_time_and_leaves_the_rest(app):
    with app.app_context():
        utc = datetime(2026, 12, 5, 6, 0, tzinfo=timezone.utc)
        assert local_iso(utc) == "2026-12-05T14:00:00+08:00"
        assert localize({"a": [utc, "2026-12-05T06:00:00+00:00", "2026-12-05T06:00Z", "2026-12-05T22:30:00.5-08:00"],
                         "day": "2026-12-05", "plate": "渝G12345", "n": 3, "none": None,
                         "note": "到达时间 2026-12-05T06:00:00+00:00", "bad": "2026-13-45T99:00:00+00:00"}) == {
            "a": ["2026-12-05T14:00:00+08:00", "2026-12-05T14:00:00+08:00", "2026-12-05T14:00:00+08:00",
                  "2026-12-06T14:30:00.500000+08:00"],
            "day": "2026-12-05", "plate": "渝G12345", "n": 3, "none": None,
            "note": "到达时间 2026-12-05T06:00:00+00:00", "bad": "2026-13-45T99:00:00+00:00"}
        # The same instant, only written in the office's zone.
        assert datetime.fromisoformat(local_iso(utc)) == utc


def test_every_package_answers_in_office_time(app, client, factory):
    staff = fleet_officer(factory)
    supervisor = factory.staff("supervisor")
    sup_headers = factory.headers(supervisor)

    token = client.post("/api/v1/auth/token", json={"username": staff.username, "password": "correct-horse-battery"})
    _local_only(token, at_least=1)

    # Fleet: a batch booked, inspected and registered.
    owner = company(factory)
    batch = scheduled_batch(client, factory, owner, staff, count=1)
    vin = batch["vehicles"][0]["vin"]
    assert inspect(client, staff, vin).status_code in (200, 201)
    assert register(client, staff, vin).status_code in (200, 201)
    _local_only(client.get(f"/api/v1/fleet/batches/{batch['id']}", headers=owner.headers), at_least=1)
    _local_only(client.get("/api/v1/fleet/batches", headers=staff.headers), at_least=1)

    # Driving tests: a session and a booking.
    session = create_session(client, staff.headers)
    assert session["starts_at"] == exam_local(SATURDAY, 9) == "2026-11-28T09:00:00+08:00"
    _local_only(client.get(f"/api/v1/test-sessions/{session['id']}"), at_least=2)
    _local_only(client.get("/api/v1/test-sessions"), at_least=2)

    # Tours: the stops as created, read back, registered for, reported on, and on the officer's tablet.
    tour = create_tour(client, staff.headers, [staff.username])
    assert [s["arrives_at"] for s in tour["stops"]][:1] == [at(9)] == ["2026-11-28T09:00:00+08:00"]
    publish(client, staff.headers, tour["id"])
    stop_id = tour["stops"][0]["id"]
    registration = client.post(f"/api/v1/tours/{tour['id']}/stops/{stop_id}/registrations",
                               json={"plate": "渝G30001", "owner_name": "陈大爷", "phone": "13983000001"})
    _local_only(registration, at_least=1)
    values = _local_only(client.get(f"/api/v1/tours/{tour['id']}", headers=staff.headers), at_least=8)
    assert "2026-11-28T09:00:00+08:00" in values
    _local_only(client.get(f"/api/v1/tours/{tour['id']}/report", headers=staff.headers), at_least=0)
    values = _local_only(client.get("/api/v1/mobile/assignments", headers=staff.headers), at_least=8)
    assert "2026-11-28T09:00:00+08:00" in values

    # Follow-up: the outbox, a dissatisfied reply and its escalation, the statistics.
    now = datetime.fromisoformat(FROZEN_NOW)
    queue_follow_up(app, "13800138077", staff.id, 7, office=factory.office, sent_at=now - timedelta(hours=2))
    reply = post_inbound(client, {"message_id": "t-1", "from": "13800138077", "text": "2",
                                  "received_at": "2026-11-25T01:59:00Z"})
    assert reply.status_code == 200, reply.get_json()
    outbox = _local_only(client.get("/api/v1/sms/outbox", headers=sup_headers), at_least=2)
    assert "2026-11-25T08:00:00+08:00" in outbox  # sent two hours before 10:00 in Chongqing
    escalations = _local_only(client.get("/api/v1/escalations", headers=sup_headers), at_least=1)
    assert escalations[0] == "2026-11-25T10:00:00+08:00"
    _local_only(client.get("/api/v1/stats", headers=sup_headers), at_least=1)


def test_a_configured_zone_is_used(app, client, factory):
    app.config["TIMEZONE"] = "Asia/Urumqi"  # +06:00
    settings.reload(app)  # as a restart with the new zone would
    staff = factory.staff("officer")
    response = client.post("/api/v1/auth/token", json={"username": staff.username, "password": "correct-horse-battery"})
    assert response.get_json()["expires_at"].endswith("+06:00")
    assert date.fromisoformat(response.get_json()["expires_at"][:10])
