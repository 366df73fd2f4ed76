"""A candidate account is bound to the office's acceptance (受理), and its codes cannot be abused.

An account opens only for an ID number with an accepted application, and only with the code texted to
the phone recorded at acceptance. Every other sign-up gets the same 201 pending answer and no code, never
opens, never blocks the owner, and lapses after 24 hours (FROZEN_NOW: 2026-11-25 10:00 in Chongqing).
"""
import hashlib
import hmac
import logging
import re
import threading
from datetime import datetime, timedelta

from sqlalchemy import func, select

from tests.conftest import FROZEN_NOW, PASSWORD, make_id_number
from vmo.accounts.models import Candidate, CandidateSignup, User
from vmo.extensions import db
from vmo.notify.models import OutboxMessage

ACCEPTED_PHONE = "13911112222"
TYPED_PHONE = "13822223333"
T0 = datetime.fromisoformat(FROZEN_NOW)


def _body(factory, username, id_number=None, phone=TYPED_PHONE):
    factory.office  # noqa: B018  (the default office exists)
    return {"name": "王芳", "id_number": id_number or make_id_number(factory.rng), "phone": phone,
            "license_class": "C1", "username": username, "password": PASSWORD}


def _sign_up(client, factory, username, id_number=None, phone=TYPED_PHONE, **kw):
    return client.post("/api/v1/candidates", json=_body(factory, username, id_number, phone), **kw)


def _texts(app, phone=None, kind=None):
    with app.app_context():
        stmt = select(OutboxMessage.body)
        if phone:
            stmt = stmt.where(OutboxMessage.phone == phone)
        if kind:
            stmt = stmt.where(OutboxMessage.kind == kind)
        return list(db.session.scalars(stmt.order_by(OutboxMessage.id)))


def _sign_in(client, username, password=PASSWORD):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password})


def _verify(client, username, code, password=PASSWORD):
    return client.post("/api/v1/candidates/verify", json={"username": username, "password": password, "code": code})


def _without(body: dict, *keys) -> dict:
    return {k: v for k, v in body.items() if k not in keys}


def _at(app, delta: timedelta) -> None:
    app.config["FROZEN_NOW"] = (T0 + delta).isoformat()


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


# ---- bound to the acceptance ------------------------------------------------------------------------

def test_every_sign_up_is_answered_alike_and_only_an_accepted_one_gets_a_code(app, client, factory):
    accepted = make_id_number(factory.rng)
    factory.application(accepted, phone=ACCEPTED_PHONE)
    owner = factory.candidate(username="owner", phone="13955556666")
    with app.app_context():
        has_account = db.session.scalar(select(Candidate.id_number).where(Candidate.id == owner["id"]))
    before = {phone: len(_texts(app, phone)) for phone in (ACCEPTED_PHONE, TYPED_PHONE, "13955556666")}

    answers = [_sign_up(client, factory, "a-accepted", accepted), _sign_up(client, factory, "a-unknown"),
               _sign_up(client, factory, "a-has-account", has_account)]
    assert [a.status_code for a in answers] == [201, 201, 201]
    bodies = [_without(a.get_json(), "username", "id_number") for a in answers]
    assert bodies[0] == bodies[1] == bodies[2]
    assert bodies[0]["status"] == "pending" and bodies[0]["phone"] == "138****3333"
    assert "受理时登记的手机" in bodies[0]["message"] and "3333" not in bodies[0]["message"]

    # The code goes to the phone recorded at acceptance, never to the phone typed.
    assert len(_texts(app, ACCEPTED_PHONE, "candidate_code")) == 1
    assert _texts(app, TYPED_PHONE) == []
    # The ID number with an account: no code anywhere, its owner told once.
    told = _texts(app, "13955556666")[before["13955556666"]:]
    assert len(told) == 1 and "有人用您的身份证号申请考试账号" in told[0]

    # Signing in before the code: the same 403 for all three (only after the right password).
    refused = [_sign_in(client, name) for name in ("a-accepted", "a-unknown", "a-has-account")]
    assert {r.status_code for r in refused} == {403}
    assert _without(refused[0].get_json(), "request_id") == _without(refused[1].get_json(), "request_id") \
        == _without(refused[2].get_json(), "request_id")
    assert refused[0].get_json()["reason"] == "phone_unverified" and refused[0].get_json()["phone"] == "138****3333"
    assert _sign_in(client, "a-unknown", "not-the-password").status_code == 401


def test_the_accepted_sign_up_opens_with_its_code_and_takes_the_acceptance_s_phone_and_name(app, client, factory):
    number = make_id_number(factory.rng)
    factory.application(number, phone=ACCEPTED_PHONE, name="王芳芳")
    assert _sign_up(client, factory, "newcomer", number).status_code == 201
    code = factory.texted_code("newcomer")
    assert "验证码" + code in _texts(app, ACCEPTED_PHONE, "candidate_code")[0]
    opened = _verify(client, "newcomer", f" {code} ")
    assert opened.status_code == 200, opened.get_json()
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {opened.get_json()['token']}"}).get_json()
    assert me["candidate"]["phone"] == ACCEPTED_PHONE and me["candidate"]["name"] == "王芳芳"
    assert _sign_in(client, "newcomer").status_code == 200
    assert _verify(client, "newcomer", code).status_code == 200  # a retried request: a sign-in
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CandidateSignup)) == 0


def test_a_sign_up_before_acceptance_never_opens_until_the_office_accepts(app, client, factory):
    number = make_id_number(factory.rng)
    assert _sign_up(client, factory, "early", number).status_code == 201
    for code in ("000000", "123456", "999999"):
        refused = _verify(client, "early", code)
        assert refused.status_code == 422 and refused.get_json()["reason"] == "wrong_code"
    assert _texts(app, kind="candidate_code") == []
    # The office accepts the application; coming back from the counter, the person signs in: their
    # sign-up's (empty) code has expired, so a code is texted, to the phone recorded at acceptance.
    officer = factory.headers(factory.staff("officer"))
    assert client.post("/api/v1/applications", headers=officer, json={
        "id_number": number, "name": "王芳", "phone": ACCEPTED_PHONE, "license_class": "C1",
        "medical_on": "2026-11-20"}).status_code == 201
    _at(app, timedelta(minutes=40))
    assert _sign_in(client, "early").status_code == 403
    assert len(_texts(app, ACCEPTED_PHONE, "candidate_code")) == 1
    assert _verify(client, "early", factory.texted_code("early")).status_code == 200


def test_squatting_gains_nothing(app, client, factory):
    """Someone types another person's ID number first, with their own phone, and takes the username the
    owner wanted: no code reaches them, the owner's own sign-up opens, and after 24 hours the squatter's
    sign-up is gone and the username free."""
    number = make_id_number(factory.rng)
    factory.application(number, phone=ACCEPTED_PHONE)
    squatter = _sign_up(client, factory, "wangfang", number, phone=TYPED_PHONE)
    assert squatter.status_code == 201
    assert _texts(app, TYPED_PHONE) == []  # whatever was texted went to the owner's accepted phone
    for code in ("000000", "123456", "654321"):
        assert _verify(client, "wangfang", code).status_code == 422

    taken = _sign_up(client, factory, "wangfang", number, phone=ACCEPTED_PHONE)
    assert taken.status_code == 409  # a username is not personal data
    assert _sign_up(client, factory, "wangfang-2", number, phone=ACCEPTED_PHONE).status_code == 201
    assert _verify(client, "wangfang-2", factory.texted_code("wangfang-2")).status_code == 200
    # Even the squatter's own code (texted to the owner's phone) can no longer open anything.
    late = _verify(client, "wangfang", factory.texted_code("wangfang"))
    assert late.status_code == 422 and late.get_json()["reason"] == "wrong_code"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Candidate).where(Candidate.id_number == number)) == 1

    # 24 hours less a second: still pending and the name still held; at 24 hours it lapses.
    _at(app, timedelta(hours=24, seconds=-1))
    assert _sign_up(client, factory, "wangfang", phone=TYPED_PHONE).status_code == 409
    _at(app, timedelta(hours=24))
    assert _sign_in(client, "wangfang").status_code == 401
    assert _sign_up(client, factory, "wangfang", phone=TYPED_PHONE).status_code == 201
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User).where(User.username == "wangfang")) == 1


def test_two_sign_ups_of_one_accepted_number_the_second_to_verify_is_refused_and_the_owner_told(app, client,
                                                                                                 factory):
    number = make_id_number(factory.rng)
    factory.application(number, phone=ACCEPTED_PHONE)
    assert _sign_up(client, factory, "first", number).status_code == 201
    assert _sign_up(client, factory, "second", number).status_code == 201
    second_code = factory.texted_code("second")
    assert _verify(client, "first", factory.texted_code("first")).status_code == 200
    before = len(_texts(app, ACCEPTED_PHONE))
    late = _verify(client, "second", second_code)
    assert late.status_code == 422 and late.get_json()["reason"] == "wrong_code"
    assert "有人用您的身份证号" in _texts(app, ACCEPTED_PHONE)[before]


# ---- codes that cannot be abused ------------------------------------------------------------------

def test_five_wrong_codes_spend_the_code_and_the_next_sign_in_texts_a_new_one(app, client, factory):
    factory.application(number := make_id_number(factory.rng), phone=ACCEPTED_PHONE)
    assert _sign_up(client, factory, "newcomer", number).status_code == 201
    first = factory.texted_code("newcomer")
    for _ in range(5):
        assert _verify(client, "newcomer", _wrong(first)).status_code == 422
    assert _verify(client, "newcomer", first).status_code == 422  # spent
    assert _sign_in(client, "newcomer").status_code == 403
    assert len(_texts(app, ACCEPTED_PHONE, "candidate_code")) == 2
    assert _verify(client, "newcomer", factory.texted_code("newcomer")).status_code == 200


def test_an_expired_code_is_refused_and_a_sign_in_texts_a_new_one(app, client, factory):
    factory.application(number := make_id_number(factory.rng), phone=ACCEPTED_PHONE)
    assert _sign_up(client, factory, "newcomer", number).status_code == 201
    first = factory.texted_code("newcomer")
    assert _sign_in(client, "newcomer").status_code == 403
    assert len(_texts(app, ACCEPTED_PHONE, "candidate_code")) == 1  # still good: no new text
    _at(app, timedelta(minutes=15))
    assert _verify(client, "newcomer", first).status_code == 422
    assert _sign_in(client, "newcomer").status_code == 403
    assert _verify(client, "newcomer", factory.texted_code("newcomer")).status_code == 200


def test_at_most_five_code_requests_per_id_number_a_day_alike_for_every_number(app, client, factory):
    accepted, unknown = make_id_number(factory.rng), make_id_number(factory.rng)
    factory.application(accepted, phone=ACCEPTED_PHONE)
    for number, tag in ((accepted, "acc"), (unknown, "unk")):
        for n in range(5):
            assert _sign_up(client, factory, f"{tag}-{n}", number).status_code == 201
    over = [_sign_up(client, factory, "acc-6", accepted), _sign_up(client, factory, "unk-6", unknown)]
    assert [o.status_code for o in over] == [429, 429]
    assert over[0].get_json()["reason"] == over[1].get_json()["reason"] == "too_many_codes"
    assert over[0].headers["Retry-After"] == over[1].headers["Retry-After"] == str(24 * 3600 + 1)
    assert len(_texts(app, ACCEPTED_PHONE, "candidate_code")) == 5
    # A day after the first, the window lets one more through.
    _at(app, timedelta(hours=24, seconds=-1))
    assert _sign_up(client, factory, "acc-7", accepted).status_code == 429
    _at(app, timedelta(hours=24))
    assert _sign_up(client, factory, "acc-8", accepted).status_code == 201


def test_at_most_five_codes_to_one_phone_a_day(app, client, factory):
    """Two children accepted with a parent's phone: the phone gets five codes in a day, not more."""
    one, two = make_id_number(factory.rng), make_id_number(factory.rng)
    for number in (one, two):
        factory.application(number, phone=ACCEPTED_PHONE)
    for n in range(3):
        assert _sign_up(client, factory, f"one-{n}", one).status_code == 201
    for n in range(2):
        assert _sign_up(client, factory, f"two-{n}", two).status_code == 201
    over = _sign_up(client, factory, "two-3", two)
    assert over.status_code == 429 and int(over.headers["Retry-After"]) == 24 * 3600 + 1
    assert len(_texts(app, ACCEPTED_PHONE, "candidate_code")) == 5


def test_parallel_wrong_codes_each_count(app, client, factory, backend):
    """Sixteen wrong codes at once count sixteen tries (each a single UPDATE), and the right code is spent."""
    factory.application(number := make_id_number(factory.rng), phone=ACCEPTED_PHONE)
    assert _sign_up(client, factory, "racer", number).status_code == 201
    code = factory.texted_code("racer")
    start = threading.Barrier(16)
    statuses = []

    def guess():
        start.wait()
        statuses.append(_verify(app.test_client(), "racer", _wrong(code)).status_code)

    threads = [threading.Thread(target=guess) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [422] * 16
    with app.app_context():
        assert db.session.scalar(select(CandidateSignup.tries)) == 16
    assert _verify(client, "racer", code).status_code == 422


def test_no_code_can_be_recomputed_from_what_staff_read(app, client, factory, caplog):
    factory.application(number := make_id_number(factory.rng), phone=ACCEPTED_PHONE)
    caplog.set_level(logging.DEBUG)
    assert _sign_up(client, factory, "newcomer", number).status_code == 201
    code = factory.texted_code("newcomer")
    assert app.test_cli_runner().invoke(args=["sms", "send"]).exit_code == 0
    staff = factory.headers(factory.staff())
    outbox = client.get("/api/v1/sms/outbox?kind=candidate_code", headers=staff).get_json()
    audit = client.get("/api/v1/audit", headers=staff).get_json()
    [message] = outbox
    assert "验证码****" in message["body"]
    with app.app_context():
        signup = db.session.scalar(select(CandidateSignup))
        key = db.session.scalar(select(OutboxMessage.key).where(OutboxMessage.kind == "candidate_code"))
        stored = signup.code_hash
        signup_id = signup.id
    readable = str(outbox) + str(audit) + caplog.text + key
    assert code not in readable
    # Nothing unkeyed derives from the code: not the old sha256(id:code), not a plain hash of it.
    for guess in (f"{signup_id}:{code}", code, f"signup:{signup_id}:{code}"):
        digest = hashlib.sha256(guess.encode()).hexdigest()
        assert digest[:16] not in readable and digest != stored
    # The stored hash is keyed with the app's secret (so only the server can check a code).
    assert stored == hmac.new(b"test", f"signup:{signup_id}:{code}".encode(), hashlib.sha256).hexdigest()
    assert re.fullmatch(rf"candidate_code:{signup_id}:[0-9a-f]{{16}}", key)


# ---- a forgotten password ---------------------------------------------------------------------------

def _reset(client, id_number):
    return client.post("/api/v1/candidates/password-reset", json={"id_number": id_number})


def _confirm(client, id_number, code, password="a-new-password-2026"):
    return client.post("/api/v1/candidates/password-reset/confirm",
                       json={"id_number": id_number, "code": code, "password": password})


def _reset_code(app):
    body = _texts(app, kind="candidate_reset_code")[-1]
    return re.search(r"验证码(\d{6})", body).group(1)


def test_a_forgotten_password_comes_back_with_a_code_to_the_accepted_phone(app, client, factory):
    number = make_id_number(factory.rng)
    me = factory.candidate(username="forgetful", id_number=number, phone=ACCEPTED_PHONE)
    old = factory.headers("forgetful")
    stranger = make_id_number(factory.rng)
    asked, unknown = _reset(client, number), _reset(client, stranger)
    assert asked.status_code == unknown.status_code == 202
    assert asked.get_json() == unknown.get_json()
    assert "受理时登记的手机" in asked.get_json()["message"]
    assert len(_texts(app, ACCEPTED_PHONE, "candidate_reset_code")) == 1
    assert len(_texts(app, kind="candidate_reset_code")) == 1  # nothing for the number without an account

    wrong_known, wrong_unknown = _confirm(client, number, "000000"), _confirm(client, stranger, "000000")
    assert wrong_known.status_code == wrong_unknown.status_code == 422
    assert _without(wrong_known.get_json(), "request_id") == _without(wrong_unknown.get_json(), "request_id")

    done = _confirm(client, number, _reset_code(app))
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["username"] == "forgetful" and done.get_json()["role"] == "candidate"
    assert client.get("/api/v1/me", headers=old).status_code == 401  # every other session ended
    assert _sign_in(client, "forgetful").status_code == 401
    assert _sign_in(client, "forgetful", "a-new-password-2026").status_code == 200
    assert _confirm(client, number, _reset_code(app)).status_code == 422  # used once
    assert me["phone"] == ACCEPTED_PHONE


def test_a_reset_code_allows_five_tries(app, client, factory):
    number = make_id_number(factory.rng)
    factory.candidate(username="forgetful", id_number=number, phone=ACCEPTED_PHONE)
    assert _reset(client, number).status_code == 202
    code = _reset_code(app)
    for _ in range(5):
        assert _confirm(client, number, _wrong(code)).status_code == 422
    assert _confirm(client, number, code).status_code == 422
    assert _sign_in(client, "forgetful").status_code == 200  # the password is unchanged


def test_officers_never_read_a_code_in_the_outbox(client, factory):
    factory.application(number := make_id_number(factory.rng), phone=ACCEPTED_PHONE)
    assert _sign_up(client, factory, "newcomer", number).status_code == 201
    code = factory.texted_code("newcomer")
    listed = client.get("/api/v1/sms/outbox?kind=candidate_code", headers=factory.headers(factory.staff()))
    [message] = listed.get_json()
    assert code not in message["body"] and "验证码****" in message["body"]
