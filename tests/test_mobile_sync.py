"""Inspection sync from tablets: created/duplicate/conflict/rejected, exactly once, ownership, side effects."""
import threading
from datetime import date

import pytest
from sqlalchemy import select

from tests.helpers_mobile import (
    TODAY, add_motorcycle, count_inspections, envelope, follow_ups, inspections, make_tour, plate_of, record, utc,
)
from vmo.extensions import db

SYNC = "/api/v1/mobile/inspections/sync"


@pytest.fixture
def world(app, factory):
    officer = factory.staff("officer", badge_number="500119")
    partner = factory.staff("officer")
    outsider = factory.staff("officer")
    tour = make_tour(app, [officer.id, partner.id], registrations={0: [(plate_of(1), "张三", "13800138001")]})
    return type("World", (), {"officer": officer, "partner": partner, "outsider": outsider, "tour": tour,
                              "headers": factory.headers(officer), "stop": tour.stop_ids[0]})


def sync(client, headers, records, **kw):
    return client.post(SYNC, json=envelope(records, **kw), headers=headers)


def test_created_then_duplicate_then_conflict_keeps_the_first_version(app, client, world):
    first = record(world.stop, 1)
    response = sync(client, world.headers, [first])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    [created] = body["results"]
    assert created == {"client_id": first["client_id"], "status": "created", "id": created["id"]}
    assert body["clock_skew"] is False

    again = sync(client, world.headers, [first]).get_json()["results"]
    assert again == [{"client_id": first["client_id"], "status": "duplicate", "id": created["id"]}]

    changed = {**first, "result": "fail", "checklist": {**first["checklist"], "brake_front": "fail"},
               "defects": ["前制动失效"]}
    answer = sync(client, world.headers, [changed]).get_json()["results"]
    assert answer == [{"client_id": first["client_id"], "status": "conflict", "id": created["id"],
                       "differences": ["checklist", "result", "defects"]}]
    [row] = inspections(app)
    assert (row.result, row.defects, row.client_id) == ("pass", [], first["client_id"])
    assert row.checklist["brake_front"] == "pass"


def test_record_is_stored_with_both_clocks_and_all_fields(app, client, world):
    rec = record(world.stop, 1, recorded_at="2026-11-25T09:31:12.250+08:00", lat=29.21, lon=107.11,
                 vin="lfg12345ab", plate="渝G·00001")
    assert sync(client, world.headers, [rec], device_id="tablet-7").status_code == 200
    [row] = inspections(app)
    assert row.recorded_at == utc("2026-11-25T09:31:12.250+08:00")
    assert row.received_at == utc("2026-11-25T10:00:00+08:00")
    assert (row.plate, row.vin, row.device_id, row.officer_id) == (plate_of(1), "LFG12345AB", "tablet-7",
                                                                    world.officer.id)
    assert (row.lat, row.lon, row.odometer_km, row.clock_skew, row.walk_in) == (29.21, 107.11, 12001, False, False)
    assert row.registration_id == world.tour.registration_ids[plate_of(1)]


def test_one_bad_record_is_rejected_and_the_others_go_in(app, client, world):
    good1, good2 = record(world.stop, 2), record(world.stop, 3)
    bad = record(world.stop, 4, plate="XX123", result="maybe", checklist={"lights": "ok", "wings": "pass"})
    no_id = record(world.stop, 5)
    del no_id["client_id"]
    unknown_item = record(world.stop, 6, checklist={"wings": "pass"})
    passed_with_failure = record(world.stop, 7, checklist={"horn": "fail"})
    response = sync(client, world.headers, [good1, bad, no_id, unknown_item, passed_with_failure, good2, "junk"])
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == ["created", "rejected", "rejected", "rejected", "rejected", "created",
                                              "rejected"]
    assert results[1]["client_id"] == bad["client_id"]
    assert set(results[1]["errors"]) == {"plate", "result", "checklist"}
    assert results[2] == {"client_id": None, "status": "rejected",
                          "errors": {"client_id": ["Missing data for required field."]}}
    assert results[3]["errors"] == {"checklist": {"wings": [
        "unknown checklist item; known: brake_front, brake_rear, exhaust_noise, frame_number, horn, lights, "
        "mirrors, plate, tyres"]}}
    assert results[4]["errors"] == {"result": ["a passed inspection cannot have failed items (horn)"]}
    assert results[6] == {"client_id": None, "status": "rejected", "errors": {"_schema": ["a record must be a JSON object"]}}
    assert sorted(r.client_id for r in inspections(app)) == sorted([good1["client_id"], good2["client_id"]])


def test_a_malformed_envelope_is_422_and_changes_nothing(app, client, world):
    for body in ({"records": [record(world.stop)]}, {"device_id": "t", "records": "many"},
                 {"device_id": "t", "records": [record(world.stop)], "sent_at": "yesterday"}):
        response = client.post(SYNC, json=body, headers=world.headers)
        assert response.status_code == 422, body
        assert response.get_json()["code"] == 422 and "errors" in response.get_json()
    assert count_inspections(app) == 0


def test_more_than_the_limit_is_refused_with_a_clear_message(app, client, world):
    records = [record(world.stop, n) for n in range(501)]
    response = sync(client, world.headers, records)
    assert response.status_code == 422
    assert response.get_json()["errors"]["json"]["records"] == [
        "at most 500 records per sync, got 501; send them in smaller batches"]
    assert count_inspections(app) == 0


def test_500_records_in_one_sync_then_resent_create_nothing_new(app, client, world):
    records = [record(world.tour.stop_ids[n % 2], n) for n in range(500)]
    first = sync(client, world.headers, records).get_json()["results"]
    assert [r["status"] for r in first] == ["created"] * 500
    again = sync(client, world.headers, records).get_json()["results"]
    assert [r["status"] for r in again] == ["duplicate"] * 500
    assert [r["id"] for r in again] == [r["id"] for r in first]
    assert count_inspections(app) == 500


def test_reversed_and_split_differently_create_nothing_new(app, client, world):
    records = [record(world.stop, n) for n in range(30)]
    first = sync(client, world.headers, records[:10]).get_json()["results"]
    assert {r["status"] for r in first} == {"created"}
    reversed_answer = sync(client, world.headers, list(reversed(records))).get_json()["results"]
    assert [r["client_id"] for r in reversed_answer] == [r["client_id"] for r in reversed(records)]
    assert [r["status"] for r in reversed_answer] == ["created"] * 20 + ["duplicate"] * 10
    for start in range(0, 30, 7):
        answer = sync(client, world.headers, records[start:start + 7]).get_json()["results"]
        assert {r["status"] for r in answer} == {"duplicate"}
    assert count_inspections(app) == 30
    assert len(follow_ups(app)) == 30 - 29  # only the pre-registered plate 00001... has a phone
    assert len({r.client_id for r in inspections(app)}) == 30


def test_the_same_client_id_twice_in_one_batch(app, client, world):
    rec = record(world.stop, 1)
    other = {**rec, "odometer_km": 99}
    results = sync(client, world.headers, [rec, rec, other]).get_json()["results"]
    assert [r["status"] for r in results] == ["created", "duplicate", "conflict"]
    assert results[2]["differences"] == ["odometer_km"]
    assert len({r["id"] for r in results}) == 1
    assert count_inspections(app) == 1


def test_the_same_batch_from_two_threads_at_once(app, client, world):
    records = [record(world.stop, n) for n in range(200)]
    token = world.headers
    barrier = threading.Barrier(2)
    answers = [None, None]

    def send(slot, batch):
        with app.test_client() as own:
            barrier.wait(timeout=30)
            answers[slot] = own.post(SYNC, json=envelope(batch), headers=token)

    threads = [threading.Thread(target=send, args=(0, records)),
               threading.Thread(target=send, args=(1, list(reversed(records))))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert [a.status_code for a in answers] == [200, 200], [a.get_json() for a in answers]
    by_id = {}
    for answer in answers:
        for result in answer.get_json()["results"]:
            assert result["status"] in ("created", "duplicate")
            by_id.setdefault(result["client_id"], set()).add(result["status"])
    # Each record was created by exactly one of the two requests and found as a duplicate by the other.
    assert all(statuses == {"created", "duplicate"} for statuses in by_id.values())
    assert count_inspections(app) == 200
    assert len(follow_ups(app)) == 1


def test_side_effects_registration_register_and_follow_up_once(app, client, world):
    add_motorcycle(app, plate_of(1), phone="13800138001", last_inspected_on=date(2024, 11, 1))
    add_motorcycle(app, plate_of(2), phone="13900139002", last_inspected_on=date(2024, 11, 1))
    add_motorcycle(app, plate_of(3), phone=None)
    registered = record(world.stop, 1)                       # pre-registered, passes
    walk_in = record(world.stop, 2, result="fail", checklist={"lights": "fail"}, defects=["大灯不亮"])
    unknown = record(world.stop, 3)                          # on the register but no phone
    results = sync(client, world.headers, [registered, walk_in, unknown]).get_json()["results"]
    assert [r["status"] for r in results] == ["created"] * 3
    sync(client, world.headers, [registered, walk_in, unknown])  # a resend changes nothing below

    from schedules.tours.models import StopRegistration
    from vmo.motorcycles.models import Motorcycle

    with app.app_context():
        reg = db.session.get(StopRegistration, world.tour.registration_ids[plate_of(1)])
        assert reg.status == "inspected"
        register = {m.plate: m for m in db.session.scalars(select(Motorcycle))}
        assert register[plate_of(1)].last_inspected_on == TODAY
        # National rule: a motorcycle of 2018 is next inspected in its 10th year.
        assert register[plate_of(1)].next_due_on == date(2028, 5, 2)
        assert register[plate_of(2)].last_inspected_on == date(2024, 11, 1)  # failed: unchanged
        assert register[plate_of(3)].last_inspected_on == TODAY
    rows = {r.plate: r for r in inspections(app)}
    assert (rows[plate_of(1)].walk_in, rows[plate_of(2)].walk_in) == (False, True)
    messages = follow_ups(app)
    assert sorted((m.phone, m.key, m.officer_id) for m in messages) == [
        ("13800138001", f"follow_up:tour_inspection:{results[0]['id']}", world.officer.id),
        ("13900139002", f"follow_up:tour_inspection:{results[1]['id']}", world.officer.id),
    ]
    bodies = {m.phone: m.body for m in messages}
    assert "渝G00001" in bodies["13800138001"] and "检验合格" in bodies["13800138001"]
    assert "500119" in bodies["13800138001"]
    assert "检验未通过" in bodies["13900139002"]


def test_clock_skew_is_recorded_and_flagged_not_rejected(app, client, world):
    rec = record(world.stop, 1)
    response = sync(client, world.headers, [rec], sent_at="2026-11-25T10:11:00+08:00")
    assert response.status_code == 200
    assert response.get_json()["clock_skew"] is True
    assert response.get_json()["results"][0]["status"] == "created"
    on_time = record(world.stop, 2)
    assert sync(client, world.headers, [on_time], sent_at="2026-11-25T09:51:00+08:00").get_json()["clock_skew"] is False
    other_day = record(world.stop, 3, recorded_at="2026-11-24T16:00:00+08:00")
    sync(client, world.headers, [other_day], sent_at=None)
    rows = {r.client_id: r.clock_skew for r in inspections(app)}
    assert rows == {rec["client_id"]: True, on_time["client_id"]: False, other_day["client_id"]: True}
    # Resending the skewed record later with a good clock is a duplicate: the flag is not content.
    again = sync(client, world.headers, [rec]).get_json()["results"][0]
    assert again["status"] == "duplicate"


@pytest.mark.parametrize("app_config", [{"CLOCK_SKEW_MINUTES": 30}])
def test_the_skew_allowance_is_one_setting(app, client, world, app_config):
    rec = record(world.stop, 1)
    assert sync(client, world.headers, [rec], sent_at="2026-11-25T10:11:00+08:00").get_json()["clock_skew"] is False
    late = record(world.stop, 2)
    assert sync(client, world.headers, [late], sent_at="2026-11-25T10:31:00+08:00").get_json()["clock_skew"] is True


def test_only_officers_assigned_to_the_tour_may_log(app, client, factory, world):
    other_tour = make_tour(app, [world.outsider.id])
    mine, theirs = record(world.stop, 1), record(other_tour.stop_ids[0], 2)
    missing = record(999999, 3)
    results = sync(client, world.headers, [mine, theirs, missing]).get_json()["results"]
    assert results[0]["status"] == "created"
    assert results[1] == {"client_id": theirs["client_id"], "status": "rejected",
                          "errors": {"stop_id": ["you are not assigned to this stop's tour"]}}
    assert results[2] == {"client_id": missing["client_id"], "status": "rejected",
                          "errors": {"stop_id": ["no such stop"]}}
    # The partner (assigned) may log; the outsider's batch for our tour is wholly foreign: 403.
    partner = sync(client, factory.headers(world.partner), [record(world.stop, 4)])
    assert partner.get_json()["results"][0]["status"] == "created"
    foreign = sync(client, factory.headers(world.outsider), [record(world.stop, 5), record(world.stop, 6)])
    assert foreign.status_code == 403
    assert foreign.get_json()["message"] == "you are not assigned to the tour of any stop in this batch"
    assert count_inspections(app) == 2


def test_an_officer_of_another_office_gets_403(app, client, factory, world):
    stranger = factory.staff("officer", office=factory.other_office())
    response = sync(client, factory.headers(stranger), [record(world.stop, 1)])
    assert response.status_code == 403
    assert count_inspections(app) == 0


@pytest.mark.parametrize("role", ["company", "candidate", "supervisor"])
def test_other_roles_may_not_sync(app, client, factory, world, role):
    if role == "company":
        headers = factory.headers(factory.company()["username"])
    elif role == "candidate":
        headers = factory.headers(factory.candidate()["username"])
    else:
        headers = factory.headers(factory.staff("supervisor"))
    response = sync(client, headers, [record(world.stop, 1)])
    assert response.status_code == 403
    assert response.get_json()["message"] == "this needs the role officer"
    assert client.post(SYNC, json=envelope([record(world.stop, 1)])).status_code == 401
    assert count_inspections(app) == 0


def test_draft_or_cancelled_tours_take_no_inspections(app, client, world):
    draft = make_tour(app, [world.officer.id], status="draft")
    cancelled = make_tour(app, [world.officer.id], status="cancelled")
    results = sync(client, world.headers, [record(draft.stop_ids[0], 1), record(cancelled.stop_ids[0], 2)]
                   ).get_json()["results"]
    assert [r["errors"] for r in results] == [
        {"stop_id": ["this stop's tour or the stop itself is not published"]},
        {"stop_id": ["this stop's tour or the stop itself was cancelled"]}]
    assert count_inspections(app) == 0


def test_a_sync_is_a_few_statements_not_one_per_record(app, client, world):
    from sqlalchemy import event

    statements = []
    with app.app_context():
        engine = db.engine

    def count(*_args):
        statements.append(1)

    records = [record(world.stop, n) for n in range(300)]
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert sync(client, world.headers, records).status_code == 200
        created = len(statements)
        statements.clear()
        assert sync(client, world.headers, records).status_code == 200
        resent = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # Auth (token lookup) and audit included; nothing grows with the number of records.
    assert created < 25, created
    assert resent < 20, resent


def test_synced_inspections_and_clock_skew_show_in_the_tour_report(app, client, factory, world):
    records = [record(world.stop, 1), record(world.stop, 2, result="fail", checklist={"horn": "fail"}),
               record(world.tour.stop_ids[1], 3)]
    sync(client, world.headers, records[:2], sent_at="2026-11-25T09:40:00+08:00")  # 20 minutes slow
    sync(client, world.headers, records[2:])
    response = client.get(f"/api/v1/tours/{world.tour.id}/report", headers=world.headers)
    assert response.status_code == 200, response.get_json()
    stops = {s["stop_id"]: s for s in response.get_json()["stops"]}
    first, second = stops[world.stop], stops[world.tour.stop_ids[1]]
    assert {k: first[k] for k in ("registered", "inspected", "passed", "failed", "walk_ins", "clock_skew")} == {
        "registered": 1, "inspected": 2, "passed": 1, "failed": 1, "walk_ins": 1, "clock_skew": 2}
    assert {k: second[k] for k in ("inspected", "passed", "walk_ins", "clock_skew")} == {
        "inspected": 1, "passed": 1, "walk_ins": 1, "clock_skew": 0}
