"""A candidate's public sign-up never confirms that an ID number has an account: a stranger
must not learn that a person is registered.

The sign-up is accepted alike (201, same keys, same words); the account opens only when the code texted
to the phone given comes back. When the ID number already has an account, no code is sent: the existing
account's phone is told instead, and the new account can never open.
"""
from datetime import datetime, timedelta

from sqlalchemy import func, select

from tests.conftest import FROZEN_NOW, PASSWORD, make_id_number
from vmo.accounts.models import Candidate, CandidateSignup, User
from vmo.extensions import db
from vmo.notify.models import OutboxMessage

OWNER_PHONE = "13911112222"
STRANGER_PHONE = "13822223333"


def _body(factory, username, id_number=None, phone=STRANGER_PHONE):
    factory.office  # noqa: B018  (the default office exists)
    return {"name": "王芳", "id_number": id_number or make_id_number(factory.rng), "phone": phone,
            "license_class": "C1", "username": username, "password": PASSWORD}


def _texts(app, phone, kind=None):
    with app.app_context():
        stmt = select(OutboxMessage.body).where(OutboxMessage.phone == phone)
        if kind:
            stmt = stmt.where(OutboxMessage.kind == kind)
        return list(db.session.scalars(stmt.order_by(OutboxMessage.id)))


def _sign_in(client, username, password=PASSWORD):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password})


def _verify(client, username, code, password=PASSWORD):
    return client.post("/api/v1/candidates/verify", json={"username": username, "password": password, "code": code})


def _without(body: dict, *keys) -> dict:
    return {k: v for k, v in body.items() if k not in keys}


def test_a_taken_id_number_answers_like_a_fresh_sign_up_and_its_owner_is_told(app, client, factory):
    owner = factory.candidate(username="owner", phone=OWNER_PHONE)
    with app.app_context():
        number = db.session.scalar(select(Candidate.id_number).where(Candidate.id == owner["id"]))
    owner_texts = len(_texts(app, OWNER_PHONE))

    taken = client.post("/api/v1/candidates", json=_body(factory, "stranger", id_number=number))
    fresh = client.post("/api/v1/candidates", json=_body(factory, "newcomer"))
    assert (taken.status_code, fresh.status_code) == (201, 201), (taken.get_json(), fresh.get_json())
    # Nothing in the answer tells them apart but what the caller typed.
    assert _without(taken.get_json(), "username", "id_number") == _without(fresh.get_json(), "username", "id_number")
    assert taken.get_json()["status"] == "pending" and "1234" not in taken.get_json()["message"]
    assert taken.get_json()["phone"] == "138****3333"

    # The owner's phone is told (once); the stranger's phone gets no code, the newcomer's does.
    told = _texts(app, OWNER_PHONE)[owner_texts:]
    assert len(told) == 1 and "有人用您的身份证号申请考试账号" in told[0] and "未予开通" in told[0]
    codes = _texts(app, STRANGER_PHONE, "candidate_code")
    assert len(codes) == 1 and factory.texted_code("newcomer") in codes[0]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Candidate)
                                 .where(Candidate.id_number == number)) == 1


def test_the_duplicate_can_never_sign_in_or_act_as_the_owner(app, client, factory):
    owner = factory.candidate(username="owner", phone=OWNER_PHONE)
    with app.app_context():
        number = db.session.scalar(select(Candidate.id_number).where(Candidate.id == owner["id"]))
    assert client.post("/api/v1/candidates", json=_body(factory, "stranger", id_number=number)).status_code == 201
    assert client.post("/api/v1/candidates", json=_body(factory, "newcomer")).status_code == 201

    # Signing in before the code: the same 403 for both (only after the right password).
    taken, fresh = _sign_in(client, "stranger"), _sign_in(client, "newcomer")
    assert (taken.status_code, fresh.status_code) == (403, 403)
    assert _without(taken.get_json(), "request_id") == _without(fresh.get_json(), "request_id")
    assert taken.get_json()["reason"] == "phone_unverified"
    # A wrong password is the ordinary wrong sign-in, for the duplicate as for anyone.
    assert _sign_in(client, "stranger", "not-the-password").status_code == 401
    assert _verify(client, "stranger", "123456", "not-the-password").status_code == 401

    # No code opens the duplicate: every one is "wrong", as a wrong code is for the newcomer.
    wrong = _verify(client, "newcomer", "000000" if factory.texted_code("newcomer") != "000000" else "111111")
    for code in ("000000", "123456", "999999", "111111", "222222", "333333"):
        refused = _verify(client, "stranger", code)
        assert refused.status_code == 422 and refused.get_json()["errors"] == wrong.get_json()["errors"]
    # A spent code makes the sign-in text a new one, but never for the duplicate.
    assert _sign_in(client, "stranger").status_code == 403
    assert _texts(app, STRANGER_PHONE, "candidate_code") == _texts(app, STRANGER_PHONE, "candidate_code")[:1]
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "stranger"))
        assert user.active is False
        assert db.session.scalar(select(func.count()).select_from(Candidate).where(Candidate.user_id == user.id)) == 0
    # The owner's account is untouched and still signs in.
    assert _sign_in(client, "owner").status_code == 200


def test_a_fresh_sign_up_opens_with_its_code_and_books_like_before(app, client, factory):
    body = _body(factory, "newcomer")
    assert client.post("/api/v1/candidates", json=body).status_code == 201
    assert _sign_in(client, "newcomer").status_code == 403
    code = factory.texted_code("newcomer")
    assert "验证码" + code in _texts(app, STRANGER_PHONE, "candidate_code")[0]
    opened = _verify(client, "newcomer", f" {code} ")
    assert opened.status_code == 200, opened.get_json()
    assert opened.get_json()["role"] == "candidate"
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {opened.get_json()['token']}"}).get_json()
    assert me["candidate"]["name"] == "王芳" and me["candidate"]["phone"] == STRANGER_PHONE
    assert me["candidate"]["id_number"].startswith(body["id_number"][:6])
    assert _sign_in(client, "newcomer").status_code == 200
    # Entering the code again (a retried request) is a sign-in, not an error.
    assert _verify(client, "newcomer", code).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CandidateSignup)) == 0  # nothing kept pending


def test_five_wrong_codes_spend_the_code_and_the_next_sign_in_texts_a_new_one(app, client, factory):
    assert client.post("/api/v1/candidates", json=_body(factory, "newcomer")).status_code == 201
    first = factory.texted_code("newcomer")
    wrong = "000000" if first != "000000" else "111111"
    for _ in range(5):
        assert _verify(client, "newcomer", wrong).status_code == 422
    assert _verify(client, "newcomer", first).status_code == 422  # spent
    assert _sign_in(client, "newcomer").status_code == 403
    assert len(_texts(app, STRANGER_PHONE, "candidate_code")) == 2
    assert _verify(client, "newcomer", factory.texted_code("newcomer")).status_code == 200


def test_an_expired_code_is_refused_and_a_sign_in_texts_a_new_one(app, client, factory):
    assert client.post("/api/v1/candidates", json=_body(factory, "newcomer")).status_code == 201
    first = factory.texted_code("newcomer")
    assert _sign_in(client, "newcomer").status_code == 403
    assert len(_texts(app, STRANGER_PHONE, "candidate_code")) == 1  # the code is still good: no new text
    app.config["FROZEN_NOW"] = (datetime.fromisoformat(FROZEN_NOW) + timedelta(minutes=16)).isoformat()
    assert _verify(client, "newcomer", first).status_code == 422
    assert _sign_in(client, "newcomer").status_code == 403
    assert _verify(client, "newcomer", factory.texted_code("newcomer")).status_code == 200


def test_two_sign_ups_of_one_new_id_number_the_second_to_verify_is_refused_and_the_first_told(app, client, factory):
    number = make_id_number(factory.rng)
    assert client.post("/api/v1/candidates", json=_body(factory, "first", number, OWNER_PHONE)).status_code == 201
    assert client.post("/api/v1/candidates", json=_body(factory, "second", number)).status_code == 201
    second_code = factory.texted_code("second")  # neither held the number yet: both got a code
    assert _verify(client, "first", factory.texted_code("first")).status_code == 200
    before = len(_texts(app, OWNER_PHONE))
    late = _verify(client, "second", second_code)
    assert late.status_code == 422 and late.get_json()["reason"] == "wrong_code"
    assert "有人用您的身份证号" in _texts(app, OWNER_PHONE)[before]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Candidate)
                                 .where(Candidate.id_number == number)) == 1


def test_a_pending_sign_up_does_not_hold_the_id_number(app, client, factory):
    """Someone who signs up with another's number and never verifies does not lock its owner out."""
    number = make_id_number(factory.rng)
    assert client.post("/api/v1/candidates", json=_body(factory, "squatter", number)).status_code == 201
    owner = factory.candidate(username="owner", id_number=number, phone=OWNER_PHONE)
    assert owner["phone"] == OWNER_PHONE
    assert _verify(client, "squatter", factory.texted_code("squatter")).status_code == 422


def test_officers_never_read_a_sign_up_code_in_the_outbox(client, factory):
    assert client.post("/api/v1/candidates", json=_body(factory, "newcomer")).status_code == 201
    code = factory.texted_code("newcomer")
    listed = client.get("/api/v1/sms/outbox?kind=candidate_code", headers=factory.headers(factory.staff()))
    [message] = listed.get_json()
    assert code not in message["body"] and "验证码****" in message["body"]
