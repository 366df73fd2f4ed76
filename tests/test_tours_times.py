"""Tour, stop, report and inspection answers show times in the office's zone (+08:00), never UTC."""
from tests.helpers_tours import ALL_PASS, at, create_tour, publish, stop


def _offsets(value, found=None):
    """Every ISO date-time string in an answer (dates excluded), to check their offsets."""
    found = [] if found is None else found
    if isinstance(value, dict):
        for item in value.values():
            _offsets(item, found)
    elif isinstance(value, list):
        for item in value:
            _offsets(item, found)
    elif isinstance(value, str) and len(value) > 10 and value[4] == "-" and "T" in value:
        found.append(value)
    return found


def test_tours_stops_reports_and_inspections_answer_in_office_time(app, client, factory):
    officer = factory.staff("officer", badge_number="500777")
    headers = factory.headers(officer)
    tour = create_tour(client, headers, [officer], stops=[stop("大观镇", (14, 0))])
    # A 14:00 stop reads 14:00+08:00, not 06:00+00:00.
    assert tour["stops"][0]["arrives_at"] == "2026-11-28T14:00:00+08:00"
    publish(client, headers, tour["id"])
    answers = [
        client.get(f"/api/v1/tours/{tour['id']}", headers=headers).get_json(),
        client.get("/api/v1/tours", headers=headers).get_json(),
        client.get(f"/api/v1/tours/{tour['id']}/report", headers=headers).get_json(),
        client.get("/api/v1/tour-stops?township=大观镇").get_json(),
    ]
    stop_id = tour["stops"][0]["id"]
    inspected = client.post(f"/api/v1/tours/{tour['id']}/stops/{stop_id}/inspections", headers=headers,
                            json={"plate": "渝G10001", "result": "pass", "checklist": ALL_PASS,
                                  "recorded_at": at(14, 10)})
    assert inspected.status_code == 201, inspected.get_json()
    answers.append(inspected.get_json())
    answers.append(client.get(f"/api/v1/mobile/inspections/{inspected.get_json()['client_id']}",
                              headers=headers).get_json())
    times = _offsets(answers)
    assert len(times) >= 8, times
    assert all(t.endswith("+08:00") for t in times), [t for t in times if not t.endswith("+08:00")]
    assert inspected.get_json()["recorded_at"] == "2026-11-28T14:10:00+08:00"


def test_the_tour_report_csv_writes_office_time_too(client, factory):
    officer = factory.staff("officer")
    headers = factory.headers(officer)
    tour = create_tour(client, headers, [officer], stops=[stop("大观镇", (14, 0))])
    body = client.get(f"/api/v1/tours/{tour['id']}/report?format=csv", headers=headers).get_data(as_text=True)
    assert "2026-11-28T14:00:00+08:00" in body and "+00:00" not in body
