"""Tokens, passwords and the SMS webhook secret never reach the logs, on the normal and the error paths."""
import logging

import pytest
from sqlalchemy import text

from tests.conftest import PASSWORD
from vmo import settings
from vmo.extensions import db
from vmo.http.logs import RedactingFormatter

HMAC_SECRET = "whsec-9f3b2c61d7e84a05"


@pytest.fixture
def app_config():
    return {"SMS_HMAC_SECRET": HMAC_SECRET, "LOG_LEVEL": "DEBUG", "LOGIN_MAX_FAILURES": 2}


@pytest.fixture
def logs(caplog):
    """Everything logged at any level, by vmo and by the libraries under it, formatted as vmo's handler does."""
    caplog.set_level(logging.DEBUG)
    # pytest keeps one capture handler for the whole session: its formatter is put back afterwards, or
    # every later test's caplog.text would be redacted too.
    formatter = caplog.handler.formatter
    caplog.handler.setFormatter(RedactingFormatter("%(levelname)s %(name)s: %(message)s"))
    watched = [logging.getLogger(name) for name in ("vmo", "vmo.sms", "flask-limiter", "sqlalchemy.engine",
                                                    "werkzeug", "flask_smorest")]
    for logger in watched:
        logger.addHandler(caplog.handler)
        logger.setLevel(logging.DEBUG)
    yield caplog
    for logger in watched:
        logger.removeHandler(caplog.handler)
    caplog.handler.setFormatter(formatter)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)


@pytest.mark.own_app
def test_no_token_password_or_secret_in_the_logs(app, client, factory, logs):
    @app.post("/api/v1/test-only/boom")
    def boom():
        # A 500 whose SQL error carries the caller's token as a bound value, as a careless query might.
        db.session.execute(text("SELECT * FROM no_such_table WHERE token = :token"),
                           {"token": factory_token})
        return {}

    officer = factory.staff("officer")
    signed_in = client.post("/api/v1/auth/token", json={"username": officer.username, "password": PASSWORD})
    factory_token = signed_in.get_json()["token"]
    bearer = {"Authorization": f"Bearer {factory_token}"}
    assert client.get("/api/v1/me", headers=bearer).status_code == 200
    assert client.post("/api/v1/tours", json={"name": "x", "password": PASSWORD}, headers=bearer).status_code == 422
    for _ in range(3):  # failures, then the lock-out
        client.post("/api/v1/auth/token", json={"username": officer.username, "password": PASSWORD + "x"})
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer " + factory_token[::-1]}).status_code == 401
    assert client.post("/api/v1/sms/inbound", data=b'{"message_id": "m1"}',
                       headers={"X-Timestamp": "1", "X-Signature": "00" * 32,
                                "Content-Type": "application/json"}).status_code == 401
    failed = client.post("/api/v1/test-only/boom", headers=bearer, json={"password": PASSWORD})
    assert failed.status_code == 500

    logged = logs.text
    assert "unhandled error" in logged and "no_such_table" in logged  # the error path was logged...
    for secret in (factory_token, factory_token[::-1], PASSWORD, PASSWORD + "x", HMAC_SECRET):
        assert secret not in logged  # ...without any secret in it
    assert "parameters hidden" in logged  # SQL errors show no bound values


def test_the_formatter_redacts_what_a_careless_line_would_leak(app):
    formatter = RedactingFormatter("%(message)s")

    def formatted(message, *args):
        return formatter.format(logging.LogRecord("vmo", logging.INFO, __file__, 1, message, args, None))

    assert formatted("headers: %s", {"Authorization": "Bearer abc.DEF-123"}) == \
        "headers: {'Authorization': 'Bearer [redacted]'}"
    assert formatted('body {"username": "zhang", "password": "hunter2-long"}') == \
        'body {"username": "zhang", "password": "[redacted]"}'
    assert formatted("answer token=%s", "tok123") == "answer token=[redacted]"
    with app.app_context():
        app.config["SMS_HMAC_SECRET"] = HMAC_SECRET
        settings.reload(app)  # as a restart with the new secret would
        assert formatted("signing with %s", HMAC_SECRET) == "signing with [redacted]"


def _registered(app, client, factory):
    """A tour-stop pre-registration: its text to the owner carries a cancel code."""
    from tests.helpers_tours import create_tour, publish

    officer = factory.staff("officer")
    headers = factory.headers(officer)
    tour = create_tour(client, headers, [officer])
    publish(client, headers, tour["id"])
    answer = client.post(f"/api/v1/tours/{tour['id']}/stops/{tour['stops'][0]['id']}/registrations",
                         json={"plate": "渝G10001", "owner_name": "王德明", "phone": "13900000001"})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["cancel_code"], headers


def test_staff_see_cancel_codes_and_phones_masked_in_the_outbox(app, client, factory):
    """The outbox is not a way for any officer to read every cancel code and phone number."""
    code, headers = _registered(app, client, factory)
    outbox = client.get("/api/v1/sms/outbox", headers=headers, query_string={"kind": "tour_registration"})
    assert outbox.status_code == 200
    [message] = outbox.get_json()
    assert message["phone"] == "139****0001"
    assert code not in message["body"] and "13900000001" not in message["body"]
    assert "****" in message["body"]


def test_the_log_backend_masks_codes_and_phones(app, client, runner, factory, logs):
    code, _headers = _registered(app, client, factory)
    result = runner.invoke(args=["sms", "send"])
    assert result.exit_code == 0, result.output
    lines = "\n".join(record.getMessage() for record in logs.records if record.name == "vmo.sms")
    assert "SMS to 139****0001" in lines
    assert code not in lines and "13900000001" not in lines


def test_credentials_in_the_gateway_url_are_not_stored_in_last_error(app, client, runner, factory):
    """An error naming the gateway URL must not show its key to every officer."""
    from testkit.server import free_port
    from vmo.notify import services as notify
    from vmo.offices.services import get_office

    with app.app_context():
        notify.queue(get_office(factory.office).id, "13900139000", "测试", kind="reminder", key="reminder:1")
        db.session.commit()
    app.config.update(SMS_BACKEND="http", SMS_HTTP_RETRIES=0,
                      SMS_HTTP_URL=f"http://gw-user:gw-pass-77@127.0.0.1:{free_port()}/send?api_key=KEY-5f1e2d&to=x")
    settings.reload(app)
    runner.invoke(args=["sms", "send"])
    [message] = client.get("/api/v1/sms/outbox", headers=factory.headers(factory.staff())).get_json()
    assert message["last_error"], message
    assert "KEY-5f1e2d" not in message["last_error"] and "gw-pass-77" not in message["last_error"]
