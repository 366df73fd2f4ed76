"""Idempotency keys do not stay stuck: a crashed request's claim is taken over, answers expire after a day."""
import json
from datetime import datetime, timedelta

from sqlalchemy import func, select

from tests.helpers_fleet import company
from vmo.accounts.models import User
from vmo.extensions import db
from vmo.fleet.models import FleetBatch
from vmo.idempotency import services as idempotency
from vmo.idempotency.models import IdempotencyRecord

T0 = datetime.fromisoformat("2026-11-25T10:00:00+08:00")


def batches(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(FleetBatch))


def post_batch(client, headers, vehicles, key):
    body = json.dumps({"vehicles": vehicles}).encode()
    return client.post("/api/v1/fleet/batches", data=body, content_type="application/json",
                       headers={**headers, "Idempotency-Key": key})


def crashed_claim(app, username, vehicles, key) -> None:
    """A claim as a worker killed mid-request leaves it: taken at T0, no answer stored, nothing written."""
    body = json.dumps({"vehicles": vehicles}).encode()
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == username))
        db.session.add(IdempotencyRecord(
            scope=f"user:{user_id}", key=key, created_at=T0,
            fingerprint=idempotency.fingerprint("POST", "/api/v1/fleet/batches", body)))
        db.session.commit()


def test_a_claim_left_by_a_crashed_request_is_busy_at_first_then_taken_over(app, client, factory):
    owner = company(factory)
    vehicles = factory.vehicles(1)
    crashed_claim(app, owner.username, vehicles, "crash-1")

    busy = post_batch(client, owner.headers, vehicles, "crash-1")
    assert busy.status_code == 409
    assert busy.get_json()["message"] == "a request with this Idempotency-Key is in progress; retry shortly"
    assert batches(app) == 0

    app.config["FROZEN_NOW"] = (T0 + timedelta(seconds=61)).isoformat()
    retried = post_batch(client, owner.headers, vehicles, "crash-1")
    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried.headers
    assert batches(app) == 1
    again = post_batch(client, owner.headers, vehicles, "crash-1")
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == retried.get_json()
    assert batches(app) == 1


def test_a_stale_claim_is_not_taken_over_by_a_different_body(app, client, factory):
    owner = company(factory)
    crashed_claim(app, owner.username, factory.vehicles(1), "crash-2")
    app.config["FROZEN_NOW"] = (T0 + timedelta(minutes=5)).isoformat()
    other = post_batch(client, owner.headers, factory.vehicles(1), "crash-2")
    assert other.status_code == 422
    assert batches(app) == 0


def test_an_answer_is_replayed_for_a_day_then_the_key_is_new_again(app, client, factory):
    owner = company(factory)
    vehicles = factory.vehicles(1)
    assert post_batch(client, owner.headers, vehicles, "daily").status_code == 201
    app.config["FROZEN_NOW"] = (T0 + timedelta(hours=23)).isoformat()
    replay = post_batch(client, factory.headers(owner.username), factory.vehicles(1), "daily")
    assert replay.status_code == 422  # still remembered: a different body is refused
    # (a new token each time: tokens live shorter than a day)
    app.config["FROZEN_NOW"] = (T0 + timedelta(hours=24, seconds=1)).isoformat()
    fresh = post_batch(client, factory.headers(owner.username), factory.vehicles(1), "daily")
    assert fresh.status_code == 201
    assert "Idempotent-Replayed" not in fresh.headers
    assert batches(app) == 2


def test_only_one_of_two_takeovers_wins(app):
    with app.app_context():
        db.session.add(IdempotencyRecord(scope="anon", key="k", fingerprint="f", created_at=T0))
        db.session.commit()
        later = T0 + timedelta(minutes=2)
        first = db.session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.key == "k"))
        stale_copy_created_at = first.created_at
        assert idempotency.claim("anon", "k", "f", later) is None  # taken over
        db.session.expire_all()
        record = db.session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.key == "k"))
        assert record.created_at != stale_copy_created_at
        # A second retry that read the old row loses the compare-and-set.
        record.created_at = stale_copy_created_at
        db.session.expunge(record)
        assert idempotency._take_over(record, "f", later) is False


def _register(client, tour, address, key="reg-1"):
    stop_id = tour["stops"][0]["id"]
    return client.post(f"/api/v1/tours/{tour['id']}/stops/{stop_id}/registrations",
                       json={"plate": "渝G10001", "owner_name": "王德明", "phone": "13900000001"},
                       headers={"Idempotency-Key": key}, environ_base={"REMOTE_ADDR": address})


def test_an_anonymous_key_never_replays_another_callers_answer(app, client, factory):
    """Anonymous callers' keys are scoped to the caller: with one shared scope, anyone sending the same key and
    body would get the first caller's answer, with its cancel code."""
    from tests.helpers_tours import create_tour, publish

    officer = factory.staff("officer")
    headers = factory.headers(officer)
    tour = create_tour(client, headers, [officer])
    publish(client, headers, tour["id"])
    first = _register(client, tour, "10.0.0.1")
    assert first.status_code == 201 and first.get_json()["cancel_code"]
    other = _register(client, tour, "10.0.0.2")
    assert "Idempotent-Replayed" not in other.headers
    # The other caller's registration of the same plate is answered like a first one, with a cancel code
    # of its own, never the first caller's.
    assert other.status_code == 201 and other.get_json()["cancel_code"] != first.get_json()["cancel_code"]
    assert other.get_json()["id"] != first.get_json()["id"]
    retry = _register(client, tour, "10.0.0.1")
    assert retry.headers["Idempotent-Replayed"] == "true" and retry.get_json() == first.get_json()


def test_answers_past_their_replay_window_are_deleted(app, client, factory):
    """Stored answers may hold a cancel code: they are kept no longer than their replay window."""
    owner = company(factory)
    app.config["FROZEN_NOW"] = T0.isoformat()
    assert post_batch(client, owner.headers, factory.vehicles(1), "old-1").status_code == 201
    app.config["FROZEN_NOW"] = (T0 + idempotency.KEEP_ANSWERS + timedelta(seconds=1)).isoformat()
    assert post_batch(client, factory.headers(owner.username), factory.vehicles(1), "new-1").status_code == 201
    with app.app_context():
        assert db.session.scalars(select(IdempotencyRecord.key)).all() == ["new-1"]
