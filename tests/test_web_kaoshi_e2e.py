"""The candidates' app (/kaoshi/) in Chromium against gunicorn: find a session, join a waiting list,
cancel, book, be refused in Chinese, change, take the booking to the phone's calendar, subscribe with the
QR code; a ballot's draw, checked on the phone; a busy server (503, 429) waited out or explained."""
import re

import pytest
import requests

from tests.conftest import PASSWORD
from tests.helpers_exams import MONDAY, SATURDAY, SUNDAY, create_session, local
from tests.helpers_web import ENV, WebPage, backend, server, size, wait_text, web  # noqa: F401  (fixtures)
from tests.helpers_web import kaoshi_sign_in
from testkit.server import live_server
from tests.test_tablet_e2e import browser  # noqa: F401  (the Chromium fixture, skip and fail rules included)

pytestmark = pytest.mark.slow


def _book(client, factory, session_id: int, **body) -> dict:
    other = factory.candidate()
    response = client.post(f"/api/v1/test-sessions/{session_id}/bookings", json=body,
                           headers=factory.headers(other["username"]))
    assert response.status_code in (201, 202), response.get_json()
    return other


def _card(page, session_id: int):
    return page.locator(f'li.session[data-session-id="{session_id}"]')


def _qr_matrix(page, text: str) -> dict:
    return page.evaluate("async (text) => { const { encode } = await import('/kaoshi/qr.js'); "
                         "const q = encode(text); return {version: q.version, "
                         "rows: q.modules.map((r) => r.map((d) => (d ? '1' : '0')).join(''))}; }", text)


def _reference_masks(text: str, drawn: dict) -> list[int]:
    """The masks for which python-qrcode draws `text` at the drawn version exactly as the page did: one,
    since the format information in the code names its mask."""
    return [mask for mask in range(8) if _reference_rows(text, drawn["version"], mask) == drawn["rows"]]


def _reference_rows(text: str, version: int, mask: int) -> list[str]:
    """The same text, version and mask from python-qrcode (level M, byte mode), without the quiet zone."""
    import qrcode
    from qrcode.util import MODE_8BIT_BYTE, QRData

    code = qrcode.QRCode(version=version, error_correction=qrcode.constants.ERROR_CORRECT_M, border=0,
                         mask_pattern=mask)
    code.add_data(QRData(text.encode("utf-8"), mode=MODE_8BIT_BYTE), optimize=0)
    code.make(fit=False)
    return ["".join("1" if cell else "0" for cell in row) for row in code.get_matrix()]


def test_candidate_waits_cancels_books_changes_and_takes_the_calendar(web, server, client, factory):
    page = web.page
    officer = factory.headers(factory.staff("officer"))
    full = create_session(client, officer, capacity=1, starts_at=local(SATURDAY, 9), ends_at=local(SATURDAY, 10))
    first = create_session(client, officer, capacity=5, starts_at=local(SATURDAY, 14), ends_at=local(SATURDAY, 15))
    later = create_session(client, officer, capacity=5, starts_at=local(SUNDAY, 9), ends_at=local(SUNDAY, 10))
    subject2 = create_session(client, officer, subject=2, capacity=5, starts_at=local(MONDAY, 9),
                              ends_at=local(MONDAY, 12))
    _book(client, factory, full["id"])
    me = factory.candidate(username="web-wang")
    kaoshi_sign_in(page, "web-wang")

    # From the progress page to subject 1's sessions, by date, with seats and waiting lists.
    page.click('#subjects .subject[data-subject="1"] a.button')
    page.wait_for_selector("#session-list")
    assert re.search(r"#/sessions\?subject=1$", page.url)
    assert _card(page, full["id"]).locator(".seats-left").inner_text() == "余 0 座 / 共 1 座"
    assert _card(page, first["id"]).locator(".seats-left").inner_text() == "余 5 座 / 共 5 座"
    assert "2026-11-28 周六" in page.inner_text("#session-list")
    web.axe("the sessions page")
    web.shot("kaoshi-sessions")

    # A full first-come session: join its waiting list.
    _card(page, full["id"]).locator("button.join-waitlist").click()
    wait_text(page, "#flash", "已加入候补，目前排第 1 位")
    waiting = page.locator("li.booking").first
    assert waiting.locator(".status").inner_text() == "候补第 1 位"
    # Cancel it: two taps.
    waiting.locator("button.cancel").click()
    wait_text(page, "li.booking button.cancel", "确认取消？")
    waiting.locator("button.cancel").click()
    wait_text(page, "#flash", "已取消预约")
    page.wait_for_selector('li.booking[data-status="cancelled"]')

    # Book a seat; then the same subject again, and subject 2: refused, in Chinese, from the reason.
    page.click('nav a[href="#/sessions"]')
    page.wait_for_selector("#session-list")
    _card(page, first["id"]).locator("button.book").click()
    wait_text(page, "#flash", "预约成功：2026-11-28 14:00–15:00 周六")
    page.wait_for_selector('li.booking[data-status="confirmed"]')
    booked = page.locator('li.booking[data-status="confirmed"]')
    assert "2026-11-27 24:00 前可取消或改约" in booked.locator(".cutoff").inner_text()
    page.click('nav a[href="#/sessions"]')
    page.wait_for_selector("#session-list")
    _card(page, later["id"]).locator("button.book").click()
    wait_text(page, f'li.session[data-session-id="{later["id"]}"] .card-msg', "您已经有一个这个科目的预约")
    _card(page, subject2["id"]).locator("button.book").click()
    refused = f'li.session[data-session-id="{subject2["id"]}"] .card-msg'
    wait_text(page, refused, "请")
    # Subject 1 not passed: refused as out of order, or (with learner permits, Order 162) for want of a permit.
    assert page.inner_text(refused) in ("请先通过前面科目的考试", "还没有登记学习驾驶证明，请先到车管所办理")
    web.shot("kaoshi-refused")

    # Change to Sunday; the server is busy once (503, Retry-After: 1): the page waits and tries again.
    busy = {"left": 1}

    def once_busy(route):
        if busy["left"]:
            busy["left"] -= 1
            route.fulfill(status=503, headers={"Retry-After": "1", "Content-Type": "application/json"},
                          body='{"code": 503, "status": "Service Unavailable", "message": "busy"}')
        else:
            route.continue_()

    page.route(re.compile(r".*/api/v1/test-sessions\?subject=1.*"), once_busy)
    page.click('nav a[href="#/bookings"]')
    page.wait_for_selector('li.booking[data-status="confirmed"] a.change')
    page.click('li.booking[data-status="confirmed"] a.change')
    wait_text(page, "#busy", "服务繁忙")
    page.wait_for_selector("#change-list")
    assert busy["left"] == 0 and page.inner_text("#busy") == ""
    page.unroute(re.compile(r".*/api/v1/test-sessions\?subject=1.*"))
    _card(page, later["id"]).locator("button.change-to").click()
    wait_text(page, "#flash", "已改约到 2026-11-29 09:00–10:00 周日")
    booked = page.locator('li.booking[data-status="confirmed"]')
    assert "2026-11-29 09:00" in booked.inner_text() and "还可改约 1 次" in booked.inner_text()
    web.axe("the bookings page")

    # One booking into the phone's calendar: the .ics, fetched with the token, handed over as a file.
    with page.expect_download() as download:
        booked.locator("button.calendar").click()
    with open(download.value.path(), encoding="utf-8") as handle:
        ics = handle.read()
    assert download.value.suggested_filename.endswith(".ics")
    assert "BEGIN:VEVENT" in ics and "20261129T" in ics

    # All of them by subscription: the feed's address, and the same address as a QR code in the page.
    page.click("#make-feed")
    page.wait_for_selector("svg.qr")
    url = page.input_value("#feed-url")
    assert url.startswith(server.url + "/api/v1/calendars/candidates/")
    feed = requests.get(url, timeout=10)
    assert feed.status_code == 200 and feed.headers["Content-Type"].startswith("text/calendar")
    assert "20261129T" in feed.text
    drawn = _qr_matrix(page, url)
    assert page.get_attribute("svg.qr", "data-version") == str(drawn["version"])
    assert len(_reference_masks(url, drawn)) == 1
    assert page.get_attribute("svg.qr", "aria-label")
    web.axe("the bookings page with the subscription")
    web.shot("kaoshi-bookings")

    mine = client.get("/api/v1/bookings", headers=factory.headers("web-wang")).get_json()
    assert sorted((b["session_id"], b["status"]) for b in mine) == sorted(
        [(full["id"], "cancelled"), (later["id"], "confirmed")])
    assert me["license_class"] == "C1"
    assert web.problems() == []


def test_ballot_draw_is_shown_and_checked_on_the_phone(browser, app, client, factory, database_url, size):  # noqa: F811
    officer = factory.staff("officer")
    headers = factory.headers(officer)
    ballot = create_session(client, headers, capacity=2, allocation="ballot", kind="extra",
                            applications_close_at=local(SATURDAY.replace(day=26), 20),
                            starts_at=local(SATURDAY, 9), ends_at=local(SATURDAY, 10))
    for _ in range(3):
        _book(client, factory, ballot["id"])
    factory.candidate(username="web-ballot")
    with live_server(database_url, workers=1, threads=4, env=ENV) as before:
        web = WebPage(browser, size, base_url=before.url)
        try:
            page = web.page
            kaoshi_sign_in(page, "web-ballot")
            page.goto("/kaoshi/#/sessions")
            card = _card(page, ballot["id"])
            card.wait_for()
            assert "摇号，2026-11-26 20:00 报名截止" in card.inner_text()
            assert "加考" in card.inner_text() and "共 2 座，抽签后确定" in card.inner_text()
            card.locator("button.apply").click()
            wait_text(page, "#flash", "已报名摇号，2026-11-26 20:00 截止后抽签")
            page.wait_for_selector('li.booking[data-status="applied"]')
            assert web.problems() == []
        finally:
            web.close()

    # Two days later the applications have closed and the officer draws.
    after_env = {**ENV, "VMO_FROZEN_NOW": "2026-11-27T10:00:00+08:00"}
    with live_server(database_url, workers=1, threads=4, env=after_env) as after:
        token = requests.post(after.url + "/api/v1/auth/token", timeout=10,
                              json={"username": officer.username, "password": PASSWORD}).json()["token"]
        drawn = requests.post(f"{after.url}/api/v1/test-sessions/{ballot['id']}/draw", timeout=10,
                              headers={"Authorization": f"Bearer {token}"})
        assert drawn.status_code == 201, drawn.text
        web = WebPage(browser, size, base_url=after.url)
        try:
            page = web.page
            kaoshi_sign_in(page, "web-ballot")
            page.click('nav a[href="#/bookings"]')
            page.wait_for_selector("li.booking")
            page.click('li.booking a[href^="#/draw/"]')
            page.wait_for_selector("#draw-table")
            assert page.locator("#draw-table tbody tr").count() == 4
            assert page.locator("#draw-table tr.me").count() == 1
            assert page.inner_text("#draw-seed") == drawn.json()["seed"]
            page.click("#check-draw")
            page.wait_for_selector('#draw-check[data-ok="1"]')
            assert "本机核对一致" in page.inner_text("#draw-check")
            web.axe("the draw page")
            web.shot("kaoshi-draw")

            # A published result that does not follow from its seed: the phone says so.
            def swapped(route):
                body = route.fetch().json()
                body["winners"], body["waitlist"] = body["waitlist"][:2], body["winners"] + body["waitlist"][2:]
                route.fulfill(json=body)

            page.route(re.compile(r".*/api/v1/test-sessions/\d+/draw$"), swapped)
            page.reload()
            page.wait_for_selector("#draw-table")
            page.click("#check-draw")
            page.wait_for_selector('#draw-check[data-ok="0"]')
            assert "不一致" in page.inner_text("#draw-check") and "winners" in page.inner_text("#draw-check")
            assert web.problems() == []
        finally:
            web.close()


@pytest.mark.parametrize("size", ["phone"], indirect=True)
def test_qr_codes_match_a_reference_encoder(web, server):
    """The vendored encoder against python-qrcode: short and long, ASCII and Chinese (UTF-8), and enough
    texts that it picks several masks, each drawn module for module as the reference draws it."""
    page = web.page
    page.goto("/kaoshi/")
    page.wait_for_selector("#signin-username")
    texts = ["1", "https://example.gov.cn/feed.ics", "webcal://vmo.example/api/v1/calendars/candidates/" + "x" * 43 + ".ics",
             "南川车管所 考试预约", "A" * 150, "B" * 400, *(f"https://vmo.example/api/v1/calendars/candidates/{n}" for n in range(12))]
    masks = set()
    for text in texts:
        drawn = _qr_matrix(page, text)
        assert len(drawn["rows"]) == 17 + 4 * drawn["version"], text
        [mask] = _reference_masks(text, drawn)
        masks.add(mask)
    assert len(masks) >= 4, masks
    assert _qr_matrix(page, "A" * 700)["version"] > 20  # past the hand-written encoder's versions 1-20


@pytest.mark.parametrize("size", ["phone"], indirect=True)
def test_a_refused_sign_up_says_how_long_to_wait(browser, app, database_url, factory, size):  # noqa: F811
    """A real 429 from the sign-up limit: the page gives the wait from Retry-After, nothing is created."""
    factory.office  # noqa: B018
    env = {**ENV, "VMO_RATELIMIT_ENABLED": "true", "VMO_RATELIMIT_SIGNUPS_PER_ADDRESS": "1 per hour"}
    with live_server(database_url, workers=1, threads=4, env=env) as limited:
        web = WebPage(browser, size, base_url=limited.url)
        try:
            page = web.page
            for n, expect in ((1, "#subjects"), (2, None)):
                page.goto("/kaoshi/#/signup")
                page.wait_for_selector("#signup-id_number")
                from tests.conftest import make_id_number
                number = make_id_number(factory.rng)
                factory.application(number)  # accepted at the counter, so the first one opens
                page.fill("#signup-name", "王芳")
                page.fill("#signup-id_number", number)
                page.fill("#signup-phone", "13900139000")
                page.fill("#signup-username", f"limited-{n}")
                page.fill("#signup-password", PASSWORD)
                page.click("#signup-submit")
                if expect:
                    page.wait_for_selector("#verify-code")
                    page.fill("#verify-code", factory.texted_code(f"limited-{n}"))
                    page.click("#verify-submit")
                    page.wait_for_selector(expect)
                    page.click("#sign-out")
                    page.wait_for_selector("#signin-username")
            wait_text(page, "#signup-error", "请 60 分钟后再试")
            wait_text(page, "#busy", "请 60 分钟后再试")
            web.shot("kaoshi-busy")
            assert web.problems() == []
        finally:
            web.close()
    answer = requests.Session()
    del answer
    with app.app_context():
        from sqlalchemy import select

        from vmo.accounts.models import User
        from vmo.extensions import db
        assert db.session.scalar(select(User.id).where(User.username == "limited-2")) is None
