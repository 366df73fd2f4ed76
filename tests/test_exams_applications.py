"""Acceptance (受理) before anything scarce: the office accepts an application for a class, and every
booking, subject 1 included, needs one (FROZEN_NOW: 2026-11-25 10:00 in Chongqing)."""
import random
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD, make_id_number
from tests.helpers_exams import book, by_subject, create_session, exam_officer
from vmo.extensions import db

TODAY = date(2026, 11, 25)


@pytest.fixture
def officer_headers(factory):
    return factory.headers(exam_officer(factory))


def body(id_number=None, license_class="C1", medical_on=TODAY - timedelta(days=10), **extra):
    return {"id_number": id_number or make_id_number(random.Random(7)), "name": "王芳", "phone": "13900139000",
            "license_class": license_class, "medical_on": medical_on.isoformat(), **extra}


def born(day: date, serial: str = "123") -> str:
    return make_id_number(random.Random(serial), birth=day)


def accept(client, headers, **fields):
    return client.post("/api/v1/applications", json=body(**fields), headers=headers)


def test_an_accepted_application_is_answered_masked_and_to_the_second(app, client, factory, officer_headers):
    number = born(date(1995, 6, 12))
    response = accept(client, officer_headers, id_number=number, school="南川驾校",
                      accepted_at="2026-11-25T01:30:15.734+00:00")
    assert response.status_code == 201, response.get_json()
    answer = response.get_json()
    assert answer == {"id": answer["id"], "office": "nanchuan", "name": "王芳",
                      "id_number": number[:6] + "********" + number[-4:], "phone": "139****9000",
                      "license_class": "C1", "birth_date": "1995-06-12", "medical_on": "2026-11-15",
                      "school": "南川驾校", "accepted_at": "2026-11-25T09:30:15+08:00", "source": "counter"}
    # Default: now, to the second, in office time.
    other = accept(client, officer_headers, id_number=born(date(1990, 1, 1), "9")).get_json()
    assert other["accepted_at"] == "2026-11-25T10:00:00+08:00"
    # Staff find it by ID number, masked as in every staff answer; the audit masks it too.
    listed = client.get(f"/api/v1/applications?id_number={number}", headers=officer_headers).get_json()
    assert listed == [answer]
    audit = client.get("/api/v1/audit?action=application.accept", headers=officer_headers).get_json()
    assert number not in str(audit) and number[:6] + "********" + number[-4:] in str(audit)
    # Candidates see none, and another office's staff find nothing.
    candidate_headers = factory.headers(factory.candidate()["username"])
    assert client.get("/api/v1/applications", headers=candidate_headers).status_code == 403
    assert client.post("/api/v1/applications", json=body(), headers=candidate_headers).status_code == 403
    factory.other_office()
    elsewhere = factory.headers(factory.staff("officer", office="fuling"))
    assert client.get(f"/api/v1/applications?id_number={number}", headers=elsewhere).get_json() == []
    # A second application for the same class is a conflict; another class is a new application.
    again = accept(client, officer_headers, id_number=number)
    assert again.status_code == 409 and again.get_json()["reason"] == "already_accepted"
    assert accept(client, officer_headers, id_number=number, license_class="D").status_code == 201


@pytest.mark.parametrize("license_class, birthday, ok", [
    # 18 or older for C1 (article 14 (一) 1): the 18th birthday is the first day.
    ("C1", date(2008, 11, 25), True), ("C1", date(2008, 11, 26), False),
    # No upper limit for C1 since 2022; 63 for B2 since 2025 (Order 172): the day before the 64th birthday is the last.
    ("C1", date(1930, 1, 1), True),
    ("B2", date(1962, 11, 26), True), ("B2", date(1962, 11, 25), False),
    ("B2", date(2006, 11, 25), True), ("B2", date(2006, 11, 26), False),
    # Motorcycles: 18 to 70 since 2025.
    ("D", date(1955, 11, 26), True), ("D", date(1955, 11, 25), False),
    # Low-speed trucks: 18 to 63.
    ("C3", date(1962, 11, 26), True), ("C3", date(1962, 11, 25), False),
    # A 29 February birthday is reached on 1 March in other years.
    ("C1", date(2008, 2, 29), True),
])
def test_the_age_limits_of_the_class_on_the_day_of_acceptance(client, officer_headers, license_class, birthday, ok):
    response = accept(client, officer_headers, id_number=born(birthday), license_class=license_class)
    if ok:
        assert response.status_code == 201, response.get_json()
    else:
        assert response.status_code == 422 and response.get_json()["reason"] == "age", response.get_json()
        assert f"class {license_class} needs an age of" in response.get_json()["message"]


def test_the_upper_age_limit_follows_the_text_in_force_on_the_acceptance_day(client, officer_headers):
    # 61 on both days: too old for B2 under the 2021 text (to 60), not under Order 172 (to 63) from 2025-01-01.
    number = born(date(1963, 12, 31))
    refused = accept(client, officer_headers, id_number=number, license_class="B2",
                     accepted_at="2024-12-31T16:00:00+08:00", medical_on=date(2024, 12, 1))
    assert refused.status_code == 422 and refused.get_json()["reason"] == "age"
    assert "公安部令第162号" in refused.get_json()["message"]
    accepted = accept(client, officer_headers, id_number=number, license_class="B2",
                      accepted_at="2025-01-01T09:00:00+08:00", medical_on=date(2024, 12, 1))
    assert accepted.status_code == 201, accepted.get_json()


def test_a_14_year_old_is_refused_for_a1_and_c1(client, officer_headers):
    child = born(date(2012, 3, 4))
    for license_class, reason in (("C1", "age"), ("A1", "class_not_initial")):
        response = accept(client, officer_headers, id_number=child, license_class=license_class)
        assert response.status_code == 422 and response.get_json()["reason"] == reason


@pytest.mark.parametrize("license_class", ["A1", "A2", "B1", "C6"])
def test_classes_only_added_to_a_licence_are_not_accepted_as_a_first_one(client, officer_headers, license_class):
    response = accept(client, officer_headers, id_number=born(date(1990, 1, 1)), license_class=license_class)
    assert response.status_code == 422
    assert response.get_json()["reason"] == "class_not_initial"
    assert "增驾" in response.get_json()["message"]


@pytest.mark.parametrize("medical_on, ok", [
    (date(2026, 5, 25), True),   # six months ago to the day: its last valid day
    (date(2026, 5, 24), False),
    (TODAY, True),
])
def test_the_medical_certificate_is_valid_six_months(client, officer_headers, medical_on, ok):
    response = accept(client, officer_headers, id_number=born(date(1990, 1, 1)), medical_on=medical_on)
    if ok:
        assert response.status_code == 201, response.get_json()
    else:
        assert response.status_code == 422 and response.get_json()["reason"] == "medical_expired"
        assert "valid until 2026-11-24" in response.get_json()["message"]


def test_bad_fields_are_named_and_nothing_is_stored(app, client, officer_headers):
    cases = [({"medical_on": (TODAY + timedelta(days=1)).isoformat()}, "medical_on"),
             ({"accepted_at": "2026-11-26T09:00:00+08:00"}, "accepted_at"),
             ({"id_number": "500119199506120000"}, "id_number"),
             ({"phone": "12345"}, "phone"),
             ({"license_class": "Z9"}, "license_class")]
    for change, field in cases:
        data = {**body(id_number=born(date(1990, 1, 1))), **change}
        response = client.post("/api/v1/applications", json=data, headers=officer_headers)
        assert response.status_code == 422 and field in response.get_json()["errors"]["json"], (field, response.get_json())
    from schedules.exams.models import Application
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Application)) == 0


# ---- bookings need the acceptance ----------------------------------------------------------------

def _counter_candidate(app, factory, id_number, license_class="C1"):
    """An account the office made at its counter, without an application accepted."""
    from vmo import settings
    from vmo.accounts.services import AuthSettings, register_candidate
    from vmo.offices.services import get_office
    from vmo.uow import unit_of_work

    with app.app_context(), unit_of_work():
        register_candidate(get_office(factory.office), {
            "name": "王芳", "id_number": id_number, "phone": "13900139000", "license_class": license_class,
            "username": "counter-made", "password": PASSWORD}, settings.get(AuthSettings), TODAY)
    return factory.headers("counter-made")


def test_every_booking_needs_an_accepted_application_for_the_class(app, client, factory, officer_headers):
    number = born(date(1995, 6, 12))
    headers = _counter_candidate(app, factory, number)
    session = create_session(client, officer_headers, subject=1)
    refused = book(client, session["id"], headers)
    assert refused.status_code == 422 and refused.get_json()["reason"] == "not_accepted"
    progress = client.get("/api/v1/me/exam-progress", headers=headers).get_json()
    assert progress["accepted_at"] is None
    assert {s["reason"] for s in progress["subjects"]} == {"not_accepted"}
    # Accepted for another class: still not for this one.
    assert accept(client, officer_headers, id_number=number, license_class="D").status_code == 201
    assert book(client, session["id"], headers).get_json()["reason"] == "not_accepted"
    # Accepted for C1: the seat is given, and the progress says when it was accepted.
    assert accept(client, officer_headers, id_number=number, accepted_at="2026-11-20T08:15:42+08:00").status_code == 201
    booked = book(client, session["id"], headers)
    assert booked.status_code == 201, booked.get_json()
    progress = client.get("/api/v1/me/exam-progress", headers=headers).get_json()
    assert progress["accepted_at"] == "2026-11-20T08:15:42+08:00" and progress["seniority_date"] == "2026-11-20"
    assert by_subject(progress)[1]["reason"] == "active_booking"


def test_an_officer_at_the_counter_cannot_book_without_the_acceptance_either(app, client, factory, officer_headers):
    headers = _counter_candidate(app, factory, born(date(1995, 6, 12)))
    candidate_id = client.get("/api/v1/me", headers=headers).get_json()["candidate"]["id"]
    session = create_session(client, officer_headers, subject=1)
    response = book(client, session["id"], officer_headers, candidate_id=candidate_id)
    assert response.status_code == 422 and response.get_json()["reason"] == "not_accepted"


# ---- the driving school's export -----------------------------------------------------------------

def test_an_import_accepts_good_rows_names_bad_ones_and_changes_nothing_the_second_time(app, client, tmp_path,
                                                                                      officer_headers):
    rows = [
        f"{born(date(1995, 6, 12), 'a')},王芳,13900139000,C1,2026-11-01,南川驾校,2026-11-20 09:30:15",
        f"{born(date(2010, 1, 1), 'b')},周小雨,13900139001,C1,2026-11-01,南川驾校,",
        f"{born(date(1990, 1, 1), 'c')},李雷,13900139002,A1,2026-11-01,,",
        f"{born(date(1990, 1, 1), 'd')},韩梅,13900139003,C2,2026-03-01,,",
        f"{born(date(1990, 1, 1), 'e')},张三,13900139004,C2,2026/11/01,,",
        "500119199506120000,错号,13900139005,C1,2026-11-01,,",
        f"{born(date(1988, 8, 8), 'f')},赵六,13900139006,E,2026-11-20,南川驾校,",
    ]
    path = tmp_path / "school.csv"
    path.write_text("id_number,name,phone,license_class,medical_on,school,accepted_at\n" + "\n".join(rows) + "\n",
                    encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["applications", "import", str(path)])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("line ")]
    assert [line.split(":")[0] for line in lines] == ["line 3", "line 4", "line 5", "line 6", "line 7"]
    assert lines[0].startswith("line 3: age: class C1 needs an age of 18 or older")
    assert lines[1].startswith("line 4: class_not_initial:")
    assert lines[2].startswith("line 5: medical_expired:")
    assert lines[3] == "line 6: medical_on: '2026/11/01' is not a date (YYYY-MM-DD)"
    assert lines[4].startswith("line 7: id_number: check character is")
    assert "accepting applications" in result.output  # the progress bar
    assert "2 accepted, 0 already accepted, 5 refused" in result.output
    listed = client.get("/api/v1/applications", headers=officer_headers).get_json()
    assert {(a["name"], a["accepted_at"], a["source"]) for a in listed} == {
        ("王芳", "2026-11-20T09:30:15+08:00", "import"), ("赵六", "2026-11-25T10:00:00+08:00", "import")}
    again = app.test_cli_runner().invoke(args=["applications", "import", str(path)])
    assert "0 accepted, 2 already accepted, 5 refused" in again.output


def test_an_import_without_the_columns_is_refused_whole(app, factory, tmp_path):
    factory.office  # noqa: B018  (the default office exists)
    path = tmp_path / "school.csv"
    path.write_text("id_number,name\n500119199506121234,王芳\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["applications", "import", str(path)])
    assert result.exit_code != 0 and "lacks the column(s) phone, license_class, medical_on" in result.output
