"""Sign-up of companies and candidates, staff accounts by an admin, and the error shape of the contract."""
import random
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD, make_credit_code, make_id_number
from vmo import validators
from vmo.accounts.models import Candidate, Company, User
from vmo.audit.models import AuditEntry
from vmo.extensions import db

RNG = random.Random(7)


def company_body(**fields):
    body = {"name": "南川区丰昌汽车服务有限公司", "credit_code": make_credit_code(RNG), "contact_name": "李明",
            "contact_phone": "13800138000", "username": f"co{RNG.randrange(10**8)}", "password": PASSWORD}
    body.update(fields)
    return body


def candidate_body(**fields):
    body = {"name": "王芳", "id_number": make_id_number(RNG), "phone": "13900139000", "license_class": "C1",
            "username": f"cand{RNG.randrange(10**8)}", "password": PASSWORD}
    body.update(fields)
    return body


def counts(app):
    with app.app_context():
        return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
                for model in (User, Company, Candidate, AuditEntry)}


def wrong_check_char(code: str, alphabet: str) -> str:
    return code[:17] + next(c for c in alphabet if c != code[17])


def assert_error(response, status, field=None, location="json"):
    body = response.get_json()
    assert response.status_code == status, body
    assert body["code"] == status
    assert isinstance(body["status"], str) and body["status"]
    assert isinstance(body["message"], str) and body["message"]
    if field is not None:
        assert list(body["errors"]) == [location]
        assert isinstance(body["errors"][location][field], list) and body["errors"][location][field]
    return body


# ---- companies -------------------------------------------------------------------------

def test_company_signup_returns_the_company(client, factory):
    factory.office  # noqa: B018
    body = company_body(username="fengchang", credit_code="91500119MA5U8Y0X2" + validators.credit_code_check_char(
        "91500119MA5U8Y0X2"))
    response = client.post("/api/v1/companies", json=body)
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert data["id"] >= 1
    assert {k: data[k] for k in ("name", "credit_code", "contact_name", "contact_phone", "username", "office")} == {
        "name": "南川区丰昌汽车服务有限公司", "credit_code": body["credit_code"], "contact_name": "李明",
        "contact_phone": "13800138000", "username": "fengchang", "office": "nanchuan"}
    assert "password" not in data and "password_hash" not in data
    # The new account can sign in as a company at once.
    token = client.post("/api/v1/auth/token", json={"username": "fengchang", "password": PASSWORD}).get_json()
    assert token["role"] == "company"


def test_company_signup_normalises_lower_case_credit_code_and_phone(client, factory):
    factory.office  # noqa: B018
    code = make_credit_code(RNG)
    response = client.post("/api/v1/companies", json=company_body(credit_code=code.lower(),
                                                                   contact_phone="+86 138-0013-8000"))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["credit_code"] == code
    assert response.get_json()["contact_phone"] == "13800138000"


def test_company_with_wrong_check_character_is_422_and_creates_nothing(app, client, factory):
    factory.office  # noqa: B018
    code = make_credit_code(RNG)
    bad = wrong_check_char(code, "0123456789ABCDEFGHJKLMNPQRTUWXY")
    before = counts(app)
    response = client.post("/api/v1/companies", json=company_body(credit_code=bad))
    body = assert_error(response, 422, "credit_code")
    assert body["errors"]["json"]["credit_code"] == [f"check character is {code[17]}, not {bad[17]}"]
    assert counts(app) == before


@pytest.mark.parametrize("field,value,status", [
    ("credit_code", "91500119MA5U8Y0X", 422),        # 16 characters
    ("credit_code", "9150011IMA5U8Y0X2A", 422),      # I is not in the alphabet
    ("contact_phone", "12345", 422),
    ("username", "a b", 422),
    ("password", "short", 422),
    ("name", "", 422),
])
def test_company_bad_fields_are_named(app, client, factory, field, value, status):
    factory.office  # noqa: B018
    before = counts(app)
    response = client.post("/api/v1/companies", json=company_body(**{field: value}))
    assert_error(response, status, field)
    assert counts(app) == before


def test_company_missing_fields_are_each_named(client, factory):
    factory.office  # noqa: B018
    body = assert_error(client.post("/api/v1/companies", json={"name": "x"}), 422)
    assert set(body["errors"]["json"]) == {"credit_code", "contact_name", "contact_phone", "username", "password"}
    assert all(msgs == ["Missing data for required field."] for msgs in body["errors"]["json"].values())


def test_duplicate_company_username_is_409_and_creates_nothing(app, client, factory):
    factory.office  # noqa: B018
    assert client.post("/api/v1/companies", json=company_body(username="dup-user")).status_code == 201
    before = counts(app)
    body = assert_error(client.post("/api/v1/companies", json=company_body(username="dup-user")), 409, "username")
    assert body["errors"]["json"]["username"] == ["already taken"]
    assert counts(app) == before


def test_duplicate_credit_code_is_409_even_in_lower_case(app, client, factory):
    factory.office  # noqa: B018
    code = make_credit_code(RNG)
    assert client.post("/api/v1/companies", json=company_body(credit_code=code)).status_code == 201
    before = counts(app)
    body = assert_error(client.post("/api/v1/companies", json=company_body(credit_code=code.lower())), 409,
                        "credit_code")
    assert body["errors"]["json"]["credit_code"] == ["already registered"]
    assert counts(app) == before


def test_company_username_taken_by_a_candidate_is_409(client, factory):
    factory.candidate(username="shared-name")
    assert_error(client.post("/api/v1/companies", json=company_body(username="shared-name")), 409, "username")


def test_signup_for_an_unknown_office_is_404(app, client, factory):
    factory.office  # noqa: B018
    before = counts(app)
    body = assert_error(client.post("/api/v1/companies", json=company_body(office="atlantis")), 404)
    assert body["message"] == "no office 'atlantis'"
    assert counts(app) == before


def test_signup_into_another_office(client, factory):
    factory.other_office()
    response = client.post("/api/v1/companies", json=company_body(office="fuling"))
    assert response.status_code == 201
    assert response.get_json()["office"] == "fuling"


def test_signup_is_audited(app, client, factory):
    factory.office  # noqa: B018
    response = client.post("/api/v1/companies", json=company_body(username="audited"))
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "company.signup"))
        assert entry.entity_id == str(response.get_json()["id"])
        assert entry.actor_username == "audited"
        assert entry.after["username"] == "audited"
        assert entry.request_id == response.headers["X-Request-ID"]


# ---- candidates ------------------------------------------------------------------------

@pytest.mark.parametrize("region", ["500119", "500384", "110101", "810000"])
def test_candidate_signup_accepts_real_region_codes(client, factory, region):
    factory.office  # noqa: B018
    number = make_id_number(RNG, region=region, birth=date(1990, 3, 1))
    response = client.post("/api/v1/candidates", json=candidate_body(id_number=number))
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    # The full number is personal data: only the region and the last four are shown.
    assert data["id_number"] == number[:6] + "********" + number[-4:]
    assert data["license_class"] == "C1" and data["name"] == "王芳" and data["office"] == "nanchuan"


def test_candidate_birth_date_and_sex_come_from_the_id_number(app, client, factory):
    factory.office  # noqa: B018
    number = make_id_number(RNG, birth=date(2000, 2, 29))
    body = candidate_body(id_number=number)
    factory.application(number, phone=body["phone"])
    assert client.post("/api/v1/candidates", json=body).status_code == 201
    factory.verify(body["username"])
    with app.app_context():
        candidate = db.session.scalar(select(Candidate).where(Candidate.id_number == number))
        assert candidate.birth_date == date(2000, 2, 29)
        assert candidate.id_number == number
        assert candidate.sex == ("M" if int(number[16]) % 2 else "F")


def test_candidate_lower_case_x_check_character_is_accepted(app, client, factory):
    factory.office  # noqa: B018
    rng = random.Random(1)
    while True:
        number = make_id_number(rng)
        if number.endswith("X"):
            break
    body = candidate_body(id_number=number.lower())
    factory.application(number, phone=body["phone"])
    response = client.post("/api/v1/candidates", json=body)
    assert response.status_code == 201, response.get_json()
    factory.verify(body["username"])
    with app.app_context():
        assert db.session.scalar(select(Candidate.id_number).join(User).where(User.username == body["username"])) \
            == number


@pytest.mark.parametrize("number,message", [
    (None, None),  # wrong check character, message computed below
    ("50011919950230123X", "birth date 1995-02-30 is not a real date"),
    ("500119203001011234", "birth date 2030-01-01 is in the future"),
    ("990119199501011234", "region code 990119 is not in a known province"),
    ("5001191995010112", "must be 18 characters"),
])
def test_candidate_bad_id_number_is_422_and_creates_nothing(app, client, factory, number, message):
    factory.office  # noqa: B018
    if number is None:
        good = make_id_number(RNG)
        number = wrong_check_char(good, "0123456789X")
        message = f"check character is {good[17]}, not {number[17]}"
    before = counts(app)
    body = assert_error(client.post("/api/v1/candidates", json=candidate_body(id_number=number)), 422, "id_number")
    if len(number) == 18:
        assert body["errors"]["json"]["id_number"] == [message]
    assert counts(app) == before


def test_candidate_id_number_check_uses_the_office_clock(app, client, factory):
    # Born on the frozen "today" (2026-11-25 in Chongqing) is not in the future.
    factory.office  # noqa: B018
    number = make_id_number(RNG, birth=date(2026, 11, 25))
    assert client.post("/api/v1/candidates", json=candidate_body(id_number=number)).status_code == 201
    tomorrow = make_id_number(RNG, birth=date(2026, 11, 26))
    assert_error(client.post("/api/v1/candidates", json=candidate_body(id_number=tomorrow)), 422, "id_number")


def test_candidate_unknown_licence_class_is_422(client, factory):
    factory.office  # noqa: B018
    assert_error(client.post("/api/v1/candidates", json=candidate_body(license_class="Z9")), 422, "license_class")


def test_duplicate_candidate_username_is_409(client, factory):
    factory.candidate(username="wangfang")
    assert_error(client.post("/api/v1/candidates", json=candidate_body(username="wangfang")), 409, "username")


def test_signup_rejects_a_non_object_body(client, factory):
    factory.office  # noqa: B018
    response = client.post("/api/v1/candidates", json=["not", "an", "object"])
    assert response.status_code == 422
    assert "json" in response.get_json()["errors"]


# ---- staff -----------------------------------------------------------------------------

def test_admin_creates_staff_with_a_supervisor(client, factory):
    admin = factory.staff("admin")
    factory.staff("supervisor", username="chen")
    response = client.post("/api/v1/staff", headers=factory.headers(admin), json={
        "username": "zhang", "password": PASSWORD, "role": "officer", "display_name": "张琼",
        "badge_number": "500123", "supervisor": "chen"})
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert {k: data[k] for k in ("username", "role", "display_name", "badge_number", "office", "supervisor")} == {
        "username": "zhang", "role": "officer", "display_name": "张琼", "badge_number": "500123",
        "office": "nanchuan", "supervisor": "chen"}
    me = client.get("/api/v1/me", headers=factory.headers("zhang")).get_json()
    assert me["supervisor"] == "chen" and me["role"] == "officer"


@pytest.mark.parametrize("role", ["supervisor", "officer", "company", "candidate"])
def test_only_an_admin_creates_staff(app, client, factory, role):
    if role == "company":
        user = factory.company()["username"]
    elif role == "candidate":
        user = factory.candidate()["username"]
    else:
        user = factory.staff(role)
    headers = factory.headers(user)  # a staff sign-in is itself audited: sign in before counting
    before = counts(app)
    response = client.post("/api/v1/staff", headers=headers,
                           json={"username": "sneaky", "password": PASSWORD, "role": "admin"})
    assert_error(response, 403)
    assert counts(app) == before


def test_staff_create_without_token_is_401(client, factory):
    factory.office  # noqa: B018
    response = client.post("/api/v1/staff", json={"username": "x", "password": PASSWORD, "role": "officer"})
    assert_error(response, 401)
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("body,field,status", [
    ({"role": "company"}, "role", 422),
    ({"supervisor": "nobody"}, "supervisor", 422),
    ({"password": "short"}, "password", 422),
])
def test_staff_create_bad_fields(app, client, factory, body, field, status):
    admin = factory.staff("admin")
    headers = factory.headers(admin)
    before = counts(app)
    response = client.post("/api/v1/staff", headers=headers,
                           json={"username": "newbie", "password": PASSWORD, "role": "officer", **body})
    assert_error(response, status, field)
    assert counts(app) == before


def test_staff_supervisor_must_be_a_supervisor_of_the_same_office(client, factory):
    admin = factory.staff("admin")
    factory.staff("officer", username="just-an-officer")
    factory.other_office()
    factory.staff("supervisor", username="fuling-chief", office="fuling")
    for name in ("just-an-officer", "fuling-chief"):
        response = client.post("/api/v1/staff", headers=factory.headers(admin),
                               json={"username": "x" + name, "password": PASSWORD, "role": "officer",
                                     "supervisor": name})
        body = assert_error(response, 422, "supervisor")
        assert body["errors"]["json"]["supervisor"] == [f"{name!r} is not a supervisor of this office"]


def test_staff_username_taken_is_409(client, factory):
    admin = factory.staff("admin")
    factory.company(username="taken")
    response = client.post("/api/v1/staff", headers=factory.headers(admin),
                           json={"username": "taken", "password": PASSWORD, "role": "officer"})
    assert_error(response, 409, "username")


def test_admin_of_one_office_creates_staff_in_that_office_only(client, factory):
    factory.other_office()
    admin = factory.staff("admin", office="fuling")
    response = client.post("/api/v1/staff", headers=factory.headers(admin),
                           json={"username": "fl-officer", "password": PASSWORD, "role": "officer"})
    assert response.status_code == 201
    assert response.get_json()["office"] == "fuling"


def test_staff_list_shows_only_the_own_office_staff(client, factory):
    officer = factory.staff("officer", username="nc-officer")
    factory.other_office()
    factory.staff("officer", username="fl-officer", office="fuling")
    factory.company()
    response = client.get("/api/v1/staff", headers=factory.headers(officer))
    assert response.status_code == 200
    assert [u["username"] for u in response.get_json()] == ["nc-officer"]
    assert '"total": 1' in response.headers["X-Pagination"]


def test_staff_list_is_forbidden_to_companies(client, factory):
    company = factory.company()
    assert_error(client.get("/api/v1/staff", headers=factory.headers(company["username"])), 403)


def test_offices_list_is_public(client, factory):
    factory.office  # noqa: B018
    response = client.get("/api/v1/offices")
    assert response.status_code == 200
    assert response.get_json() == [{"code": "nanchuan", "name": "南川区车管所", "timezone": "Asia/Shanghai",
                                     "plate_prefix": "渝G", "address": None, "phone": None}]
