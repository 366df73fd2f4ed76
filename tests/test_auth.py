"""Sign-in, bearer tokens (hashed, expiring, revocable), /me, roles and the lock-out after failed sign-ins."""
from datetime import datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from tests.conftest import FROZEN_NOW, PASSWORD
from vmo.accounts.models import Token, User
from vmo.audit.models import AuditEntry
from vmo.extensions import db

T0 = datetime.fromisoformat(FROZEN_NOW)


def at(app, moment: datetime) -> None:
    """Move the app's clock (the clock reads FROZEN_NOW on every call)."""
    app.config["FROZEN_NOW"] = moment.isoformat()


def sign_in(client, username, password=PASSWORD):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password})


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_token_has_the_contract_fields(client, factory):
    officer = factory.staff("officer")
    response = sign_in(client, officer.username)
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"token", "expires_at", "role"}
    assert body["role"] == "officer"
    assert len(body["token"]) >= 32
    # 12 hours by default, with an offset.
    assert datetime.fromisoformat(body["expires_at"]) == T0 + timedelta(hours=12)


def test_me_shows_the_account_and_its_profile(client, factory):
    company = factory.company(username="fengchang")
    response = client.get("/api/v1/me", headers=factory.headers("fengchang"))
    assert response.status_code == 200
    me = response.get_json()
    assert me["username"] == "fengchang" and me["role"] == "company" and me["office"] == "nanchuan"
    assert me["company"]["credit_code"] == company["credit_code"]
    assert me["candidate"] is None

    candidate = factory.candidate(username="wangfang")
    me = client.get("/api/v1/me", headers=factory.headers("wangfang")).get_json()
    assert me["candidate"]["id_number"] == candidate["id_number"] and me["company"] is None


def test_staff_me_has_badge_and_no_profile(client, factory):
    factory.staff("officer", username="zhang", badge_number="500123", display_name="张琼")
    me = client.get("/api/v1/me", headers=factory.headers("zhang")).get_json()
    assert (me["badge_number"], me["display_name"], me["company"], me["candidate"]) == ("500123", "张琼", None, None)


def test_wrong_password_and_unknown_user_answer_the_same(client, factory):
    factory.staff("officer", username="zhang")
    wrong = sign_in(client, "zhang", "wrong-password")
    unknown = sign_in(client, "nobody", "wrong-password")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert response.get_json()["message"] == "wrong username or password"


@pytest.mark.parametrize("header", [
    None, "Bearer", "Bearer ", "Bearer not-a-token", "Basic dXNlcjpwYXNz", "bearer",
])
def test_missing_or_bad_token_is_401(client, factory, header):
    factory.office  # noqa: B018
    headers = {"Authorization": header} if header is not None else {}
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    body = response.get_json()
    assert body["code"] == 401 and body["status"] == "Unauthorized" and body["message"]
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_scheme_is_case_insensitive(client, factory):
    factory.staff("officer", username="zhang")
    token = sign_in(client, "zhang").get_json()["token"]
    assert client.get("/api/v1/me", headers={"Authorization": f"bearer {token}"}).status_code == 200


def test_token_expires(app, client, factory):
    factory.staff("officer", username="zhang")
    token = sign_in(client, "zhang").get_json()["token"]
    at(app, T0 + timedelta(hours=11, minutes=59))
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    at(app, T0 + timedelta(hours=12))
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


@pytest.mark.parametrize("app_config", [{"TOKEN_TTL_HOURS": 1}])
def test_token_lifetime_is_configurable(app, client, factory, app_config):
    factory.staff("officer", username="zhang")
    body = sign_in(client, "zhang").get_json()
    assert datetime.fromisoformat(body["expires_at"]) == T0 + timedelta(hours=1)
    at(app, T0 + timedelta(hours=1, seconds=1))
    assert client.get("/api/v1/me", headers=bearer(body["token"])).status_code == 401


def test_logout_revokes_only_that_token(client, factory):
    factory.staff("officer", username="zhang")
    first = sign_in(client, "zhang").get_json()["token"]
    second = sign_in(client, "zhang").get_json()["token"]
    response = client.post("/api/v1/auth/logout", headers=bearer(first))
    assert response.status_code == 204 and response.data == b""
    assert client.get("/api/v1/me", headers=bearer(first)).status_code == 401
    assert client.post("/api/v1/auth/logout", headers=bearer(first)).status_code == 401
    assert client.get("/api/v1/me", headers=bearer(second)).status_code == 200


def test_logout_without_token_is_401(client, factory):
    factory.office  # noqa: B018
    assert client.post("/api/v1/auth/logout").status_code == 401


def test_tokens_are_stored_only_as_hashes(app, client, factory):
    factory.staff("officer", username="zhang")
    token = sign_in(client, "zhang").get_json()["token"]
    with app.app_context():
        rows = db.session.execute(select(Token.__table__)).mappings().all()
    assert len(rows) == 1
    for value in rows[0].values():
        assert token not in str(value)
    assert len(rows[0]["token_hash"]) == 64


def test_passwords_are_hashed_with_argon2id(app, factory):
    factory.staff("officer", username="zhang")
    with app.app_context():
        stored = db.session.scalar(select(User.password_hash).where(User.username == "zhang"))
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert PasswordHasher().verify(stored, PASSWORD)


def test_wrong_role_is_403(client, factory):
    company = factory.company()
    response = client.get("/api/v1/audit", headers=factory.headers(company["username"]))
    assert response.status_code == 403
    assert response.get_json()["message"] == "this needs the role admin or supervisor or officer"


def test_deactivated_user_cannot_sign_in_or_use_a_token(app, client, factory):
    factory.staff("officer", username="zhang")
    token = sign_in(client, "zhang").get_json()["token"]
    with app.app_context():
        db.session.scalar(select(User).where(User.username == "zhang")).active = False
        db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    assert sign_in(client, "zhang").status_code == 401


# ---- lock-out --------------------------------------------------------------------------

def test_lockout_after_repeated_failures_and_unlock_after_the_period(app, client, factory):
    factory.staff("officer", username="zhang")
    for _ in range(4):
        assert sign_in(client, "zhang", "wrong-password").status_code == 401
    # The fifth failure locks the name.
    assert sign_in(client, "zhang", "wrong-password").status_code == 401
    locked = sign_in(client, "zhang")
    assert locked.status_code == 429
    assert locked.get_json()["code"] == 429 and locked.get_json()["status"] == "Too Many Requests"
    assert int(locked.headers["Retry-After"]) == 15 * 60 + 1

    at(app, T0 + timedelta(minutes=10))
    again = sign_in(client, "zhang")
    assert again.status_code == 429
    assert int(again.headers["Retry-After"]) == 5 * 60 + 1

    at(app, T0 + timedelta(minutes=15, seconds=1))
    assert sign_in(client, "zhang").status_code == 200


def test_a_success_resets_the_failure_count(client, factory):
    factory.staff("officer", username="zhang")
    for _ in range(4):
        sign_in(client, "zhang", "wrong-password")
    assert sign_in(client, "zhang").status_code == 200
    for _ in range(4):
        assert sign_in(client, "zhang", "wrong-password").status_code == 401
    assert sign_in(client, "zhang").status_code == 200


def test_lockout_is_per_username_and_audited(app, client, factory):
    factory.staff("officer", username="zhang")
    factory.staff("officer", username="liu")
    for _ in range(5):
        sign_in(client, "zhang", "wrong-password")
    assert sign_in(client, "zhang").status_code == 429
    assert sign_in(client, "liu").status_code == 200
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.locked"))
        assert entry.entity == "user"
        assert datetime.fromisoformat(entry.after["locked_until"]) == T0 + timedelta(minutes=15)


def test_wrong_passwords_from_elsewhere_never_lock_the_owner_out(app, client, factory):
    """The lock-out counts per (username, address): five wrong passwords for officer2 from another machine
    lock that machine out of officer2, not officer2 at their own desk."""
    factory.staff("officer", username="officer2")
    elsewhere, desk = {"REMOTE_ADDR": "203.0.113.66"}, {"REMOTE_ADDR": "10.8.0.12"}
    for _ in range(5):
        assert client.post("/api/v1/auth/token", json={"username": "officer2", "password": "wrong-password"},
                           environ_base=elsewhere).status_code == 401
    locked = client.post("/api/v1/auth/token", json={"username": "officer2", "password": PASSWORD},
                         environ_base=elsewhere)
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) == 15 * 60 + 1
    own = client.post("/api/v1/auth/token", json={"username": "officer2", "password": PASSWORD}, environ_base=desk)
    assert own.status_code == 200
    # Five wrong at the desk lock the desk too: each address counts its own.
    for _ in range(5):
        client.post("/api/v1/auth/token", json={"username": "officer2", "password": "wrong"}, environ_base=desk)
    assert client.post("/api/v1/auth/token", json={"username": "officer2", "password": PASSWORD},
                       environ_base=desk).status_code == 429


@pytest.mark.parametrize("app_config", [{"LOGIN_MAX_FAILURES": 2, "LOGIN_LOCK_MINUTES": 1}])
def test_lockout_settings_are_configurable(app, client, factory, app_config):
    factory.staff("officer", username="zhang")
    sign_in(client, "zhang", "wrong-password")
    sign_in(client, "zhang", "wrong-password")
    response = sign_in(client, "zhang")
    assert response.status_code == 429 and int(response.headers["Retry-After"]) == 61


def test_token_request_validation(client, factory):
    factory.office  # noqa: B018
    response = client.post("/api/v1/auth/token", json={"username": "zhang"})
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"json": {"password": ["Missing data for required field."]}}


def test_an_unknown_username_costs_the_same_argon2_work_as_a_real_one(client, factory, monkeypatch):
    """A sign-in must not tell which usernames exist by its timing. The dummy hash for unknown names was
    once made on every call (setdefault evaluates its argument), so an unknown name took a hash and a
    verify, twice a real name's time."""
    user = factory.staff("officer")
    client.post("/api/v1/auth/token", json={"username": "warm-up-unknown", "password": "x"})
    calls = []
    for name in ("hash", "verify"):
        real = getattr(PasswordHasher, name)
        monkeypatch.setattr(PasswordHasher, name,
                            lambda self, *a, _real=real, _name=name, **kw: calls.append(_name) or _real(self, *a, **kw))

    def work(username):
        calls.clear()
        response = client.post("/api/v1/auth/token", json={"username": username, "password": "wrong-password"})
        assert response.status_code == 401
        return list(calls)

    assert work(user.username) == ["verify"]
    assert work("no-such-user") == ["verify"]
    assert work("another-unknown-name") == ["verify"]
