"""The candidates' app (/kaoshi/) with the national test rules, in Chromium against gunicorn: the learner
permit and bookings left on the progress page, a subject 2 booking, and after the test day its result
with both scores and one booking fewer left."""
import pytest
import requests

from tests.conftest import PASSWORD
from tests.helpers_exams import SATURDAY, create_session, local
from tests.helpers_web import ENV, WebPage, backend, size, wait_text  # noqa: F401  (fixtures)
from tests.helpers_web import kaoshi_sign_in
from testkit.server import live_server
from tests.test_tablet_e2e import browser  # noqa: F401  (the Chromium fixture, skip and fail rules included)

pytestmark = pytest.mark.slow


def test_permit_bookings_left_and_a_result_with_its_scores(browser, app, client, factory, database_url, size):  # noqa: F811
    officer = factory.staff("officer")
    headers = factory.headers(officer)
    session = create_session(client, headers, subject=2, capacity=5, starts_at=local(SATURDAY, 9),
                             ends_at=local(SATURDAY, 12))
    candidate = factory.candidate(username="web-permit")
    permit = client.put(f"/api/v1/candidates/{candidate['id']}/learner-permit", headers=headers,
                        json={"license_class": "C1", "issued_on": "2026-10-10"})
    assert permit.status_code == 200, permit.get_json()

    with live_server(database_url, workers=1, threads=4, env=ENV) as before:
        web = WebPage(browser, size, base_url=before.url)
        try:
            page = web.page
            kaoshi_sign_in(page, "web-permit")
            wait_text(page, "#permit", "学习驾驶证明 2026-10-10 签发")
            assert "考试合格" in page.inner_text('#subjects .subject[data-subject="1"]')
            second = page.inner_text('#subjects .subject[data-subject="2"]')
            assert "现在可以预约" in second and "还可预约 5 次（已用 0 次）" in second
            web.axe("the progress page with a permit")
            web.shot("kaoshi-progress-permit")
            page.click('#subjects .subject[data-subject="2"] a.button')
            page.locator(f'li.session[data-session-id="{session["id"]}"] button.book').click()
            wait_text(page, "#flash", "预约成功")
            assert web.problems() == []
        finally:
            web.close()

    # After the test: the officer records the sitting, a fail with a failed same-day retake.
    with live_server(database_url, workers=1, threads=4, env={**ENV, "VMO_FROZEN_NOW": "2026-11-28T13:00:00+08:00"}) as after:
        token = requests.post(after.url + "/api/v1/auth/token", timeout=10,
                              json={"username": officer.username, "password": PASSWORD}).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        booking_id = requests.get(after.url + f"/api/v1/bookings?session_id={session['id']}", headers=auth,
                                  timeout=10).json()[0]["id"]
        recorded = requests.post(f"{after.url}/api/v1/test-sessions/{session['id']}/outcomes", headers=auth, timeout=10,
                                 json={"results": [{"booking_id": booking_id, "outcome": "failed", "score": 70,
                                                    "retake_score": 76}]})
        assert recorded.status_code == 200, recorded.text
        web = WebPage(browser, size, base_url=after.url)
        try:
            page = web.page
            page.clock.install(time=__import__("datetime").datetime.fromisoformat("2026-11-28T13:00:00+08:00"))
            kaoshi_sign_in(page, "web-permit")
            assert "还可预约 4 次（已用 1 次）" in page.inner_text('#subjects .subject[data-subject="2"]')
            page.click('nav a[href="#/bookings"]')
            page.wait_for_selector('li.booking .result[data-outcome="failed"]')
            assert page.inner_text("li.booking .result") == "不合格 70 分 · 补考 76 分"
            web.axe("the bookings page with a result")
            web.shot("kaoshi-result")
            assert web.problems() == []
        finally:
            web.close()
