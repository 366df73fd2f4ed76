"""Reminders the day before a test or a tour stop: once per person, none for the cancelled or other days."""
from datetime import date, datetime

import pytest

from schedules.exams.settings import ExamSettings
from schedules.reminders import Queued, queue_reminders
from tests.helpers_exams import SATURDAY, SUNDAY, candidate, create_session, local
from tests.helpers_tours import create_tour, outbox, publish, stop
from tests.test_schedules_stats import book, register
from vmo.extensions import db
from vmo.uow import unit_of_work

FRIDAY = date(2026, 11, 27)


@pytest.fixture
def app_config():
    return {"TOKEN_TTL_HOURS": 24 * 30}


@pytest.fixture
def data(app, client, factory):
    """Built on Wednesday 2026-11-25 10:00 (the frozen now); reminders run on Friday."""
    officer = factory.staff("officer")
    staff = factory.headers(officer)
    saturday = create_session(client, staff, capacity=2)                   # Sat 11-28 09:00-11:00
    sunday = create_session(client, staff, starts_at=local(SUNDAY, 9), ends_at=local(SUNDAY, 11))
    friday = create_session(client, staff, starts_at=local(FRIDAY, 14), ends_at=local(FRIDAY, 16))
    people = {n: candidate(factory, phone=f"1390000000{i}") for i, n in enumerate(("c1", "c2", "c3", "c4", "c5", "c6"),
                                                                                 start=1)}
    b = {"c1": book(client, saturday, people["c1"][1]), "c2": book(client, saturday, people["c2"][1])}
    assert client.delete(f"/api/v1/bookings/{b['c2']['id']}", headers=people["c2"][1]).status_code == 200
    b["c3"] = book(client, saturday, people["c3"][1])
    b["c4"] = book(client, saturday, people["c4"][1], waitlist_if_full=True)
    assert (b["c3"]["status"], b["c4"]["status"]) == ("confirmed", "waitlisted")
    b["c5"] = book(client, sunday, people["c5"][1])
    b["c6"] = book(client, friday, people["c6"][1])

    tour = create_tour(client, staff, [officer], stops=[stop("大观镇", (9, 0)), stop("水江镇", (11, 0))])
    publish(client, staff, tour["id"])
    r = {"p1": register(client, tour, 0, "渝G10001", "13900000011"),
         "p2": register(client, tour, 0, "渝G10002", "13900000012"),
         "p3": register(client, tour, 1, "渝G10003", "13900000013")}
    dropped = client.patch(f"/api/v1/tours/{tour['id']}", headers=staff,
                           json={"stops": [{"id": tour["stops"][1]["id"], "remove": True}]})
    assert dropped.status_code == 200, dropped.get_json()                 # p3's registration is cancelled
    cancelled = create_tour(client, staff, [officer], stops=[stop("三泉镇", (9, 0))])
    publish(client, staff, cancelled["id"])
    r["p4"] = register(client, cancelled, 0, "渝G10004", "13900000014")
    assert client.post(f"/api/v1/tours/{cancelled['id']}/cancel", json={}, headers=staff).status_code == 200
    sunday_tour = create_tour(client, staff, [officer], stops=[stop("南平镇", (10, 0), day=SUNDAY)], day=SUNDAY)
    publish(client, staff, sunday_tour["id"])
    r["p5"] = register(client, sunday_tour, 0, "渝G10005", "13900000015")

    factory.other_office()
    theirs = factory.staff("officer", office="fuling")
    session = create_session(client, factory.headers(theirs))
    b["f1"] = book(client, session, candidate(factory, office="fuling", phone="13900000021")[1])
    return {"bookings": b, "registrations": r, "sessions": {"saturday": saturday}}


def _run(app, when: str, **kw) -> list[Queued]:
    app.config["FROZEN_NOW"] = when
    with app.app_context(), unit_of_work():
        return queue_reminders(datetime.fromisoformat(when), ExamSettings(), **kw)


def test_one_text_per_confirmed_booking_and_standing_registration_of_tomorrow(app, data):
    results = _run(app, "2026-11-27T08:00:00+08:00")
    assert results == [Queued("fuling", SATURDAY, 1, 0), Queued("nanchuan", SATURDAY, 2, 2)]
    b, r = data["bookings"], data["registrations"]
    sessions = data["sessions"]
    texts = outbox(app, "reminder:")
    assert [(key, phone) for key, phone, _ in texts] == [
        (f"reminder:exam-booking:{b['f1']['id']}:{b['f1']['session_id']}", "13900000021"),
        (f"reminder:exam-booking:{b['c1']['id']}:{sessions['saturday']['id']}", "13900000001"),
        (f"reminder:exam-booking:{b['c3']['id']}:{sessions['saturday']['id']}", "13900000003"),
        (f"reminder:tour-registration:{r['p1']['id']}", "13900000011"),
        (f"reminder:tour-registration:{r['p2']['id']}", "13900000012"),
    ]
    # The outbox's signature once, then the sitting (no second office name in brackets).
    assert texts[0][2].startswith("【南川车管所】11月28日 09:00")
    exam = texts[1][2]
    # Office-local times (09:00 in Chongqing is 01:00 UTC), the venue, the booking and how to cancel.
    assert exam.startswith("【南川车管所】11月28日 09:00 科目一（C1）考试，南川区机动车驾驶人考试中心 1号考场，")
    assert all(body.count("【") == 1 for _, _, body in texts)
    assert f"预约号{b['c1']['id']}" in exam
    # Candidates cancel online until the end of the day before (article 45).
    assert "请于11月28日 00:00前在网上取消预约" in exam and "01:00" not in exam
    tour = texts[3][2]
    # (the outbox puts the office's signature in front)
    assert tour.endswith("提醒：11月28日 09:00-10:30流动车管所在大观镇人民政府前坝子检验摩托车，"
                         "您的渝G10001已预约，请带行驶证和身份证。不能来请回复“取消 取消码”（见预约短信），或联系车管所。")


def test_a_second_run_queues_nothing(app, data):
    first = _run(app, "2026-11-27T08:00:00+08:00")
    assert sum(q.total for q in first) == 5
    again = _run(app, "2026-11-27T20:00:00+08:00")
    assert again == [Queued("fuling", SATURDAY, 0, 0), Queued("nanchuan", SATURDAY, 0, 0)]
    assert len(outbox(app, "reminder:")) == 5


def test_after_the_cut_off_the_text_says_to_call_the_office(app, data):
    from vmo.offices.services import get_office

    with app.app_context():
        get_office("nanchuan").phone = "023-71400000"
        db.session.commit()
    # An office whose online cancellations close at 18:00 the day before; the run is at 20:00.
    app.config["FROZEN_NOW"] = "2026-11-27T20:00:00+08:00"
    with app.app_context(), unit_of_work():
        queue_reminders(datetime.fromisoformat("2026-11-27T20:00:00+08:00"),
                        ExamSettings(office_rules={"nanchuan": {"cancel_until": "18:00"}}), office_code="nanchuan")
    exam = outbox(app, f"reminder:exam-booking:{data['bookings']['c1']['id']}:")[0][2]
    assert exam.endswith("如不能参加，请联系车管所（电话023-71400000）取消。") and "网上取消" not in exam
    tour = outbox(app, f"reminder:tour-registration:{data['registrations']['p1']['id']}")[0][2]
    assert tour.endswith("不能来请回复“取消 取消码”（见预约短信），或联系车管所（电话023-71400000）。")


def test_other_days_and_started_sessions_get_none(app, data):
    b = data["bookings"]
    sunday = _run(app, "2026-11-27T08:00:00+08:00", day=SUNDAY, office_code="nanchuan")
    assert sunday == [Queued("nanchuan", SUNDAY, 1, 1)]
    assert [t[1] for t in outbox(app, "reminder:")] == ["13900000005", "13900000015"]
    # Run late on the day itself: the Friday session has begun, so nobody is reminded of it.
    today = _run(app, "2026-11-27T15:00:00+08:00", day=FRIDAY, office_code="nanchuan")
    assert today == [Queued("nanchuan", FRIDAY, 0, 0)]
    assert not outbox(app, f"reminder:exam-booking:{b['c6']['id']}:")


def test_cli(app, runner, data):
    app.config["FROZEN_NOW"] = "2026-11-27T08:00:00+08:00"
    result = runner.invoke(args=["reminders", "send"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "fuling 2026-11-28: 1 test, 0 tour reminders queued",
        "nanchuan 2026-11-28: 2 test, 2 tour reminders queued",
        "queued 5 reminders; `vmo sms send` sends them",
    ]
    again = runner.invoke(args=["reminders", "send"])
    assert again.output.splitlines()[-1] == "queued 0 reminders; `vmo sms send` sends them"
    sunday = runner.invoke(args=["reminders", "send", "--date", "2026-11-29", "--office", "nanchuan"])
    assert sunday.output.splitlines() == ["nanchuan 2026-11-29: 1 test, 1 tour reminders queued",
                                          "queued 2 reminders; `vmo sms send` sends them"]
    sent = runner.invoke(args=["sms", "send"])
    assert sent.exit_code == 0, sent.output
    assert len(outbox(app, "reminder:")) == 7


@pytest.mark.parametrize("args, message", [
    (["--date", "2026-11-20"], "2026-11-20 is in the past"),
    (["--date", "28/11/2026"], "Invalid value for '--date'"),
    (["--office", "nowhere"], "no office 'nowhere'"),
])
def test_cli_refuses_bad_input_and_queues_nothing(app, runner, data, args, message):
    app.config["FROZEN_NOW"] = "2026-11-27T08:00:00+08:00"
    result = runner.invoke(args=["reminders", "send", *args])
    assert result.exit_code != 0 and message in result.output
    assert outbox(app, "reminder:") == []
