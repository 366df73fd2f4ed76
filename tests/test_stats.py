"""Statistics against figures worked out by hand from a fixed data set; CSV, the report page, providers."""
from datetime import date, datetime

import pytest

from tests.helpers_fleet import batch, book, company, officer, open_day
from tests.helpers_followup import SECRET, post_inbound, queue_follow_up
from tests.test_priority import book_priority, person

RANGE = {"from": "2026-11-01", "to": "2026-11-30"}


def at(app, local: str) -> datetime:
    """Set the frozen clock to a Chongqing wall-clock time."""
    moment = datetime.fromisoformat(local + "+08:00")
    app.config["FROZEN_NOW"] = moment.isoformat()
    return moment


@pytest.fixture
def app_config():
    # The data set spans days of frozen time: tokens must outlive it.
    return {"SMS_HMAC_SECRET": SECRET, "TOKEN_TTL_HOURS": 24 * 30}


@pytest.fixture
def data(app, client, runner, factory):
    """The fixed data set; every expected figure below is counted by hand from it."""
    at(app, "2026-11-25T10:00:00")
    staff = officer(factory, username="desk", badge_number="500123")
    supervisor = factory.staff("supervisor", "boss")
    # Green channel: two days in November (each with the lane's 10 priority places), one in December (outside).
    open_day(client, staff, "2026-11-25", capacity=30)
    open_day(client, staff, "2026-11-26", capacity=20)
    open_day(client, staff, "2026-12-10", capacity=10)
    owner = company(factory)
    a, b, c = (batch(client, factory, owner, n) for n in (3, 2, 4))
    for one, day in ((a, "2026-11-25"), (b, "2026-11-26"), (c, "2026-12-10")):
        assert book(client, owner, one["id"], day).status_code == 201
    for body in (person("elderly", birth=date(1950, 1, 2), day="2026-11-26", seq=1, phone="13983000011"),
                 person("disabled", day="2026-11-26", seq=2, phone="13983000012"),
                 person("pregnant", day="2026-12-10", seq=3, phone="13983000013")):
        assert book_priority(client, body).status_code == 201

    # Handling: v1 30 min on the day; v3 20 min but across local midnight; v2 failed first, 1400 min.
    v1, v2, v3 = (v["vin"] for v in a["vehicles"])

    def post(path, **body):
        response = client.post(path, json=body or None, headers=staff.headers)
        assert response.status_code == 201, response.get_json()

    post(f"/api/v1/fleet/vehicles/{v1}/inspection", result="pass")
    post(f"/api/v1/fleet/vehicles/{v2}/inspection", result="fail", defects=["左前大灯不亮"])
    at(app, "2026-11-25T10:30:00")
    post(f"/api/v1/fleet/vehicles/{v1}/registration")
    at(app, "2026-11-25T23:50:00")
    post(f"/api/v1/fleet/vehicles/{v3}/inspection", result="pass")
    at(app, "2026-11-26T00:10:00")
    post(f"/api/v1/fleet/vehicles/{v3}/registration")
    at(app, "2026-11-26T09:00:00")
    post(f"/api/v1/fleet/vehicles/{v2}/inspection", result="pass")
    at(app, "2026-11-26T09:20:00")
    post(f"/api/v1/fleet/vehicles/{v2}/registration")
    at(app, "2026-11-26T10:00:00")
    assert runner.invoke(args=["sms", "send"]).exit_code == 0  # the batch's one follow-up goes out

    # Other follow-ups, sent at fixed local times.
    def sent(subject_id, phone, local):
        return queue_follow_up(app, phone, None, subject_id, office=factory.office, subject_type="tour_inspection",
                               sent_at=datetime.fromisoformat(local + "+08:00"))

    sent(13, "13900000013", "2026-10-31T23:30:00")   # before the period (local time)
    sent(15, "13900000015", "2026-11-01T00:30:00")   # in it, though still 31 October in UTC
    sent(10, "13900000010", "2026-11-10T10:00:00")
    sent(11, "13900000011", "2026-11-11T10:00:00")
    sent(12, "13900000012", "2026-11-16T07:00:00")   # Monday locally, Sunday in UTC
    sent(14, "13900000014", "2026-11-20T10:00:00")
    queue_follow_up(app, "12345", None, 99, office=factory.office, subject_type="tour_inspection",
                    created_at=datetime.fromisoformat("2026-11-20T10:00:00+08:00"))  # invalid: failed

    moment = at(app, "2026-11-26T10:30:00")
    for i, (phone, text) in enumerate([("13800138000", "1"), ("13800138000", "办事效率还可以"), ("13900000010", "1"),
                                       ("13900000011", "2"), ("13900000014", "2"), ("13900000013", "1")]):
        response = post_inbound(client, {"message_id": f"r{i}", "from": phone, "text": text},
                                timestamp=int(moment.timestamp()))
        assert response.status_code == 200, response.get_json()
    escalations = {e["case"]["id"]: e["id"] for e in
                   client.get("/api/v1/escalations", headers=factory.headers(supervisor)).get_json()}
    at(app, "2026-11-26T16:30:00")
    called = client.post(f"/api/v1/escalations/{escalations[14]}/callbacks", json={"reached": True, "note": "已回访"},
                         headers=factory.headers(supervisor))
    assert called.status_code == 201
    resolved = client.post(f"/api/v1/escalations/{escalations[14]}/resolve", json={"note": "已回访"},
                           headers=factory.headers(supervisor))
    assert resolved.status_code == 200
    at(app, "2026-11-28T12:00:00")
    return {"staff": staff, "supervisor": supervisor, "owner": owner}


EXPECTED = {
    "office": "nanchuan", "from": "2026-11-01", "to": "2026-11-30",
    # Capacity 30 + 20 for fleets and the lane's 10 + 10 priority places on top of them.
    "green_channel": {"days_open": 2, "capacity": 70, "priority_capacity": 20, "appointments": 2,
                      "vehicles_booked": 5, "priority_bookings": 2,
                      "priority_by_reason": {"pregnant": 0, "elderly": 1, "disabled": 1}, "utilisation": 0.1},
    # One follow-up for batch a (its three vehicles registered), five others, one failed.
    "follow_ups": {"sent": 6, "replies": 4, "reply_rate": 0.6667, "satisfied": 2, "dissatisfied": 2,
                   "satisfaction_rate": 0.5, "comments": 1, "pending": 0, "failed": 1, "opted_out": 0},
    "escalations": {"opened": 2, "resolved": 1, "open_now": 1, "overdue_now": 1, "average_hours_to_resolve": 6.0},
    "handling": {"cases_finished": 3, "average_minutes": 483.3, "same_day": 1, "same_day_share": 0.3333},
    "satisfaction_by_week": [
        {"week": "2026-10-26", "sent": 1, "replies": 0, "satisfied": 0, "dissatisfied": 0, "satisfaction_rate": None},
        {"week": "2026-11-09", "sent": 2, "replies": 2, "satisfied": 1, "dissatisfied": 1, "satisfaction_rate": 0.5},
        {"week": "2026-11-16", "sent": 2, "replies": 1, "satisfied": 0, "dissatisfied": 1, "satisfaction_rate": 0.0},
        {"week": "2026-11-23", "sent": 1, "replies": 1, "satisfied": 1, "dissatisfied": 0, "satisfaction_rate": 1.0},
    ],
}


def test_figures_match_the_hand_count(client, factory, data):
    response = client.get("/api/v1/stats", headers=data["staff"].headers, query_string=RANGE)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    segments = body["follow_ups"].pop("segments")
    assert {k: body[k] for k in EXPECTED} == EXPECTED
    # What the office pays: the billed segments of the follow-ups sent in the period, as the outbox lists them.
    outbox = client.get("/api/v1/sms/outbox", headers=data["staff"].headers,
                        query_string={"kind": "follow_up", "status": "sent", "page_size": 100}).get_json()
    in_period = [m for m in outbox if m["key"] != "follow_up:tour_inspection:13"]
    assert len(in_period) == 6 and segments == sum(m["segments"] for m in in_period)
    assert all(m["segments"] == (1 if m["length"] <= 70 else -(-m["length"] // 67)) for m in outbox)
    assert body["texts"]["segments"] >= segments and body["texts"]["by_kind"]["follow_up"] == {
        "sent": 6, "segments": segments}
    assert body["charts"][0] == {"id": "satisfaction_by_week", "title": "满意率（按周）",
                                 "unit": "%", "points": [{"label": "10-26", "value": None},
                                                         {"label": "11-09", "value": 50.0},
                                                         {"label": "11-16", "value": 0.0},
                                                         {"label": "11-23", "value": 100.0}]}
    assert datetime.fromisoformat(body["generated_at"]) == datetime.fromisoformat("2026-11-28T12:00:00+08:00")


def test_a_narrower_period_counts_less(client, data):
    body = client.get("/api/v1/stats", headers=data["staff"].headers,
                      query_string={"from": "2026-11-26", "to": "2026-11-26"}).get_json()
    assert body["green_channel"]["appointments"] == 1 and body["green_channel"]["priority_bookings"] == 2
    assert (body["follow_ups"]["sent"], body["follow_ups"]["satisfied"]) == (1, 1)
    assert body["handling"] == {"cases_finished": 2, "average_minutes": 710.0, "same_day": 0, "same_day_share": 0.0}


def test_providers_add_their_figures_and_a_broken_one_is_named(app, client, data):
    def weekend_tests(office_id, start, end):
        assert (start, end) == (date(2026, 11, 1), date(2026, 11, 30))
        return {"weekend_tests": {"sessions": 4, "candidates": 57, "first": date(2026, 11, 7)},
                "charts": [{"id": "bookings_per_weekend", "title": "Bookings per weekend", "unit": "",
                            "points": [{"label": "11-07", "value": 30}, {"label": "11-14", "value": 27}]}]}

    def broken(office_id, start, end):
        raise RuntimeError("tours table missing")

    app.extensions["vmo.stats_providers"].extend([weekend_tests, broken])
    body = client.get("/api/v1/stats", headers=data["staff"].headers, query_string=RANGE).get_json()
    assert body["weekend_tests"] == {"sessions": 4, "candidates": 57, "first": "2026-11-07"}
    assert body["charts"][-1]["id"] == "bookings_per_weekend"
    assert body["unavailable"] == [broken.__qualname__]
    body["follow_ups"].pop("segments")
    assert body["follow_ups"] == EXPECTED["follow_ups"]  # the failure spoiled nothing else


def test_csv(client, data):
    response = client.get("/api/v1/stats", headers=data["staff"].headers, query_string={**RANGE, "format": "csv"})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0] == "section,figure,value"
    assert "follow_ups,sent,6" in lines
    assert "follow_ups,satisfaction_rate,0.5" in lines
    assert "handling,average_minutes,483.3" in lines
    assert "green_channel.priority_by_reason,elderly,1" in lines
    assert "satisfaction_by_week[2026-11-23],satisfied,1" in lines


def test_report_page_for_supervisors(client, factory, data):
    headers = factory.headers(data["supervisor"])
    response = client.get("/api/v1/stats/report.html", headers=headers, query_string=RANGE)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert '<meta name="viewport"' in page
    # One chart of its own; the driving-test and tour providers (schedules) add two, home visits one.
    assert page.count("<svg") == 4 and "满意率（按周）" in page and "上门办理（按月）" in page
    assert "66.67%" in page and "50.00%" in page  # reply rate, satisfaction
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in page
    assert "<script" not in page
    assert client.get("/api/v1/stats/report.html", headers=data["staff"].headers).status_code == 403
    assert client.get("/api/v1/stats/report.html").status_code == 401


def test_stats_are_for_staff_and_check_the_period(client, factory, data):
    assert client.get("/api/v1/stats", headers=data["owner"].headers).status_code == 403
    assert client.get("/api/v1/stats").status_code == 401
    bad = client.get("/api/v1/stats", headers=data["staff"].headers, query_string={"from": "2026-11-30",
                                                                                   "to": "2026-11-01"})
    assert bad.status_code == 422 and "from" in bad.get_json()["errors"]["query"]
    bad = client.get("/api/v1/stats", headers=data["staff"].headers, query_string={"format": "xml"})
    assert bad.status_code == 422
    # Another office sees none of this office's figures.
    factory.other_office()
    other = factory.staff("supervisor", office="fuling")
    body = client.get("/api/v1/stats", headers=factory.headers(other), query_string=RANGE).get_json()
    assert (body["office"], body["follow_ups"]["sent"], body["green_channel"]["appointments"]) == ("fuling", 0, 0)


def test_default_period_is_the_last_30_days(client, data):
    body = client.get("/api/v1/stats", headers=data["staff"].headers).get_json()
    assert (body["from"], body["to"]) == ("2026-10-30", "2026-11-28")


# ---- per officer, per service, by month, five years ------------------------------------------

def test_per_officer_per_service_and_by_month_over_five_years(app, client, factory):
    from testkit.statements import count_statements
    from vmo.extensions import db

    zhang = factory.staff("officer", "zhang", badge_number="500123")
    li = factory.staff("officer", "li", badge_number="500124")
    factory.staff("officer", "wang", badge_number="500125")  # handled nothing: still listed, with zeros
    boss = factory.staff("supervisor", "boss")

    def case(officer, subject_type, case_id, local, reply=None, reply_local=None):
        phone = f"139000001{case_id:02d}"
        queue_follow_up(app, phone, officer.id if officer else None, case_id, office=factory.office,
                        subject_type=subject_type, sent_at=datetime.fromisoformat(local + "+08:00"))
        if reply:
            moment = at(app, reply_local)
            response = post_inbound(client, {"message_id": f"r{case_id}", "from": phone, "text": reply},
                                    timestamp=int(moment.timestamp()))
            assert response.status_code == 200, response.get_json()
            return response.get_json()["escalation_id"]

    case(zhang, "exam_booking", 6, "2021-01-01T10:00:00", "2", "2021-01-01T12:00:00")  # before the five years
    case(zhang, "fleet_batch", 1, "2024-03-05T10:00:00", "满意", "2024-03-06T09:00:00")
    e2 = case(zhang, "exam_booking", 2, "2026-10-10T10:00:00", "不满意，考场太远", "2026-10-10T12:00:00")
    case(li, "tour_inspection", 3, "2026-11-01T00:30:00", "2", "2026-11-01T09:00:00")  # 31 October in UTC
    case(li, "priority_booking", 4, "2026-11-20T10:00:00", "1", "2026-11-20T11:00:00")
    case(None, "tour_inspection", 5, "2026-11-21T10:00:00")
    at(app, "2026-10-11T12:00:00")
    headers = factory.headers(boss)
    assert client.post(f"/api/v1/escalations/{e2}/callbacks", json={"reached": True, "note": "已解释"},
                       headers=headers).status_code == 201
    assert client.post(f"/api/v1/escalations/{e2}/resolve", json={"note": "已解释"}, headers=headers).status_code == 200
    at(app, "2026-11-30T10:00:00")
    headers = factory.headers(boss)

    five_years = {"from": "2021-11-30", "to": "2026-11-30"}
    with app.app_context(), count_statements(db.engine) as long_statements:
        response = client.get("/api/v1/stats", headers=headers, query_string=five_years)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()

    def figures(cases, sent, answered, ok, bad, rate, esc, closed, hours):
        return {"cases": cases, "follow_ups_sent": sent, "answered": answered, "satisfied": ok, "dissatisfied": bad,
                "satisfaction_rate": rate, "escalations": esc, "escalations_closed": closed,
                "average_hours_to_close": hours}

    def who(username, badge, role="officer"):
        return {"username": username, "badge_number": badge, "display_name": None, "role": role}

    assert body["per_officer"] == [
        {**who("li", "500124"), **figures(2, 2, 2, 1, 1, 0.5, 1, 0, None)},
        {**who("wang", "500125"), **figures(0, 0, 0, 0, 0, None, 0, 0, None)},
        {**who("zhang", "500123"), **figures(2, 2, 2, 1, 1, 0.5, 1, 1, 24.0)},
        {**who(None, None, None), **figures(1, 1, 0, 0, 0, None, 0, 0, None)},
    ]
    assert body["per_service"] == {
        "green_channel": figures(1, 1, 1, 1, 0, 1.0, 0, 0, None),
        "priority": figures(1, 1, 1, 1, 0, 1.0, 0, 0, None),
        "tests": figures(1, 1, 1, 0, 1, 0.0, 1, 1, 24.0),
        "tours": figures(2, 2, 1, 0, 1, 0.0, 1, 0, None),
    }
    months = body["by_month"]
    assert len(months) == 61 and (months[0]["month"], months[-1]["month"]) == ("2021-11", "2026-11")
    by = {m["month"]: m for m in months}
    assert by["2024-03"]["by_service"] == {"green_channel": 1, "priority": 0, "tests": 0, "tours": 0}
    assert (by["2026-10"]["cases"], by["2026-10"]["dissatisfied"], by["2026-10"]["escalations"]) == (1, 1, 1)
    november = by["2026-11"]
    assert (november["cases"], november["by_service"], november["satisfied"], november["dissatisfied"],
            november["escalations"]) == (3, {"green_channel": 0, "priority": 1, "tests": 0, "tours": 2}, 1, 1, 1)
    assert sum(m["cases"] for m in months) == 5 and by["2021-11"]["cases"] == 0
    assert body["charts"][0]["id"] == "satisfaction_by_month" and len(body["charts"][0]["points"]) == 61
    # The escalation shows the person's reason; the figures are SQL aggregates: a month costs what five years do.
    with app.app_context(), count_statements(db.engine) as short_statements:
        assert client.get("/api/v1/stats", headers=headers, query_string=RANGE).status_code == 200
    assert len(short_statements) == len(long_statements)

    too_long = client.get("/api/v1/stats", headers=headers, query_string={"from": "2021-11-29", "to": "2026-11-30"})
    assert too_long.status_code == 422 and "from" in too_long.get_json()["errors"]["query"]

    page = client.get("/api/v1/stats/report.html", headers=headers, query_string=five_years).get_data(as_text=True)
    for label in ("各民警", "各业务", "按月", "绿色通道", "优先办理", "驾驶人考试", "流动车管所", "满意率（按月）", "500123"):
        assert label in page, label
