"""CSV exports: no cell that a spreadsheet would run as a formula (an officer opening an
export must not run a caller's formula)."""
import csv
import io

import pytest

from tests.helpers_tours import create_tour, stop
from vmo import csvout


@pytest.mark.parametrize("text", ["=1+1", "+86 138", "-2+3", "@SUM(A1)", "\t=1", "\r=1",
                                  '=HYPERLINK("http://evil.example","点我")'])
def test_a_text_cell_a_spreadsheet_would_run_gets_a_quote(text):
    assert csvout.cell(text) == "'" + text


@pytest.mark.parametrize("value", ["大观镇", "渝G12345", "a=b", "", -3, 2.5, None, 0])
def test_other_cells_and_numbers_are_written_as_given(value):
    assert csvout.cell(value) == value


def test_render_quotes_and_neutralises():
    text = csvout.render(("name", "n"), [("=cmd|' /C calc'!A0", -1), ('a,"b"', 2)], bom=True)
    assert text.startswith("\ufeff")
    assert list(csv.reader(io.StringIO(text.lstrip("\ufeff")))) == [
        ["name", "n"], ["'=cmd|' /C calc'!A0", "-1"], ['a,"b"', "2"]]


def test_the_tour_report_csv_has_no_formula(client, factory):
    officer = factory.staff("officer")
    headers = factory.headers(officer)
    first = {**stop("大观镇", (9, 0)), "township": "=1+1", "venue": '=HYPERLINK("http://evil.example","点我")'}
    tour = create_tour(client, headers, [officer], stops=[first, stop("水江镇", (11, 0), venue="@SUM(1)")])
    response = client.get(f"/api/v1/tours/{tour['id']}/report?format=csv", headers=headers)
    assert response.status_code == 200 and response.content_type == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [(r["township"], r["venue"]) for r in rows] == [
        ("'=1+1", "'=HYPERLINK(\"http://evil.example\",\"点我\")"), ("水江镇", "'@SUM(1)")]
    for row in rows:
        assert not any(value.startswith(csvout.FORMULA_STARTS) for value in row.values()), row
