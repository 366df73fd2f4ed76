"""The companies' app (/qiye/) with the green channel as the office runs it, in Chromium against gunicorn:
the arrival window on the calendar and the visit sheet, a whole-batch move to another day, a request for
the green channel, and a plate chosen from the 50 choices and one composed, refused by the rules."""
import pytest

from tests.conftest import PASSWORD
from tests.helpers_fleet import batch, company, day_info, officer, open_day
from tests.helpers_web import backend, server, size, wait_text, web  # noqa: F401  (fixtures)
from tests.test_tablet_e2e import browser  # noqa: F401  (the Chromium fixture, skip and fail rules included)

pytestmark = pytest.mark.slow


def _open_batch(page, username: str, batch_id: int) -> None:
    page.goto("/qiye/#/signin")
    page.fill("#signin-username", username)
    page.fill("#signin-password", PASSWORD)
    page.click("#signin-submit")
    page.wait_for_selector(f'li.batch[data-batch-id="{batch_id}"] a')
    page.click(f'li.batch[data-batch-id="{batch_id}"] a')
    page.wait_for_selector("#vehicle-status")


def test_company_books_with_the_arrival_window_moves_the_day_and_chooses_plates(web, server, client, factory):
    page = web.page
    owner = company(factory, username="web-plates")
    staff = officer(factory)
    submitted = batch(client, factory, owner, 2)
    vins = [v["vin"] for v in submitted["vehicles"]]
    open_day(client, staff, day="2026-11-26", capacity=10, arrive_from="09:00", arrive_until="11:00")
    open_day(client, staff, day="2026-11-27", capacity=10, arrive_from="14:00", arrive_until="16:30")
    _open_batch(page, "web-plates", submitted["id"])

    # Before the batch has a day, no plate: the page says why.
    page.goto(f"/qiye/#/batch/{submitted['id']}/plate/{vins[0]}")
    page.wait_for_selector("p.notice.warn >> text=批次预约查验日期（或获批绿色通道）后才能选号")
    _open_batch(page, "web-plates", submitted["id"])

    page.click('button.day[data-date="2026-11-26"]')
    wait_text(page, "#day-detail", "到达时间 09:00–11:00")
    page.click("#pick-day")
    wait_text(page, "#appointment-day", "查验日期 2026-11-26 · 到达时间 09:00–11:00")

    # The whole batch moves to Friday; Thursday's places come back.
    thursday = day_info(client, "2026-11-26")["available"]
    page.click("#move-appointment")
    page.click('#move-box button.day[data-date="2026-11-27"]')
    page.click("#pick-day")
    wait_text(page, "#flash", "已改到 2026-11-27")
    wait_text(page, "#appointment-day", "到达时间 14:00–16:30")
    assert day_info(client, "2026-11-26")["available"] == thursday + 2

    # A plate from the 50 choices for the first vehicle; a composed one for the second, refused, then one kept.
    page.click(f'#vehicle-status tr[data-vin="{vins[0]}"] a[href*="/plate/"]')
    page.wait_for_selector("#plate-form")
    assert page.locator('#plate-form input[type="radio"]').count() == 50
    chosen = page.locator('#plate-form input[type="radio"]').nth(7).get_attribute("value")
    page.locator('#plate-form input[type="radio"]').nth(7).check()
    web.axe("the plate choice page")
    web.shot("qiye-plates")
    page.click("#take-plate")
    wait_text(page, "#flash", f"已选定 {chosen}")
    wait_text(page, f'#vehicle-status tr[data-vin="{vins[0]}"] td.plate', chosen)
    page.click(f'#vehicle-status tr[data-vin="{vins[1]}"] a[href*="/plate/"]')
    page.wait_for_selector("#plate-form")
    page.fill("#own-plate", "渝GIO123")
    page.click("#take-plate")
    wait_text(page, "#plate-msg", "不符合规则")
    page.fill("#own-plate", "渝G88888")  # a number the office keeps back
    page.click("#take-plate")
    wait_text(page, "#plate-msg", "车管所不对外发放")

    # The visit sheet carries the window and each vehicle's chosen plate.
    page.goto(f"/qiye/#/batch/{submitted['id']}/print")
    page.wait_for_selector("#print-vehicles")
    assert page.inner_text("#print-window") == "14:00–16:30"
    assert page.inner_text(f'#print-vehicles tr[data-vin="{vins[0]}"] td.plate') == chosen
    assert web.problems() == []


def test_company_asks_for_the_green_channel(web, server, client, factory):
    page = web.page
    owner = company(factory, username="web-request")
    submitted = batch(client, factory, owner, 3)
    _open_batch(page, "web-request", submitted["id"])
    page.click("#appointment details summary")
    page.fill("#wanted-date", "2026-11-26")
    page.fill("#request-note", "新购车辆急需上户运营")
    web.axe("the green-channel request form")
    page.click("#send-request")
    wait_text(page, "#flash", "已提交申请，请等待车管所安排")
    requests_seen = client.get("/api/v1/green-channel/requests", headers=officer(factory).headers).get_json()
    assert [(r["batch_id"], r["wanted_date"], r["status"]) for r in requests_seen] == [
        (submitted["id"], "2026-11-26", "requested")]
    assert web.problems() == []
