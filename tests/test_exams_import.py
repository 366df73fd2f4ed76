"""`vmo candidates import FILE.csv`: learner permits from another centre or from before this service."""
import random
from datetime import date

import pytest

from tests.conftest import make_id_number
from tests.helpers_exams import book, by_subject, candidate, create_session, exam_officer

HEADER = ("id_number,name,license_class,permit_issued_on,subject1_passed_on,subject1_score,subject2_passed_on,"
          "subject2_score,subject3_passed_on,subject3_score,subject4_passed_on,subject4_score,bookings_used_2,"
          "bookings_used_3\n")


@pytest.fixture
def officer_headers(factory):
    return factory.headers(exam_officer(factory))


def run(app, path):
    return app.test_cli_runner().invoke(args=["candidates", "import", str(path)])


def test_an_import_brings_records_in_reports_bad_rows_and_changes_nothing_the_second_time(
        app, client, factory, officer_headers, tmp_path):
    rng = random.Random(11)
    known, later = make_id_number(rng), make_id_number(rng)
    signed_up, headers = candidate(factory, id_number=known)
    rows = [
        f"{known},王芳,C1,2026-09-01,2026-09-01,95,2026-10-20,88,,,,,1,0",
        f"{later},李雷,C2,2026-10-01,,,,,,,,,0,0",
        "500119199506120000,错号,C1,2026-09-01,,,,,,,,,0,0",
        f"{make_id_number(rng)},张三,Z9,2026-09-01,,,,,,,,,0,0",
        f"{make_id_number(rng)},李四,C1,2026/09/01,,,,,,,,,0,0",
        f"{make_id_number(rng)},赵五,C1,2026-09-01,,,2026-08-01,,,,,,0,0",
        f"{make_id_number(rng)},,C1,2026-09-01,,,,,,,,,7,0",
    ]
    path = tmp_path / "permits.csv"
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    result = run(app, path)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("line ")]
    assert lines[0].startswith("line 4: id_number: check character is")
    assert lines[1] == "line 5: license_class: must be one of A1, A2, A3, B1, B2, C1, C2, C3, C4, C5, C6, D, E, F, M, N, P"
    assert lines[2] == "line 6: permit_issued_on '2026/09/01' is not a date (YYYY-MM-DD)"
    assert lines[3] == "line 7: passed: 0: subjects 2 to 4 are passed under the permit, on or after issued_on"
    assert lines[4] == "line 8: bookings_used_2 '7' is not a whole number from 0 to 100; name is empty" or \
        lines[4].startswith("line 8: name is empty")
    assert len(lines) == 5
    assert "2 created, 0 updated, 0 unchanged, 5 refused" in result.output
    # The candidate who has an account sees the record at once.
    progress = client.get("/api/v1/me/exam-progress", headers=headers).get_json()
    assert progress["permit_issued_on"] == "2026-09-01"
    subjects = by_subject(progress)
    assert subjects[2]["passed_on"] == "2026-10-20" and subjects[2]["score"] == 88 and subjects[2]["bookings_used"] == 1
    # One who signs up later finds the record waiting, and may book subject 3 (C2: 20 days).
    _, late_headers = candidate(factory, license_class="C2", id_number=later)
    session = create_session(client, officer_headers, subject=3, license_class="C2")
    assert book(client, session["id"], late_headers).status_code == 201
    # Running the same file again changes nothing.
    again = run(app, path)
    assert "0 created, 0 updated, 2 unchanged, 5 refused" in again.output
    # A corrected row updates the record.
    path.write_text(HEADER + rows[0].replace(",88,", ",91,") + "\n", encoding="utf-8")
    fixed = run(app, path)
    assert fixed.exit_code == 0 and "0 created, 1 updated, 0 unchanged, 0 refused" in fixed.output
    subjects = by_subject(client.get("/api/v1/me/exam-progress", headers=headers).get_json())
    assert subjects[2]["score"] == 91


def test_a_file_without_the_needed_columns_is_refused_whole(app, factory, tmp_path):
    factory.office  # noqa: B018  (the default office exists)
    path = tmp_path / "wrong.csv"
    path.write_text("身份证号,姓名\n500119199506121234,王芳\n", encoding="utf-8")
    result = run(app, path)
    assert result.exit_code == 1
    assert "lacks the column(s) id_number, name, license_class, permit_issued_on" in result.output


def test_the_demo_has_candidates_at_every_stage(app, client):
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "candidate kaosheng1 / demo-pass-2026" in result.output

    def progress(username):
        token = client.post("/api/v1/auth/token", json={"username": username, "password": "demo-pass-2026"})
        headers = {"Authorization": f"Bearer {token.get_json()['token']}"}
        return by_subject(client.get("/api/v1/me/exam-progress", headers=headers).get_json())

    assert progress("kaosheng1")[2]["reason"] == "permit_waiting"
    assert progress("kaosheng2")[2]["reason"] == "waiting_period"
    third = progress("kaosheng3")
    assert third[2]["passed"] is True and third[3]["reason"] == "active_booking"
    fourth = progress("kaosheng4")
    assert fourth[2]["eligible"] is True and fourth[2]["bookings_left"] == 1
    again = app.test_cli_runner().invoke(args=["demo"])
    assert again.exit_code == 0, again.output
