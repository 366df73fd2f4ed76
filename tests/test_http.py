"""The HTTP edge: JSON errors for everything, request ids, 500s, body limit, idempotency, paging, OpenAPI."""
import json
import logging

import pytest
from sqlalchemy import func, select

from tests.helpers_fleet import DAY, batch, company, officer, open_day, submit
from vmo.accounts.models import Company
from vmo.extensions import db
from vmo.fleet.models import FleetAppointment, FleetBatch


def assert_error_shape(response, code):
    body = response.get_json()
    assert response.status_code == code
    assert response.mimetype == "application/json"
    assert body["code"] == code and body["status"] and body["message"]
    assert body["request_id"] == response.headers["X-Request-ID"]
    return body


def test_unknown_path_is_a_json_404(client):
    body = assert_error_shape(client.get("/api/v1/no-such-thing"), 404)
    assert body["status"] == "Not Found"


def test_wrong_method_is_a_json_405_with_allow(client):
    response = client.delete("/api/v1/offices")
    body = assert_error_shape(response, 405)
    assert body["status"] == "Method Not Allowed"
    assert "GET" in response.headers["Allow"]


def test_too_large_body_is_a_json_413(app, client, factory):
    owner = company(factory)
    app.config["MAX_CONTENT_LENGTH"] = 2000
    response = submit(client, owner.headers, factory.vehicles(40))
    body = assert_error_shape(response, 413)
    assert body["message"] == "the request body is larger than the limit of 2000 bytes"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FleetBatch)) == 0


def test_invalid_json_is_a_400(client, factory):
    owner = company(factory)
    response = client.post("/api/v1/fleet/batches", data=b"{not json",
                           headers={**owner.headers, "Content-Type": "application/json"})
    body = assert_error_shape(response, 400)
    assert "json" in body["errors"]


def test_request_id_is_echoed_or_made_up(client):
    sent = client.get("/api/v1/offices", headers={"X-Request-ID": "tablet-42.abc_DEF"})
    assert sent.headers["X-Request-ID"] == "tablet-42.abc_DEF"
    made = client.get("/api/v1/offices")
    assert len(made.headers["X-Request-ID"]) == 32
    # Anything that could forge log lines or headers is replaced.
    for bad in ("a b", "x" * 65, "evil\u00e9", "id;drop"):
        response = client.get("/api/v1/offices", headers={"X-Request-ID": bad})
        assert response.headers["X-Request-ID"] != bad
        assert len(response.headers["X-Request-ID"]) == 32


@pytest.mark.own_app
def test_unexpected_exception_is_a_json_500_logged_with_the_request_id(app, caplog):
    @app.route("/api/v1/test-boom")
    def boom():
        raise RuntimeError("secret internals: password=hunter2")

    client = app.test_client()
    with caplog.at_level(logging.ERROR, logger="vmo"):
        response = client.get("/api/v1/test-boom", headers={"X-Request-ID": "boom-1"})
    body = assert_error_shape(response, 500)
    assert body == {"code": 500, "status": "Internal Server Error",
                    "message": "internal error; quote the request id when reporting it", "request_id": "boom-1"}
    assert b"hunter2" not in response.data and b"Traceback" not in response.data
    records = [r for r in caplog.records if r.getMessage() == "unhandled error"]
    assert len(records) == 1
    assert records[0].request_id == "boom-1"
    assert "hunter2" in caplog.text  # the traceback goes to the log, not to the client


def test_chinese_text_round_trips_unchanged(client, factory):
    factory.office  # noqa: B018
    name = "重庆市南川区丰昌汽车服务有限公司（分公司）·测试"
    response = client.post("/api/v1/companies", json={
        "name": name, "credit_code": "91500119MA5U8Y0X2" + __import__("vmo.validators").validators
        .credit_code_check_char("91500119MA5U8Y0X2"), "contact_name": "李明", "contact_phone": "13800138000",
        "username": "fengchang", "password": "correct-horse-battery"})
    assert response.status_code == 201
    assert response.get_json()["name"] == name
    # Sent as UTF-8, not as \\u escapes only a JSON parser can read.
    assert name.encode("utf-8") in response.data
    assert response.content_type.startswith("application/json")


# ---- idempotency -----------------------------------------------------------------------

def test_same_key_and_body_replays_the_first_answer(app, client, factory):
    owner = company(factory)
    vehicles = factory.vehicles(2)
    first = submit(client, owner.headers, vehicles, **{"Idempotency-Key": "batch-2026-11-25-a"})
    assert first.status_code == 201
    again = submit(client, owner.headers, vehicles, **{"Idempotency-Key": "batch-2026-11-25-a"})
    assert again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FleetBatch)) == 1


def test_same_key_with_a_different_body_is_422(app, client, factory):
    owner = company(factory)
    assert submit(client, owner.headers, factory.vehicles(1), **{"Idempotency-Key": "k1"}).status_code == 201
    other = submit(client, owner.headers, factory.vehicles(1), **{"Idempotency-Key": "k1"})
    body = assert_error_shape(other, 422)
    assert body["message"] == "this Idempotency-Key was used with a different request body"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FleetBatch)) == 1


def test_a_failed_keyed_request_can_be_retried(app, client, factory):
    owner = company(factory)
    vehicles = factory.vehicles(1)
    bad = [dict(vehicles[0], vehicle_type="spaceship")]
    assert submit(client, owner.headers, bad, **{"Idempotency-Key": "k2"}).status_code == 422
    # The failed attempt did not use up the key: the corrected request with the same key runs.
    assert submit(client, owner.headers, vehicles, **{"Idempotency-Key": "k2"}).status_code == 201
    replay = submit(client, owner.headers, vehicles, **{"Idempotency-Key": "k2"})
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FleetBatch)) == 1


def test_keys_are_per_user(app, client, factory):
    first, second = company(factory), company(factory)
    assert submit(client, first.headers, factory.vehicles(1), **{"Idempotency-Key": "same"}).status_code == 201
    assert submit(client, second.headers, factory.vehicles(1), **{"Idempotency-Key": "same"}).status_code == 201
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FleetBatch)) == 2


def test_keyed_booking_replays_without_holding_twice(app, client, factory):
    owner, staff = company(factory), officer(factory)
    open_day(client, staff, capacity=30)
    data = batch(client, factory, owner, 3)
    path = f"/api/v1/fleet/batches/{data['id']}/appointment"
    headers = {**owner.headers, "Idempotency-Key": "book-1"}
    first = client.post(path, json={"date": DAY}, headers=headers)
    again = client.post(path, json={"date": DAY}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json() == first.get_json()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FleetAppointment)) == 1
    days = client.get(f"/api/v1/green-channel/days?from={DAY}&to={DAY}").get_json()
    assert days[0]["booked"] == 3


def test_anonymous_sign_up_with_a_key_replays(app, client, factory):
    from tests.conftest import make_credit_code
    import random

    factory.office  # noqa: B018
    body = {"name": "丰昌", "credit_code": make_credit_code(random.Random(3)), "contact_name": "李明",
            "contact_phone": "13800138000", "username": "keyed", "password": "correct-horse-battery"}
    first = client.post("/api/v1/companies", json=body, headers={"Idempotency-Key": "signup-1"})
    again = client.post("/api/v1/companies", json=body, headers={"Idempotency-Key": "signup-1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json() == first.get_json()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Company)) == 1


def test_overlong_key_is_400(client, factory):
    owner = company(factory)
    response = submit(client, owner.headers, factory.vehicles(1), **{"Idempotency-Key": "k" * 256})
    assert_error_shape(response, 400)


# ---- pagination ------------------------------------------------------------------------

def test_lists_are_paginated(client, factory):
    staff = officer(factory)
    for day in ("2026-11-26", "2026-11-27", "2026-11-30"):
        open_day(client, staff, day)
    response = client.get("/api/v1/green-channel/days?page=1&page_size=2")
    assert [d["date"] for d in response.get_json()] == ["2026-11-26", "2026-11-27"]
    assert json.loads(response.headers["X-Pagination"]) == {
        "total": 3, "total_pages": 2, "first_page": 1, "last_page": 2, "page": 1, "next_page": 2}
    bad = client.get("/api/v1/green-channel/days?page_size=0")
    assert bad.status_code == 422 and list(bad.get_json()["errors"]) == ["query"]


# ---- OpenAPI ---------------------------------------------------------------------------

CONTRACT_PATHS = {
    "/api/v1/auth/token": {"post"},
    "/api/v1/auth/logout": {"post"},
    "/api/v1/me": {"get"},
    "/api/v1/companies": {"post"},
    "/api/v1/candidates": {"post"},
    "/api/v1/staff": {"post"},
    "/api/v1/fleet/batches": {"get", "post"},
    "/api/v1/fleet/batches/{batch_id}": {"get"},
    "/api/v1/fleet/batches/{batch_id}/appointment": {"post", "delete"},
    "/api/v1/green-channel/days": {"get"},
    "/api/v1/green-channel/days/{date}": {"put"},
    "/api/v1/fleet/vehicles/{vin}/inspection": {"post"},
    "/api/v1/fleet/vehicles/{vin}/registration": {"post"},
}


def test_openapi_document_has_every_contract_path(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    for path, methods in CONTRACT_PATHS.items():
        assert path in spec["paths"], path
        assert methods <= set(spec["paths"][path]), (path, set(spec["paths"][path]))
    post = spec["paths"]["/api/v1/fleet/batches"]["post"]
    assert post["security"] == [{"bearerAuth": []}]
    assert {"201", "401", "403", "422"} <= set(post["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in post["parameters"])
    date_param = spec["paths"]["/api/v1/green-channel/days/{date}"]["parameters"][0]
    assert date_param["schema"] == {"type": "string", "format": "date"}
    assert "bearerAuth" in spec["components"]["securitySchemes"]


def test_docs_ui_answers(client):
    response = client.get("/docs")
    assert response.status_code == 200
    assert b"swagger" in response.data.lower()
    asset = client.get("/docs-assets/swagger-ui-bundle.js")
    assert asset.status_code == 200
    asset.close()


def test_answers_keep_the_schemas_field_order(client):
    """JSON_SORT_KEYS = False (the default) is in force: an error reads code, status, message."""
    text = client.get("/api/v1/no-such-thing").get_data(as_text=True)
    assert text.index('"code"') < text.index('"status"') < text.index('"message"')


@pytest.mark.parametrize("path", ["/tablet/", "/api/v1/calendars/test-sessions.ics"])
def test_the_app_leaves_the_date_header_to_the_server(client, factory, path):
    """make_conditional adds Date and so does every WSGI server: the app must not, or clients see two."""
    factory.office  # noqa: B018
    response = client.get(path)
    assert response.status_code == 200 and response.headers.get("ETag")
    assert response.headers.get_all("Date") == []
