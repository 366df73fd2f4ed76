"""The motorcycle register: due rules, the CSV import (bad rows, re-import) and township counts."""
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.helpers_tours import write_register
from vmo import settings
from vmo.extensions import db
from vmo.motorcycles.models import Motorcycle
from vmo.motorcycles.rules import DueRules, add_years

RULES = DueRules()


# ---- due rules -------------------------------------------------------------------------

@pytest.mark.parametrize("registered, last, expected", [
    # The national rule since 2022-10-01: within 10 years, on site in the 6th and 10th year only.
    (date(2025, 6, 1), None, date(2031, 6, 1)),
    # Inspected in its 6th year: next in its 10th.
    (date(2018, 3, 10), date(2024, 3, 1), date(2028, 3, 10)),
    # Inspected in its 10th year: yearly from then on.
    (date(2014, 3, 10), date(2024, 3, 1), date(2025, 3, 10)),
    # An inspection within 90 days before the due date counts for it.
    (date(2015, 5, 20), date(2026, 3, 1), date(2027, 5, 20)),
    # An inspection earlier than that does not.
    (date(2015, 5, 20), date(2026, 1, 1), date(2026, 5, 20)),
    # Never inspected for years: the missed first due date stays the due date (overdue).
    (date(2010, 1, 5), None, date(2016, 1, 5)),
    # 29 February falls due on 28 February in common years.
    (date(2024, 2, 29), None, date(2030, 2, 28)),
    # A motorcycle first seen as a walk-in has no registration date, hence no due date.
    (None, date(2026, 11, 25), None),
])
def test_default_due_rules(registered, last, expected):
    assert RULES.next_due(registered, last) == expected


def test_due_status_is_overdue_due_or_ok():
    today = date(2026, 11, 25)
    assert RULES.status(date(2026, 11, 24), today) == "overdue"
    assert RULES.status(date(2026, 11, 25), today) == "due"
    assert RULES.status(date(2027, 2, 23), today) == "due"
    assert RULES.status(date(2027, 2, 24), today) == "ok"


def test_rules_are_configurable_and_checked():
    yearly = DueRules(years=(1,), later_interval_years=1, window_days=0)
    assert yearly.next_due(date(2025, 6, 1), None) == date(2026, 6, 1)
    assert list(zip(range(5), DueRules().offsets())) == [(0, 6), (1, 10), (2, 11), (3, 12), (4, 13)]
    # The Implementing Regulations' own schedule (every 2 years up to 4, then yearly), as an office sets it.
    article16 = settings.load(DueRules, {"MOTORCYCLE_INSPECTION_YEARS": "2,4"})
    assert list(zip(range(4), article16.offsets())) == [(0, 2), (1, 4), (2, 5), (3, 6)]
    assert article16.next_due(date(2020, 1, 1), date(2024, 1, 1)) == date(2025, 1, 1)
    for bad in ({"later_interval_years": 0}, {"years": ()}, {"years": (10, 6)}, {"years": (0, 4)}):
        with pytest.raises(ValueError):
            DueRules(**bad)
    assert DueRules().status(None, date(2026, 11, 25)) == "unknown"
    assert add_years(date(2024, 2, 29), 4) == date(2028, 2, 29)


# ---- import ----------------------------------------------------------------------------

GOOD = [
    ("渝G12345", "LBPKE1805J0000005", "王德明", "13983001234", "大观镇", "2024-06-01", ""),
    ("渝G·23456", "", "李秀英", "139 8300 1235", "大观镇", "2015/05/20", "2024-05-01"),
    ("渝G34567", "ZS125FMI", "张国华", "", "水江镇", "20100105", ""),
]
BAD = [
    ("京12345", "", "赵四", "13983001236", "大观镇", "2020-01-01", ""),           # plate
    ("渝G45678", "", "钱五", "12345", "大观镇", "2020-01-01", ""),                # phone
    ("渝G12345", "", "王德明", "13983001234", "大观镇", "2024-06-01", ""),        # duplicate plate
    ("渝G56789", "", "孙六", "13983001237", "三泉镇", "2027-01-01", ""),          # future registration
    ("渝G67890", "", "周七", "13983001238", "三泉镇", "2020-01-01", "2019-01-01"),  # inspected before registered
    ("渝G78901", "LBPKE1801J0000005", "吴八", "13983001239", "三泉镇", "2020-01-01", ""),  # VIN check digit
    ("", "", "郑九", "13983001240", "三泉镇", "2020-01-01", ""),                  # plate missing
]


def motorcycles(app):
    with app.app_context():
        return {m.plate: (m.owner_name, m.phone, m.township, m.registered_on, m.last_inspected_on, m.next_due_on)
                for m in db.session.scalars(select(Motorcycle))}


def test_import_reports_bad_rows_and_imports_the_good(app, runner, factory, tmp_path):
    factory.office  # noqa: B018
    path = write_register(tmp_path / "register.csv", GOOD + BAD)
    result = runner.invoke(args=["motorcycles", "import", path])
    assert result.exit_code == 0, result.output
    assert "10 rows: 3 new, 0 updated, 0 unchanged, 7 bad" in result.output
    lines = [line for line in result.output.splitlines() if line.startswith("row ")]
    assert [line.split(":")[0] for line in lines] == [f"row {n}" for n in range(5, 12)]
    assert "row 5: plate: second character must be a letter" in result.output
    assert "row 6: phone: not a mainland mobile number" in result.output
    assert "row 7: plate: 渝G12345 already on row 2" in result.output
    assert "row 8: registered_on: 2027-01-01 is in the future" in result.output
    assert "row 9: last_inspected_on: before registered_on" in result.output
    assert "row 10: vin: check digit is 5, not 1" in result.output
    assert "row 11: plate: missing" in result.output
    assert motorcycles(app) == {
        "渝G12345": ("王德明", "13983001234", "大观镇", date(2024, 6, 1), None, date(2030, 6, 1)),
        "渝G23456": ("李秀英", "13983001235", "大观镇", date(2015, 5, 20), date(2024, 5, 1), date(2025, 5, 20)),
        "渝G34567": ("张国华", None, "水江镇", date(2010, 1, 5), None, date(2016, 1, 5)),
    }


def test_reimport_of_the_same_file_changes_nothing_and_an_edited_file_updates(app, runner, factory, tmp_path):
    factory.office  # noqa: B018
    path = write_register(tmp_path / "register.csv", GOOD)
    assert "3 new" in runner.invoke(args=["motorcycles", "import", path]).output
    before = motorcycles(app)
    result = runner.invoke(args=["motorcycles", "import", path])
    assert "3 rows: 0 new, 0 updated, 3 unchanged, 0 bad" in result.output
    assert motorcycles(app) == before
    edited = [GOOD[0][:2] + ("王德明", "13983009999", "三泉镇") + GOOD[0][5:], *GOOD[1:],
              ("渝G99999", "", "新车主", "13983001241", "南平镇", "2026-01-02", "")]
    result = runner.invoke(args=["motorcycles", "import", write_register(tmp_path / "edited.csv", edited)])
    assert "4 rows: 1 new, 1 updated, 2 unchanged, 0 bad" in result.output
    after = motorcycles(app)
    assert after["渝G12345"][1:3] == ("13983009999", "三泉镇")
    assert len(after) == 4
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Motorcycle)) == 4


def test_an_older_inspection_date_in_the_file_does_not_undo_a_newer_one(app, runner, factory, tmp_path):
    factory.office  # noqa: B018
    newer = [("渝G23456", "", "李秀英", "13983001235", "大观镇", "2015-05-20", "2026-05-01")]
    runner.invoke(args=["motorcycles", "import", write_register(tmp_path / "a.csv", newer)])
    result = runner.invoke(args=["motorcycles", "import", write_register(tmp_path / "b.csv", GOOD[1:2])])
    assert "1 unchanged" in result.output
    assert motorcycles(app)["渝G23456"][4:] == (date(2026, 5, 1), date(2027, 5, 20))


def test_chinese_headers_are_accepted_and_a_missing_column_imports_nothing(app, runner, factory, tmp_path):
    factory.office  # noqa: B018
    path = tmp_path / "导出.csv"
    path.write_text("号牌号码,所有人,联系电话,乡镇,初次登记日期\n渝G12345,王德明,13983001234,大观镇,2024-06-01\n",
                    encoding="utf-8-sig")
    assert "1 new" in runner.invoke(args=["motorcycles", "import", str(path)]).output
    path.write_text("plate,owner_name,phone\n渝G23456,李秀英,13983001235\n", encoding="utf-8")
    result = runner.invoke(args=["motorcycles", "import", str(path)])
    assert result.exit_code == 1
    assert "no column for township, registered_on" in result.output
    assert set(motorcycles(app)) == {"渝G12345"}


def test_a_plate_on_another_offices_register_is_a_bad_row(app, runner, factory, tmp_path):
    other = factory.other_office()
    path = write_register(tmp_path / "r.csv", GOOD[:1])
    runner.invoke(args=["motorcycles", "import", path, "--office", other])
    result = runner.invoke(args=["motorcycles", "import", path, "--office", factory.office])
    assert "row 2: plate: 渝G12345 is on another office's register" in result.output


def test_a_big_import_is_bulk_and_idempotent(app, factory):
    """5,000 rows cost statements per chunk of 1,000, not per row (speed itself is `make bench`'s)."""
    import random

    from testkit.statements import count_statements
    from vmo import validators
    from vmo.extensions import db
    from vmo.motorcycles import services
    from vmo.offices.services import get_office

    rng = random.Random(7)
    plates = {validators.random_plate("渝G", False, rng) for _ in range(5200)}
    rows = [{"plate": p, "owner_name": "车主", "phone": f"139{i:08d}", "township": "大观镇",
             "registered_on": "2018-04-01", "last_inspected_on": ""} for i, p in enumerate(sorted(plates)[:5000])]
    with app.app_context():
        office = get_office(factory.office)
        with count_statements(db.engine) as statements:
            report = services.import_rows(office, rows, rules=RULES, today=date(2026, 11, 25),
                                          now=office.created_at, chunk_size=1000)
        assert (report.inserted, report.bad_rows) == (5000, [])
        again = services.import_rows(office, rows, rules=RULES, today=date(2026, 11, 25), now=office.created_at)
        assert (again.inserted, again.updated, again.unchanged) == (0, 0, 5000)
    assert len(statements) <= 40, f"{len(statements)} statements for 5 chunks"  # per row would be 5,000+


# ---- townships -------------------------------------------------------------------------

def test_townships_count_due_and_overdue_per_township(app, client, runner, factory, tmp_path):
    officer = factory.staff("officer")
    rows = [
        ("渝G10001", "", "甲", "13900000001", "大观镇", "2014-01-05", "2026-01-10"),  # due 2027-01-05: due
        ("渝G10002", "", "乙", "13900000002", "大观镇", "2010-01-05", ""),    # 16 years old: scrap_due, not overdue
        ("渝G10003", "", "丙", "13900000003", "大观镇", "2021-01-05", ""),          # 6th year 2027-01-05: due
        ("渝G10004", "", "丁", "13900000004", "水江镇", "2025-01-05", ""),          # due 2031: ok
        ("渝G10005", "", "戊", "13900000005", "水江镇", "2016-03-05", "2026-03-01"),  # due 2027-03-05: ok
        ("渝G10006", "", "己", "13900000006", "大观镇", "2019-01-05", ""),    # overdue since 2025 (6th year)
    ]
    runner.invoke(args=["motorcycles", "import", write_register(tmp_path / "r.csv", rows)])
    other = factory.other_office()
    runner.invoke(args=["motorcycles", "import", "--office", other, write_register(
        tmp_path / "o.csv", [("渝G20001", "", "己", "13900000006", "大观镇", "2010-01-05", "")])])
    response = client.get("/api/v1/townships", headers=factory.headers(officer))
    assert response.status_code == 200
    assert response.get_json() == [
        {"township": "大观镇", "motorcycles": 4, "due": 2, "overdue": 1, "due_or_overdue": 3, "scrap_due": 1},
        {"township": "水江镇", "motorcycles": 2, "due": 0, "overdue": 0, "due_or_overdue": 0, "scrap_due": 0},
    ]
    one = client.get("/api/v1/motorcycles/渝G·10006", headers=factory.headers(officer))
    assert one.status_code == 200
    assert one.get_json()["status"] == "overdue" and one.get_json()["next_due_on"] == "2025-01-05"
    scrap = client.get("/api/v1/motorcycles/渝G10002", headers=factory.headers(officer)).get_json()
    # Never inspected: the 6th-year date (2016) went by, then 3 cycles (10th, 11th, 12th year) were missed.
    assert (scrap["status"], scrap["scrap_on"], scrap["scrap_reason"]) == ("scrap_due", "2022-01-05",
                                                                           "missed_inspections")
    assert client.get("/api/v1/motorcycles/渝G20001", headers=factory.headers(officer)).status_code == 404


def test_townships_need_staff(client, factory):
    company = factory.company()
    assert client.get("/api/v1/townships").status_code == 401
    response = client.get("/api/v1/townships", headers=factory.headers(company["username"]))
    assert response.status_code == 403


def test_changed_rules_recompute_stored_due_dates(app, runner, factory, tmp_path):
    officer = factory.staff("officer")
    rows = [("渝G10001", "", "甲", "13900000001", "大观镇", "2016-01-05", "2025-12-01")]
    runner.invoke(args=["motorcycles", "import", write_register(tmp_path / "r.csv", rows)])
    # Default: 2025-12-01 covers the 10th year, 2026-01-05 (within 90 days); next yearly, 2027-01-05,
    # due from 2026-10-07.
    counts = app.test_client().get("/api/v1/townships", headers=factory.headers(officer)).get_json()
    assert counts[0]["due"] == 1
    app.config["MOTORCYCLE_LATER_INTERVAL_YEARS"] = 2  # every 2 years after 10: next due 2028-01-05
    settings.reload(app)  # as a restart with the new setting would
    counts = app.test_client().get("/api/v1/townships", headers=factory.headers(officer)).get_json()
    assert counts[0]["due"] == 0
    assert motorcycles(app)["渝G10001"][5] == date(2028, 1, 5)


def test_the_register_keeps_engine_numbers_from_the_import(app, client, runner, factory, tmp_path):
    officer = factory.staff("officer")
    path = tmp_path / "export.csv"
    path.write_text("号牌号码,车架号,发动机号,所有人,联系电话,乡镇,初次登记日期\n"
                    "渝G12345,LFG1234567,162fmj0012345,王德明,13983001234,大观镇,2021-06-01\n"
                    "渝G23456,,12,李秀英,,大观镇,2021-06-01\n", encoding="utf-8")
    result = runner.invoke(args=["motorcycles", "import", str(path)])
    assert "2 rows: 1 new" in result.output and "row 3: engine_number: must be 4 to 30" in result.output
    moto = client.get("/api/v1/motorcycles/渝G12345", headers=factory.headers(officer)).get_json()
    assert (moto["vin"], moto["engine_number"], moto["from_walk_in"], moto["next_due_on"]) == (
        "LFG1234567", "162FMJ0012345", False, "2027-06-01")
