"""Motorcycles due for compulsory scrapping (《机动车强制报废标准规定》 arts. 4 and 5) at their boundary days."""
import csv
from datetime import date

import pytest

from tests.helpers_exams import set_now
from vmo.motorcycles.rules import DueRules

RULES = DueRules()
HEADER = ("号牌号码", "车架号", "所有人", "联系电话", "乡镇", "初次登记日期", "最近检验日期", "车辆类型")


def _import(runner, tmp_path, rows) -> None:
    path = tmp_path / "register.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    result = runner.invoke(args=["motorcycles", "import", str(path)])
    assert result.exit_code == 0 and "0 bad" in result.output, result.output


def _look_up(client, factory, plate) -> dict:
    # Signed in again at each look-up: the clock moves on by years, past any token's life.
    response = client.get(f"/api/v1/motorcycles/{plate}", headers=factory.headers("officer"))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    return {key: body[key] for key in ("status", "scrap_on", "scrap_reason", "three_wheeled")}


# ---- the rules ----------------------------------------------------------------------------------------

def test_thirteen_years_of_use_for_a_motorcycle_twelve_for_a_three_wheeled_one():
    registered, inspected = date(2013, 11, 25), date(2026, 6, 1)
    assert RULES.scrap(registered, inspected) == (date(2026, 11, 25), "age")
    assert RULES.scrap(registered, inspected, three_wheeled=True) == (date(2025, 11, 25), "age")
    scrap_on, _ = RULES.scrap(registered, inspected)
    assert RULES.status(RULES.next_due(registered, inspected), date(2026, 11, 24), scrap_on) != "scrap_due"
    assert RULES.status(RULES.next_due(registered, inspected), date(2026, 11, 25), scrap_on) == "scrap_due"
    # 29 February: the anniversary in a common year is 28 February (as for due dates).
    assert RULES.scrap(date(2012, 2, 29), date(2024, 3, 1)) == (date(2025, 2, 28), "age")


def test_three_inspection_cycles_missed_in_a_row():
    # Never inspected: due in its 6th year (2022-03-01), then the 10th, 11th and 12th-year cycles
    # pass without a mark: scrap_due on the 12th-year due date, before its 13 years.
    registered = date(2016, 3, 1)
    assert RULES.scrap(registered, None) == (date(2028, 3, 1), "missed_inspections")
    next_due = RULES.next_due(registered, None)
    assert RULES.status(next_due, date(2028, 2, 29), date(2028, 3, 1)) == "overdue"
    assert RULES.status(next_due, date(2028, 3, 1), date(2028, 3, 1)) == "scrap_due"
    # An inspection starts the count again: the cycles after it are the ones that count.
    assert RULES.scrap(registered, date(2027, 6, 1)) == (date(2029, 3, 1), "age")
    # With the schedule of the Regulations' Article 16 (every 2 years, then yearly after 4 years).
    biennial = DueRules(years=(2, 4))
    # Due 2020, then the cycles of 2022, 2023 and 2024 missed.
    assert biennial.scrap(date(2018, 5, 10), None) == (date(2024, 5, 10), "missed_inspections")


def test_the_scrapping_years_are_settings_within_what_article_5_allows():
    from vmo import settings
    from vmo.motorcycles.settings import MotorcycleSettings

    stricter = settings.load(MotorcycleSettings, {"MOTORCYCLE_SCRAP_YEARS": "11"})
    assert stricter.rules.scrap(date(2015, 1, 1), date(2026, 1, 1)) == (date(2026, 1, 1), "age")
    with pytest.raises(settings.SettingError, match="VMO_MOTORCYCLE_SCRAP_YEARS"):
        settings.load(MotorcycleSettings, {"MOTORCYCLE_SCRAP_YEARS": "10"})
    with pytest.raises(settings.SettingError, match="VMO_MOTORCYCLE_SCRAP_YEARS_THREE_WHEELED"):
        settings.load(MotorcycleSettings, {"MOTORCYCLE_SCRAP_YEARS_THREE_WHEELED": "13"})


# ---- on the register, with a frozen clock ------------------------------------------------------------

def test_scrap_due_on_the_register_at_the_boundary_days(app, client, runner, factory, tmp_path):
    factory.staff("officer", username="officer")
    _import(runner, tmp_path, [
        ("渝G30001", "", "甲", "13900000001", "大观镇", "2013-11-25", "2026-06-01", "普通二轮摩托车"),
        ("渝G30002", "", "乙", "13900000002", "大观镇", "2014-11-25", "2026-06-01", "普通正三轮摩托车"),
        ("渝G30003", "", "丙", "13900000003", "大观镇", "2014-11-25", "2026-06-01", "普通二轮摩托车"),
        ("渝G30004", "", "丁", "13900000004", "水江镇", "2016-03-01", "", ""),
    ])
    set_now(app, "2026-11-24T23:59:00+08:00")  # the day before the 13th (12th) anniversary
    assert _look_up(client, factory, "渝G30001")["status"] == "due"  # its yearly inspection, not yet scrapping
    assert _look_up(client, factory, "渝G30002")["status"] == "due"
    set_now(app, "2026-11-25T00:00:00+08:00")
    assert _look_up(client, factory, "渝G30001") == {
        "status": "scrap_due", "scrap_on": "2026-11-25", "scrap_reason": "age", "three_wheeled": False}
    assert _look_up(client, factory, "渝G30002") == {
        "status": "scrap_due", "scrap_on": "2026-11-25", "scrap_reason": "age", "three_wheeled": True}
    assert _look_up(client, factory, "渝G30003") == {  # two-wheeled: a year left
        "status": "due", "scrap_on": "2027-11-25", "scrap_reason": None, "three_wheeled": False}
    assert _look_up(client, factory, "渝G30004")["status"] == "overdue"
    set_now(app, "2028-02-29T12:00:00+08:00")
    assert _look_up(client, factory, "渝G30004")["status"] == "overdue"
    set_now(app, "2028-03-01T00:00:00+08:00")  # the third cycle missed has ended
    assert _look_up(client, factory, "渝G30004") == {
        "status": "scrap_due", "scrap_on": "2028-03-01", "scrap_reason": "missed_inspections", "three_wheeled": False}


def test_township_counts_count_scrap_due_apart(app, client, runner, factory, tmp_path):
    headers = factory.headers(factory.staff("officer"))
    _import(runner, tmp_path, [
        ("渝G30001", "", "甲", "13900000001", "大观镇", "2013-11-25", "2026-06-01", ""),  # scrap_due today
        ("渝G30005", "", "戊", "13900000005", "大观镇", "2019-01-05", "", ""),            # overdue
    ])
    response = client.get("/api/v1/townships", headers=headers)
    assert response.get_json() == [{"township": "大观镇", "motorcycles": 2, "due": 0, "overdue": 1,
                                    "due_or_overdue": 1, "scrap_due": 1}]
    set_now(app, "2026-11-24T12:00:00+08:00")
    assert client.get("/api/v1/townships", headers=headers).get_json()[0]["scrap_due"] == 0
