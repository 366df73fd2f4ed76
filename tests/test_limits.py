"""Rate limits: sign-in per address and per username, the lock-out that hides which names exist,
bookings per candidate, public sign-ups and registrations per address; 429 with Retry-After."""
import os
import uuid

import pytest

from tests.conftest import PASSWORD, make_credit_code, make_id_number
from tests.helpers_exams import candidate, create_session
from vmo import settings
from vmo.accounts.services import AuthSettings

REDIS_URL = os.environ.get("VMO_TEST_REDIS_URL")
ON = {"RATELIMIT_ENABLED": True}
# Every limit off but the one a test names, so each test sees exactly one rule at work.
ALL_OFF = {**ON, "RATELIMIT_LOGIN_PER_ADDRESS": "", "RATELIMIT_LOGIN_PER_USERNAME": "",
           "RATELIMIT_SIGNUPS_PER_ADDRESS": "", "RATELIMIT_REGISTRATIONS_PER_ADDRESS": "",
           "RATELIMIT_BOOKINGS_PER_CANDIDATE": "", "RATELIMIT_REFERENCES_PER_ADDRESS": "", "LOGIN_MAX_FAILURES": 0}
ADDRESS_A = {"REMOTE_ADDR": "203.0.113.7"}
ADDRESS_B = {"REMOTE_ADDR": "198.51.100.23"}


def sign_in(client, username, password=PASSWORD, address=ADDRESS_A):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password},
                       environ_base=address)


def assert_429(response, message_part):
    assert response.status_code == 429, response.get_json()
    body = response.get_json()
    assert body["code"] == 429 and body["status"] == "Too Many Requests"
    assert message_part in body["message"]
    assert 1 <= int(response.headers["Retry-After"]) <= 3600
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("app_config", [{**ALL_OFF, "RATELIMIT_LOGIN_PER_ADDRESS": "3 per minute"}])
def test_sign_in_attempts_are_limited_per_address(client, factory, app_config):
    officer = factory.staff("officer")
    for name in ("nobody-1", "nobody-2", officer.username):
        assert sign_in(client, name, "wrong-password").status_code == 401
    # The right password does not help once the address is over its limit; another address is fine.
    assert_429(sign_in(client, officer.username), "from this address")
    assert sign_in(client, officer.username, address=ADDRESS_B).status_code == 200
    assert int(sign_in(client, "x").headers["Retry-After"]) <= 60  # a one-minute window


@pytest.mark.parametrize("app_config", [{**ALL_OFF, "RATELIMIT_LOGIN_PER_USERNAME": "2 per minute"}])
def test_sign_in_attempts_are_limited_per_username_from_any_address(client, factory, app_config):
    zhang, liu = factory.staff("officer"), factory.staff("officer")
    assert sign_in(client, zhang.username, "wrong", address=ADDRESS_A).status_code == 401
    assert sign_in(client, zhang.username, "wrong", address=ADDRESS_B).status_code == 401
    assert_429(sign_in(client, zhang.username, address={"REMOTE_ADDR": "192.0.2.1"}), "for this username")
    assert sign_in(client, liu.username).status_code == 200


def lockout_story(client, username):
    """Statuses, messages and Retry-After of six wrong passwords and then a (maybe) right one."""
    seen = []
    for password in ["wrong-password"] * 6 + [PASSWORD]:
        response = sign_in(client, username, password)
        seen.append((response.status_code, response.get_json()["message"], response.headers.get("Retry-After")))
    return seen


@pytest.mark.parametrize("app_config", [ALL_OFF | {"LOGIN_MAX_FAILURES": 5}])
def test_the_lock_out_does_not_tell_whether_a_username_exists(client, factory, app_config):
    real = factory.staff("officer")
    for_real = lockout_story(client, real.username)
    for_unknown = lockout_story(client, "no-such-user-" + uuid.uuid4().hex[:6])
    assert [s for s, _m, _r in for_real] == [401] * 5 + [429, 429]
    # Same answers, word for word, with the same wait: a caller cannot tell the names apart.
    assert for_real == for_unknown
    assert for_real[-1][2] == str(15 * 60 + 1)


@pytest.mark.parametrize("app_config", [ALL_OFF | {"LOGIN_MAX_FAILURES": 3, "RATELIMIT_ENABLED": False}])
def test_the_lock_out_stays_on_when_rate_limits_are_switched_off(client, factory, app_config):
    officer = factory.staff("officer")
    for _ in range(3):
        assert sign_in(client, officer.username, "wrong").status_code == 401
    assert sign_in(client, officer.username).status_code == 429


@pytest.mark.parametrize("app_config", [{**ALL_OFF, "RATELIMIT_SIGNUPS_PER_ADDRESS": "2 per hour"}])
def test_public_sign_ups_are_limited_per_address(client, factory, app_config):
    factory.office  # noqa: B018
    company = {"name": "南川区丰昌汽车服务有限公司", "contact_name": "李明", "contact_phone": "13800138000",
               "password": PASSWORD}
    person = {"name": "王芳", "phone": "13900139000", "license_class": "C1", "password": PASSWORD}

    def company_signup(address):
        body = {**company, "credit_code": make_credit_code(factory.rng), "username": uuid.uuid4().hex[:10]}
        return client.post("/api/v1/companies", json=body, environ_base=address)

    def candidate_signup(address):
        body = {**person, "id_number": make_id_number(factory.rng), "username": uuid.uuid4().hex[:10]}
        return client.post("/api/v1/candidates", json=body, environ_base=address)

    assert company_signup(ADDRESS_A).status_code == 201
    assert candidate_signup(ADDRESS_A).status_code == 201
    # Companies and candidates share one budget per address.
    assert_429(candidate_signup(ADDRESS_A), "sign-ups from this address")
    assert_429(company_signup(ADDRESS_A), "sign-ups from this address")
    assert company_signup(ADDRESS_B).status_code == 201


@pytest.mark.parametrize("app_config", [{**ALL_OFF, "RATELIMIT_REGISTRATIONS_PER_ADDRESS": "2 per hour"}])
def test_tour_registrations_and_priority_bookings_are_limited_per_address(client, factory, app_config):
    factory.office  # noqa: B018
    registration = {"plate": "渝G12345", "owner_name": "张三", "phone": "13800138000"}
    url = "/api/v1/tours/999/stops/999/registrations"
    # Counted per attempt, whatever the answer: a bot probing stop ids is slowed down as well.
    assert client.post(url, json=registration, environ_base=ADDRESS_A).status_code == 404
    assert client.post(url, json=registration, environ_base=ADDRESS_A).status_code == 404
    assert_429(client.post(url, json=registration, environ_base=ADDRESS_A), "registrations from this address")
    assert_429(client.post("/api/v1/green-channel/priority-bookings", json={}, environ_base=ADDRESS_A),
               "registrations from this address")
    # Guessing cancel codes draws on the same budget.
    assert_429(client.post(f"{url}/1/cancel", json={"code": "GUESS123"}, environ_base=ADDRESS_A),
               "registrations from this address")
    assert client.post(url, json=registration, environ_base=ADDRESS_B).status_code == 404


@pytest.mark.parametrize("app_config", [{**ALL_OFF, "RATELIMIT_BOOKINGS_PER_CANDIDATE": "3 per minute"}])
def test_bookings_changes_and_cancellations_are_limited_per_candidate(client, factory, app_config):
    officer_headers = factory.headers(factory.staff("officer"))
    first = create_session(client, officer_headers, capacity=5)
    second = create_session(client, officer_headers, capacity=5)
    _one, one = candidate(factory)
    _two, two = candidate(factory)

    booked = client.post(f"/api/v1/test-sessions/{first['id']}/bookings", headers=one)
    assert booked.status_code == 201
    booking_id = booked.get_json()["id"]
    changed = client.post(f"/api/v1/bookings/{booking_id}/change", json={"session_id": second["id"]}, headers=one)
    assert changed.status_code == 200, changed.get_json()
    assert client.delete(f"/api/v1/bookings/{booking_id}", headers=one).status_code == 200
    # The fourth booking-related request from the same account within the minute is refused...
    assert_429(client.post(f"/api/v1/test-sessions/{first['id']}/bookings", headers=one), "from this account")
    # ...whatever address it comes from, while another candidate on the same address books freely.
    assert_429(client.post(f"/api/v1/test-sessions/{first['id']}/bookings", headers=one, environ_base=ADDRESS_B),
               "from this account")
    assert client.post(f"/api/v1/test-sessions/{first['id']}/bookings", headers=two).status_code == 201
    # Staff are not counted against anyone: an officer cancels for the office without a limit.
    other = client.get("/api/v1/bookings", headers=two).get_json()[0]["id"]
    for _ in range(2):
        assert client.delete(f"/api/v1/bookings/{other}", headers=officer_headers).status_code in (200, 409)


@pytest.mark.parametrize("app_config", [{**ALL_OFF, "RATELIMIT_LOGIN_PER_ADDRESS": "1 per minute",
                                         "RATELIMIT_ENABLED": False}])
def test_the_switch_turns_the_limits_off(client, factory, app_config):
    officer = factory.staff("officer")
    for _ in range(5):
        assert sign_in(client, officer.username).status_code == 200


LIMITED = [("/api/v1/auth/token", "post"), ("/api/v1/companies", "post"), ("/api/v1/candidates", "post"),
           ("/api/v1/tours/{tour_id}/stops/{stop_id}/registrations", "post"),
           ("/api/v1/tours/{tour_id}/stops/{stop_id}/registrations/{registration_id}/cancel", "post"),
           ("/api/v1/green-channel/priority-bookings", "post"),
           ("/api/v1/test-sessions/{session_id}/bookings", "post"),
           ("/api/v1/bookings/{booking_id}/change", "post"), ("/api/v1/bookings/{booking_id}", "delete")]


def test_every_limited_operation_documents_429_with_retry_after(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path, method in LIMITED:
        response = spec["paths"][path][method]["responses"]["429"]
        assert "Retry-After" in response["headers"], (path, method)
        assert response["content"]["application/json"]["schema"]["$ref"].endswith("/Error"), (path, method)


@pytest.mark.skipif(not REDIS_URL, reason="Redis storage: set VMO_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/15)")
@pytest.mark.parametrize("app_config", [{**ALL_OFF, "RATELIMIT_STORAGE_URI": REDIS_URL or "memory://",
                                         "RATELIMIT_LOGIN_PER_USERNAME": "2 per minute", "LOGIN_MAX_FAILURES": 2}])
def test_limits_and_lock_out_are_kept_in_redis_when_configured(app, client, factory, app_config):
    import redis

    from vmo.limits import limiter, lockout

    name = "redis-" + uuid.uuid4().hex[:8]
    assert sign_in(client, name, "wrong").status_code == 401
    assert sign_in(client, name, "wrong").status_code == 401
    assert sign_in(client, name).status_code == 429
    with app.app_context():
        assert type(limiter.storage).__name__ == "RedisStorage"
        assert type(lockout("127.0.0.1").lockout.storage).__name__ == "RedisStorage"
    # The counters really are in Redis: another server process would see the same lock.
    keys = redis.Redis.from_url(REDIS_URL).keys("*vmo/lockout/until/*")
    assert keys


@pytest.mark.parametrize("app_config", [{**ALL_OFF, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0",
                                         "RATELIMIT_LOGIN_PER_USERNAME": "3 per minute", "LOGIN_MAX_FAILURES": 2}])
def test_an_unreachable_redis_neither_stops_sign_in_nor_the_limits(client, factory, app_config):
    """Nothing listens on port 1: limits and the lock-out fall back to counting in memory, no 500."""
    officer, other = factory.staff("officer"), factory.staff("officer")
    assert sign_in(client, officer.username).status_code == 200
    assert sign_in(client, other.username, "wrong").status_code == 401
    assert sign_in(client, other.username, "wrong").status_code == 401
    assert sign_in(client, other.username).status_code == 429  # the lock-out, counted in memory
    assert sign_in(client, officer.username).status_code == 200
    assert sign_in(client, officer.username).status_code == 200
    assert_429(sign_in(client, officer.username), "for this username")  # the fourth in the minute


def test_the_lock_out_is_seen_by_every_worker_and_lifted_by_a_password_reset(app, client, factory, database_url,
                                                                                 runner):
    """The lock-out is shared by every worker: with `memory://` each gunicorn worker would count failures
    on its own, so after the lock parallel sign-ins would get 429 from one worker and 200 from another.
    Two apps on one database stand for two workers."""
    from tests.conftest import app_test_config
    from vmo import create_app
    from vmo.extensions import db

    user = factory.staff("officer")
    other_worker = create_app(app_test_config(database_url))
    try:
        for _ in range(settings.of(app, AuthSettings).max_failures):
            assert sign_in(client, user.username, "wrong-password").status_code == 401
        assert_429(sign_in(client, user.username), "too many failed sign-ins")
        assert_429(sign_in(other_worker.test_client(), user.username), "too many failed sign-ins")

        reset = runner.invoke(args=["users", "set-password", "--username", user.username,
                                    "--password", "a-new-password-2026"])
        assert reset.exit_code == 0, reset.output
        assert sign_in(other_worker.test_client(), user.username, "a-new-password-2026").status_code == 200
        assert sign_in(client, user.username).status_code == 401  # the old password is gone
    finally:
        with other_worker.app_context():
            db.engine.dispose()
