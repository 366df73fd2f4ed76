"""Property-based fuzzing of every operation in the served OpenAPI document with Schemathesis, plus the
edge cases it found, and a check that every documented status code can be produced.

The fuzz run is bounded and reproducible: derandomized Hypothesis, a fixed number of examples per
operation, the app called in-process (WSGI) on SQLite with a two-office world (tests/helpers_world.py)
so that path parameters can name real rows. Each example is sent with the token of a role allowed
to call the operation (sometimes with no token), and half the time with side a's real ids.
"""
import json
import logging
import os
import re
import time

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings, strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_schema_conformance, status_code_conformance,
)

from tests.conftest import Factory, app_test_config
from tests.helpers_world import ACCESS, PUBLIC, ROLES, build_world, path_values, world_config
from vmo import create_app
from vmo.apidoc import INT4_MAX
from vmo.config import normalize_database_url
from vmo.extensions import db

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, content_type_conformance]
# Examples per operation; VMO_FUZZ_EXAMPLES raises it for a longer local run.
POSITIVE = int(os.environ.get("VMO_FUZZ_EXAMPLES", 20))
NEGATIVE = max(POSITIVE // 2, 1)
# The whole run must stay well inside `make test` (about 45 s on a 2-core machine).
BUDGET_SECONDS = 240


@pytest.fixture(scope="module")
def fuzz_world(tmp_path_factory):
    """One app and one world for the whole module: the fuzz only adds to it."""
    tmp = tmp_path_factory.mktemp("fuzz")
    # SQLite in `make test`; VMO_FUZZ_DATABASE_URL (an empty PostgreSQL database: its tables are dropped
    # and made again) runs the same fuzz on PostgreSQL.
    url = os.environ.get("VMO_FUZZ_DATABASE_URL") or f"sqlite:///{tmp / 'fuzz.sqlite3'}"
    app = create_app(app_test_config(normalize_database_url(url), **world_config(), PHOTO_DIR=str(tmp / "photos")))
    with app.app_context():
        if not url.startswith("sqlite"):
            db.drop_all()
        db.create_all()
    client = app.test_client()
    world = build_world(app, client, Factory(app, client))
    yield app, world
    with app.app_context():
        db.engine.dispose()


def _run_operation(operation, mode, examples, world, failures):
    method, path = operation.method.upper(), operation.path
    allowed = ACCESS[(method, path)]
    roles = list(ROLES if allowed == PUBLIC else allowed) + [None]  # None: no token
    if (method, path) == ("POST", "/api/v1/auth/logout"):
        roles = [None]  # a real logout would revoke the tokens the other examples use
    real = path_values(world.a)
    tokens = {role: world.a.headers[role] for role in ROLES}

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode), role=st.sampled_from(roles), use_real=st.booleans())
    def fuzz(case, role, use_real):
        if use_real and case.path_parameters:
            case.path_parameters = {name: real.get(name, value) for name, value in case.path_parameters.items()}
        headers = dict(tokens[role]) if role else {}
        try:
            case.call_and_validate(headers=headers, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001  (collected into one report)
            lines = [line for line in str(exc).splitlines() if line.strip()]
            kinds = " ".join(line for line in lines if line.startswith("- ")) or type(exc).__name__
            failures.setdefault(f"{method} {path} [{mode.value}] {kinds}", "\n".join(lines[:40]))

    try:
        fuzz()
    except Unsatisfiable:  # nothing in this operation can be made invalid (no parameters, no body)
        assert mode == GenerationMode.NEGATIVE, (method, path)


@pytest.mark.slow
def test_fuzz_every_operation(fuzz_world):
    """No 5xx, every answer's status documented, its body matching its schema and its content type."""
    app, world = fuzz_world
    logging.getLogger("vmo").disabled = True  # the 500s we look for are reported below, not logged twice
    try:
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
        failures: dict[str, str] = {}
        started, count = time.monotonic(), 0
        for result in schema.get_all_operations():
            operation = result.ok()
            count += 1
            _run_operation(operation, GenerationMode.POSITIVE, POSITIVE, world, failures)
            _run_operation(operation, GenerationMode.NEGATIVE, NEGATIVE, world, failures)
        elapsed = time.monotonic() - started
    finally:
        logging.getLogger("vmo").disabled = False
    assert count == len(ACCESS)
    assert not failures, "\n\n".join(f"== {key}\n{text}" for key, text in failures.items())
    assert elapsed < BUDGET_SECONDS, f"the fuzz run took {elapsed:.0f} s"


# ---- what the fuzz found, pinned down (SQLite and PostgreSQL) ----------------------------------

@pytest.fixture
def app_config(tmp_path):
    return {**world_config(), "PHOTO_DIR": str(tmp_path / "photos")}


def _spec(client) -> dict:
    return client.get("/api/v1/openapi.json").get_json()


def test_ids_beyond_int4_are_404_in_the_path_and_422_elsewhere(client, factory):
    officer = factory.headers(factory.staff("officer"))
    candidate = factory.headers(factory.candidate()["username"])
    for url in (f"/api/v1/test-sessions/{INT4_MAX + 1}", f"/api/v1/tours/{10**30}", f"/api/v1/tours/{INT4_MAX}"):
        response = client.get(url, headers=officer)
        assert response.status_code == 404, (url, response.get_json())
        assert response.get_json()["code"] == 404
    too_big = client.get(f"/api/v1/bookings?session_id={INT4_MAX + 1}", headers=candidate)
    assert too_big.status_code == 422
    assert too_big.get_json()["errors"] == {"query": {"session_id": [
        f"Must be greater than or equal to 1 and less than or equal to {INT4_MAX}."]}}
    change = client.post("/api/v1/bookings/1/change", json={"session_id": 2**63}, headers=candidate)
    assert change.status_code == 422 and "session_id" in change.get_json()["errors"]["json"]
    # The document says so, for every integer a client sends.
    parameter = _spec(client)["paths"]["/api/v1/tours/{tour_id}"]["parameters"][0]
    assert parameter["schema"] == {"type": "integer", "minimum": 0, "maximum": INT4_MAX}


def test_every_integer_a_client_sends_has_a_maximum(client):
    """A number without a bound reaches the database; PostgreSQL's int4 overflows (500)."""
    spec = _spec(client)
    components = spec["components"]["schemas"]
    unbounded = []

    def walk(schema, where, seen=frozenset()):
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                walk(components[name], where, seen | {name})
            return
        if schema.get("readOnly"):
            return
        if schema.get("type") == "integer" and "maximum" not in schema:
            unbounded.append(where)
        for name, sub in schema.get("properties", {}).items():
            walk(sub, f"{where}.{name}", seen)
        for key in ("items", "additionalProperties"):
            if isinstance(schema.get(key), dict):
                walk(schema[key], f"{where}[]", seen)

    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            for parameter in op.get("parameters", []) + item.get("parameters", []):
                if parameter["name"] != "page":  # paging past the end is an empty page (SelectPage)
                    walk(parameter["schema"], f"{method.upper()} {path} {parameter['name']}")
            for content in op.get("requestBody", {}).get("content", {}).values():
                walk(content["schema"], f"{method.upper()} {path} body")
    assert unbounded == []


def test_a_page_far_past_the_end_is_empty(client, factory):
    officer = factory.headers(factory.staff("officer"))
    response = client.get(f"/api/v1/tours?page={10**25}", headers=officer)
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == []


@pytest.mark.parametrize("text", ["丰昌\x00汽车", "\ud800"])
def test_nul_and_lone_surrogates_are_422_naming_the_field_and_store_nothing(app, client, factory, text):
    from tests.conftest import PASSWORD, make_credit_code

    factory.office  # noqa: B018
    body = {"name": text, "credit_code": make_credit_code(factory.rng), "contact_name": "李明",
            "contact_phone": "13800138000", "username": "nul-co", "password": PASSWORD}
    # json.dumps escapes a lone surrogate as \\ud800, as a client's JSON encoder would.
    response = client.post("/api/v1/companies", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 422
    answer = response.get_json()
    assert answer["errors"] == {"json": {"name": ["must not contain NUL characters or unpaired surrogates"]}}
    assert client.post("/api/v1/auth/token", json={"username": "nul-co", "password": PASSWORD}).status_code == 401
    login = client.post("/api/v1/auth/token", data=json.dumps({"username": text, "password": PASSWORD}),
                        content_type="application/json")
    assert login.status_code == 422 and set(login.get_json()["errors"]["json"]) == {"username"}
    query = client.get("/api/v1/test-sessions", query_string={"license_class": text.replace("\ud800", "\x00")})
    assert query.status_code == 422 and set(query.get_json()["errors"]["query"]) == {"license_class"}


def test_a_nul_in_the_address_is_404(client, factory):
    officer = factory.headers(factory.staff("officer"))
    for url in ("/api/v1/fleet/vehicles/%00", "/api/v1/motorcycles/G%0012", "/api/v1/calendars/townships/%00.ics",
                "/api/v1/green-channel/priority-bookings/%00", "/api/v1/mobile/inspections/%00"):
        response = client.get(url, headers=officer)
        assert response.status_code == 404, (url, response.get_json())
        assert response.get_json()["request_id"]


def test_dates_outside_1900_to_2199_are_422(client, factory):
    from tests import helpers_exams as exams

    officer = factory.headers(factory.staff("officer"))
    body = exams.session_body(starts_at="9999-12-31T23:00:00-08:00", ends_at="9999-12-31T23:30:00-08:00")
    response = client.post("/api/v1/test-sessions", json=body, headers=officer)
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"json": {
        "starts_at": ["must be between the years 1900 and 2199"], "ends_at": ["must be between the years 1900 and 2199"]}}
    stats = client.get("/api/v1/stats?from=9999-01-01&to=9999-12-31", headers=officer)
    assert stats.status_code == 422 and set(stats.get_json()["errors"]["query"]) == {"from", "to"}
    audit = client.get("/api/v1/audit", query_string={"since": "0001-01-01T00:00:00+14:00"}, headers=officer)
    assert audit.status_code == 422 and set(audit.get_json()["errors"]["query"]) == {"since"}


def test_a_bad_record_in_a_sync_is_rejected_alone(app, client, factory):
    from tests import helpers_mobile as mobile

    officer = factory.staff("officer")
    tour = mobile.make_tour(app, [officer.id])
    records = [mobile.record(tour.stop_ids[0], 1, recorded_at="0001-01-01T00:00:00+08:00"),
               mobile.record(tour.stop_ids[0], 2, defects=["后视镜\x00"]),
               mobile.record(tour.stop_ids[0], 3)]
    response = client.post("/api/v1/mobile/inspections/sync", json=mobile.envelope(records),
                           headers=factory.headers(officer))
    assert response.status_code == 200, response.get_json()
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == ["rejected", "rejected", "created"]
    assert results[0]["errors"] == {"recorded_at": ["must be between the years 1900 and 2199"]}
    assert results[1]["errors"] == {"defects": {"0": ["must not contain NUL characters or unpaired surrogates"]}}
    assert mobile.count_inspections(app) == 1
    envelope = client.post("/api/v1/mobile/inspections/sync", json=mobile.envelope([], device_id="tab\x00"),
                           headers=factory.headers(officer))
    assert envelope.status_code == 422
    assert envelope.get_json()["errors"] == {"json": {"device_id": [
        "must not contain NUL characters or unpaired surrogates"]}}


def test_the_error_schema_lists_the_extra_fields_errors_carry(client):
    error = _spec(client)["components"]["schemas"]["Error"]
    assert error.get("additionalProperties") is False
    assert {"reason", "eligible_from", "available", "booked", "seats_left", "active_booking_id", "registration_id",
            "resolved_at", "applications_close_at", "actual_sha256", "max_bytes"} <= set(error["properties"])


def test_content_types_sent_are_documented(client):
    paths = _spec(client)["paths"]
    report = paths["/api/v1/tours/{tour_id}/report"]["get"]["responses"]["200"]["content"]
    assert set(report) == {"application/json", "text/csv"}
    photo = paths["/api/v1/mobile/inspections/{client_id}/photos/{sha256}"]["get"]["responses"]["200"]["content"]
    assert set(photo) == {"image/jpeg", "image/png"}
