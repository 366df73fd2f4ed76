"""The companies' app (/qiye/) in Chromium against gunicorn: a CSV export read and checked row by row
before anything is sent, fixed in the page, refused once by the server and fixed again; a green-channel day
from the calendar (places left), the visit sheet to print, each vehicle's status refreshing itself as the
officers inspect and register, and the booking cancelled."""
import random

import pytest

from tests.conftest import PASSWORD, make_vin
from tests.helpers_fleet import batch, company, day_info, inspect, officer, open_day, register
from tests.helpers_web import backend, server, size, wait_text, web  # noqa: F401  (fixtures)
from tests.test_tablet_e2e import browser  # noqa: F401  (the Chromium fixture, skip and fail rules included)

pytestmark = pytest.mark.slow

HEADER = "vin,make,model,vehicle_type,fuel_type,color,invoice_number"


def _bad_check_digit(vin: str) -> str:
    return vin[:8] + ("0" if vin[8] != "0" else "1") + vin[9:]


def test_company_uploads_fixes_submits_books_prints_watches_and_cancels(web, server, client, factory):
    page = web.page
    owner = company(factory, username="web-fleet")
    staff = officer(factory)
    known = batch(client, factory, company(factory), 1)["vehicles"][0]["vin"]  # another company's vehicle
    open_day(client, staff, day="2026-11-26", capacity=2, note="上午")
    open_day(client, staff, day="2026-11-27", capacity=10)
    rng = random.Random(18)
    vins = [make_vin(rng) for _ in range(4)]
    csv = "\n".join([
        HEADER,
        f"{vins[0]},长安,CS75 PLUS,suv,petrol,白,05000001",
        f"{_bad_check_digit(vins[1])},长安,逸动,轿车,汽油,白,05000002",
        f"{vins[2]},比亚迪,秦PLUS DM-i,卡车,插电式混合动力,黑,05000003",
        f"{vins[0]},长安,CS75 PLUS,suv,petrol,白,05000004",
        f"{known},长安,UNI-T,suv,,灰,",
        f'{vins[3]},"长安,汽车",,van,diesel,蓝,05000006',
    ]) + "\r\n"
    posted = []
    page.on("request", lambda r: posted.append(r.url) if r.method == "POST" and "/fleet/batches" in r.url else None)

    page.goto("/qiye/#/signin")
    page.fill("#signin-username", "web-fleet")
    page.fill("#signin-password", PASSWORD)
    page.click("#signin-submit")
    page.wait_for_selector("main h2:text-is('我的批次')")
    page.click('nav a[href="#/new"]')
    page.wait_for_selector("#csv-file")
    # Excel in Chinese saves GB18030: the page reads it as such.
    page.set_input_files("#csv-file", files=[{"name": "export.csv", "mimeType": "text/csv",
                                              "buffer": csv.encode("gb18030")}])
    wait_text(page, "#file-info", "已读取 6 辆车")
    problems = page.locator("#problems li").all_inner_texts()
    assert problems == [
        "第 3 行 车架号：车架号校验不通过（第 9 位是校验位），请对照合格证逐位核对",
        "第 4 行 车辆类型：不是可选的值",
        "第 5 行 车架号：与第 2 行重复",
        "第 7 行 型号：必填",
    ], problems
    assert page.is_disabled("#submit-batch") and posted == []
    assert page.get_attribute("#v-1-vin", "aria-invalid") == "true"
    web.axe("the new batch page with problems")
    web.shot("qiye-csv-problems")

    # Fixed in the page: the VIN retyped, a type chosen, the repeated row removed, a model typed.
    page.fill("#v-1-vin", vins[1])
    page.select_option("#v-2-vehicle_type", "light_truck")
    page.click('#vehicle-table tr[data-line="5"] button.remove')
    page.fill('#vehicle-table tr[data-line="7"] input[data-column="model"]', "新豹")
    wait_text(page, "#check-summary", "5 辆车全部检查通过")
    page.fill("#batch-note", "11月新购车辆")
    page.click("#submit-batch")
    # The server knows one VIN already: its refusal lands on that row, and nothing was submitted.
    wait_text(page, "#problems", "第 6 行 车架号：这个车架号已经登记过")
    assert page.get_attribute('#vehicle-table tr[data-line="6"] input[data-column="vin"]', "aria-invalid") == "true"
    page.click('#vehicle-table tr[data-line="6"] button.remove')
    wait_text(page, "#check-summary", "4 辆车全部检查通过")
    page.click("#submit-batch")
    wait_text(page, "#flash", "共 4 辆")
    page.wait_for_selector("#vehicle-status")
    batch_id = int(page.url.rsplit("/", 1)[1])
    created = client.get(f"/api/v1/fleet/batches/{batch_id}", headers=owner.headers).get_json()
    assert [v["vin"] for v in created["vehicles"]] == vins
    assert [v["vehicle_type"] for v in created["vehicles"]] == ["suv", "passenger_car", "light_truck", "van"]
    assert created["vehicles"][3]["make"] == "长安,汽车" and created["note"] == "11月新购车辆"

    # The calendar: Thursday has 2 places (too few for 4 vehicles), Friday 10.
    thursday = page.locator('button.day[data-date="2026-11-26"]')
    assert thursday.get_attribute("aria-disabled") == "true" and "已满" in thursday.inner_text()
    thursday.click(force=True)  # aria-disabled, yet it answers a tap with the reason
    wait_text(page, "#day-detail", "这一天的名额不够本批次的 4 辆车")
    assert page.is_disabled("#pick-day")
    page.click('button.day[data-date="2026-11-27"]')
    friday = day_info(client, "2026-11-27")["available"]  # capacity less the share kept for priority visitors
    wait_text(page, "#day-detail", f"2026-11-27：余 {friday} 个名额（本批次需要 4 个）")
    web.axe("the batch page with the calendar")
    web.shot("qiye-calendar")
    page.click("#pick-day")
    wait_text(page, "#flash", "已预约 2026-11-27")
    wait_text(page, "#appointment-day", "查验日期 2026-11-27")
    assert day_info(client, "2026-11-27")["available"] == friday - 4

    # The visit sheet.
    page.click("#to-print")
    page.wait_for_selector("#print-vehicles")
    assert page.inner_text("#print-day") == "2026-11-27"
    assert page.locator("#print-vehicles tbody tr").all_inner_texts()[0].split("\t")[1] == vins[0]
    page.emulate_media(media="print")
    assert not page.is_visible("header.topbar") and not page.is_visible("#print")
    web.axe("the visit sheet")
    web.shot("qiye-print")
    page.emulate_media(media="screen")
    page.go_back()
    page.wait_for_selector("#vehicle-status")

    # Officers inspect and register (the first car's papers are in): the table shows it at its next
    # refresh, with no reload.
    assert client.patch(f"/api/v1/fleet/vehicles/{vins[0]}", json=factory.papers(), headers=owner.headers).status_code == 200
    assert inspect(client, staff, vins[0]).status_code == 201
    assert inspect(client, staff, vins[1], "fail", ["左前大灯不亮", "轮胎花纹深度不足"]).status_code == 201
    plate = register(client, staff, vins[0]).get_json()["plate"]
    page.clock.fast_forward(21_000)
    page.wait_for_selector(f'#vehicle-status tr[data-vin="{vins[0]}"][data-status="registered"]')
    assert page.inner_text(f'#vehicle-status tr[data-vin="{vins[0]}"] td.plate') == plate
    failed = page.locator(f'#vehicle-status tr[data-vin="{vins[1]}"]')
    assert failed.get_attribute("data-status") == "failed_inspection"
    assert failed.locator("td.defects").inner_text() == "左前大灯不亮；轮胎花纹深度不足"
    assert "查验不合格" in failed.inner_text()
    web.axe("the batch page with statuses")
    web.shot("qiye-batch")

    # Inspection has started: a cancel is refused, in Chinese.
    page.click("#cancel-appointment")
    page.click("#cancel-appointment")
    wait_text(page, "#appointment .card-msg", "查验已经开始")
    assert web.problems() == []


def test_company_cancels_a_booked_day_and_the_places_come_back(web, server, client, factory):
    page = web.page
    owner = company(factory, username="web-fleet-2")
    staff = officer(factory)
    submitted = batch(client, factory, owner, 3)
    open_day(client, staff, day="2026-11-27", capacity=5)
    page.goto("/qiye/#/signin")
    page.fill("#signin-username", "web-fleet-2")
    page.fill("#signin-password", PASSWORD)
    page.click("#signin-submit")
    page.wait_for_selector(f'li.batch[data-batch-id="{submitted["id"]}"] a')
    page.click(f'li.batch[data-batch-id="{submitted["id"]}"] a')
    page.click('button.day[data-date="2026-11-27"]')
    page.click("#pick-day")
    wait_text(page, "#appointment-day", "2026-11-27")
    page.click("#cancel-appointment")
    wait_text(page, "#cancel-appointment", "确认取消？")
    page.click("#cancel-appointment")
    wait_text(page, "#flash", "已取消预约，名额已释放")
    wait_text(page, 'button.day[data-date="2026-11-27"]', f'余 {day_info(client, "2026-11-27")["available"]}')
    appointment = client.get(f"/api/v1/fleet/batches/{submitted['id']}", headers=owner.headers).get_json()["appointment"]
    assert appointment is None or appointment["status"] == "cancelled"
    assert web.problems() == []
