"""The HTTP edge: JSON errors for everything, request ids, 500s, body limit, idempotency, paging, OpenAPI."""
import json
import logging

import pytest
from sqlalchemy import func, select

from tests.conftest import BACKENDS
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


# ---- the database unavailable: a failover (vmo.failover, docs/scale.md) -------------------

def _driver_errors():
    import psycopg
    from psycopg import errors

    return {
        "refused while connecting": psycopg.OperationalError(
            'connection failed: connection to server at "127.0.0.1", port 5440 failed: Connection refused'),
        "closed while connecting": psycopg.OperationalError(
            "connection failed: server closed the connection unexpectedly"),
        "lost mid-query": errors.ConnectionFailure("server closed the connection unexpectedly"),
        "shutting down": errors.CannotConnectNow("the database system is shutting down"),
        "in recovery": errors.CannotConnectNow("the database system is in recovery mode"),
        "terminated": errors.AdminShutdown("terminating connection due to administrator command"),
        "demoted primary": errors.ReadOnlySqlTransaction("cannot execute INSERT in a read-only transaction"),
    }


def _wrapped(orig):
    """The driver's error as SQLAlchemy raises it from a statement."""
    import sqlite3

    import psycopg
    from sqlalchemy import exc

    kind = exc.OperationalError if isinstance(orig, (psycopg.OperationalError, sqlite3.OperationalError)) \
        else exc.DatabaseError
    return kind("INSERT INTO offices ...", {}, orig)


@pytest.mark.own_app
@pytest.mark.parametrize("case", list(_driver_errors()))
def test_a_database_without_a_working_primary_is_a_503_with_retry_after(app, caplog, case):
    error = _driver_errors()[case]

    @app.route("/api/v1/test-failover")
    def failing():
        raise _wrapped(error)

    with caplog.at_level(logging.WARNING, logger="vmo"):
        response = app.test_client().get("/api/v1/test-failover")
    body = assert_error_shape(response, 503)
    assert body["message"] == "the database is unavailable for a moment; retry the request"
    assert response.headers["Retry-After"] == "1"
    assert "database unavailable" in caplog.text and "unhandled error" not in caplog.text


@pytest.mark.own_app
def test_other_database_errors_stay_500s(app):
    """A bug is not a failover: retrying it would only repeat it."""
    import sqlite3

    from psycopg import errors

    bugs = [errors.UndefinedTable('relation "nope" does not exist'), errors.SerializationFailure("conflict"),
            sqlite3.OperationalError("no such table: nope")]

    @app.route("/api/v1/test-bug/<int:n>")
    def failing(n):
        raise _wrapped(bugs[n])

    client = app.test_client()
    assert [client.get(f"/api/v1/test-bug/{n}").status_code for n in range(len(bugs))] == [500, 500, 500]


def test_a_refused_connection_invalidates_like_a_lost_one():
    """The pool is dropped when connecting fails, as when a connection breaks (SQLAlchemy alone
    calls only the second a disconnect), so the next request connects afresh to the new primary."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import OperationalError

    from testkit.server import free_port

    engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/vmo",
                           connect_args={"connect_timeout": 2})
    with pytest.raises(OperationalError) as raised:
        engine.connect()
    assert raised.value.connection_invalidated is True
    engine.dispose()


@pytest.mark.own_app
@pytest.mark.parametrize("backend", [b for b in BACKENDS if b == "postgresql"])  # read-only transactions
def test_a_demoted_primary_refusing_a_write_is_a_503(app, backend):
    """A read-only transaction is what a primary turned replica answers to a write."""
    from sqlalchemy import text

    from vmo.offices.models import Office

    @app.route("/api/v1/test-read-only", methods=["POST"])
    def write():
        db.session.execute(text("SET TRANSACTION READ ONLY"))
        db.session.add(Office(code="ro", name="只读", plate_prefix="渝G"))
        db.session.flush()
        return {}, 201

    response = app.test_client().post("/api/v1/test-read-only")
    assert_error_shape(response, 503)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Office).where(Office.code == "ro")) == 0


def _fail_commit(app, backend, monkeypatch, *, after: bool = False, model=FleetBatch):
    """Make the commit of the request's work (a fleet batch; or the first commit writing a `model`)
    fail as a lost connection does.

    On PostgreSQL the server really ends the connection before the COMMIT (pg_terminate_backend).
    Otherwise, and for a commit that went through but whose answer was lost (`after`), the driver's
    COMMIT raises the error of a connection lost mid-query, before or after committing."""
    from sqlalchemy import event, text
    from sqlalchemy.orm import Session

    state = {"work": False, "armed": True}
    really_terminate = backend == "postgresql" and not after

    def before_flush(session, *_):
        state["work"] = state["work"] or any(isinstance(o, model) for o in session.new)

    def before_commit(session):
        if really_terminate and state["work"] and state["armed"]:
            state["armed"] = False
            pid = session.execute(text("SELECT pg_backend_pid()")).scalar()
            with db.engine.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                other.commit()

    with app.app_context():
        dialect = db.engine.dialect
    original = dialect.do_commit

    def do_commit(dbapi_connection):
        if not really_terminate and state["work"] and state["armed"]:
            state["armed"] = False
            if after:
                original(dbapi_connection)
            raise _wrapped(_driver_errors()["lost mid-query"])
        original(dbapi_connection)

    monkeypatch.setattr(dialect, "do_commit", do_commit)
    event.listen(Session, "before_flush", before_flush)
    event.listen(Session, "before_commit", before_commit)

    def undo():
        event.remove(Session, "before_flush", before_flush)
        event.remove(Session, "before_commit", before_commit)
        monkeypatch.setattr(dialect, "do_commit", original)
    return undo


def _batches(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(FleetBatch))


def test_a_commit_that_fails_is_a_503_and_keeps_nothing(app, client, factory, backend, monkeypatch):
    owner = company(factory)
    vehicles = factory.vehicles(1)
    undo = _fail_commit(app, backend, monkeypatch)
    try:
        failed = submit(client, owner.headers, vehicles)
    finally:
        undo()
    assert_error_shape(failed, 503)
    assert _batches(app) == 0
    assert submit(client, owner.headers, vehicles).status_code == 201
    assert _batches(app) == 1


def test_a_keyed_write_whose_commit_failed_runs_afresh_on_retry(app, client, factory, backend, monkeypatch):
    owner = company(factory)
    vehicles = factory.vehicles(1)
    undo = _fail_commit(app, backend, monkeypatch)
    try:
        failed = submit(client, owner.headers, vehicles, **{"Idempotency-Key": "lost-1"})
    finally:
        undo()
    assert_error_shape(failed, 503)
    retry = submit(client, owner.headers, vehicles, **{"Idempotency-Key": "lost-1"})
    assert retry.status_code == 201 and "Idempotent-Replayed" not in retry.headers
    assert _batches(app) == 1


def test_a_keyed_write_whose_answer_was_lost_after_commit_replays(app, client, factory, backend, monkeypatch):
    """The commit went through but its success never reached the app: the stored answer is kept
    (the key is not released), so the retry replays it instead of writing twice."""
    owner = company(factory)
    vehicles = factory.vehicles(1)
    undo = _fail_commit(app, backend, monkeypatch, after=True)
    try:
        failed = submit(client, owner.headers, vehicles, **{"Idempotency-Key": "lost-2"})
    finally:
        undo()
    assert_error_shape(failed, 503)
    assert _batches(app) == 1
    retry = submit(client, owner.headers, vehicles, **{"Idempotency-Key": "lost-2"})
    assert retry.status_code == 201 and retry.headers["Idempotent-Replayed"] == "true"
    assert _batches(app) == 1


def test_a_claim_left_while_the_database_was_away_is_released_at_the_next_claim(app, client, factory, backend,
                                                                                 monkeypatch):
    """The commit failed and so did the release (no primary yet): the key would read "in progress"
    until the claim goes stale; the process forgets it at its next claim instead, so the retry runs."""
    from vmo.idempotency import services as idempotency

    owner = company(factory)
    vehicles = factory.vehicles(1)
    forget = idempotency._forget
    calls = {"n": 0}

    def unreachable_once(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise _wrapped(_driver_errors()["refused while connecting"])
        return forget(*args, **kwargs)

    monkeypatch.setattr(idempotency, "_forget", unreachable_once)
    undo = _fail_commit(app, backend, monkeypatch)
    try:
        failed = submit(client, owner.headers, vehicles, **{"Idempotency-Key": "lost-3"})
    finally:
        undo()
    assert_error_shape(failed, 503)
    assert len(idempotency._PENDING) == 1
    retry = submit(client, owner.headers, vehicles, **{"Idempotency-Key": "lost-3"})
    assert retry.status_code == 201, retry.get_json()
    assert "Idempotent-Replayed" not in retry.headers
    assert idempotency._PENDING == set() and _batches(app) == 1
def test_domain_errors_carry_no_status_and_the_edge_has_one_for_each_kind(app):
    from vmo import errors
    from vmo.http.errors import STATUSES, status_of

    def kinds(cls):
        return [cls] + [k for sub in cls.__subclasses__() for k in kinds(sub)]

    assert [k.__name__ for k in kinds(errors.DomainError) if "status" in vars(k)] == []
    assert status_of(errors.RuleViolation("r")) == 422 and status_of(errors.Conflict("c")) == 409
    assert status_of(errors.DomainError("plain")) == 400
    assert len({STATUSES[k] for k in (errors.Unauthorized, errors.Forbidden, errors.NotFound, errors.Conflict,
                                      errors.TooLarge, errors.UnsupportedFormat, errors.TooManyRequests)}) == 7
    with pytest.raises(TypeError):
        errors.RuleViolation("the old shape", errors={"json": {"vin": ["bad"]}})


def test_field_problems_are_answered_under_the_part_of_the_request_they_came_from(app):
    from vmo.http.errors import located

    with app.test_request_context("/api/v1/green-channel/days/2026-12-09?from=1&note=q", method="PUT",
                                  json={"capacity": 3, "note": "在正文里"}):
        assert located({"date": ["in the past"], "from": ["after to"], "capacity": ["too few"],
                        "note": ["blank"], "unnamed": ["x"]}) == {
            "path": {"date": ["in the past"]},
            "query": {"from": ["after to"]},
            # A name in both the query and the body is the body's: that is what the service reads.
            "json": {"capacity": ["too few"], "note": ["blank"], "unnamed": ["x"]},
        }


def test_a_claim_whose_commit_was_not_heard_is_released_at_the_next_claim(app, client, factory, backend,
                                                                         monkeypatch):
    """The key's claim committed but the connection broke before the app heard so: the request did no
    work, so the claim is forgotten at the next claim and the retry runs (not "in progress")."""
    from vmo.idempotency.models import IdempotencyRecord

    owner = company(factory)
    vehicles = factory.vehicles(1)
    undo = _fail_commit(app, backend, monkeypatch, after=True, model=IdempotencyRecord)
    try:
        failed = submit(client, owner.headers, vehicles, **{"Idempotency-Key": "lost-4"})
    finally:
        undo()
    assert_error_shape(failed, 503)
    with app.app_context():  # the claim is there, without an answer
        assert db.session.scalars(select(IdempotencyRecord.status_code)).all() == [None]
    retry = submit(client, owner.headers, vehicles, **{"Idempotency-Key": "lost-4"})
    assert retry.status_code == 201, retry.get_json()
    assert "Idempotent-Replayed" not in retry.headers
    assert _batches(app) == 1
