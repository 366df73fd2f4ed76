"""The companies' app (/qiye/) in Chromium: a company waiting for the office's check is told what to bring to
the counter and sees no calendar or plate choice; a declined one sees why; a company fills in a vehicle's
papers (a bad number refused in the page, a server refusal shown on its field) and the table shows them."""
import pytest

from tests.conftest import PASSWORD
from tests.helpers_fleet import batch, company, officer, open_day, submit
from tests.helpers_web import backend, server, size, wait_text, web  # noqa: F401  (fixtures)
from tests.test_tablet_e2e import browser  # noqa: F401  (the Chromium fixture, skip and fail rules included)

pytestmark = pytest.mark.slow


def sign_in(page, username):
    page.goto("/qiye/#/signin")
    page.fill("#signin-username", username)
    page.fill("#signin-password", PASSWORD)
    page.click("#signin-submit")
    page.wait_for_selector("main h2:text-is('我的批次')")


def test_a_pending_company_is_told_what_to_bring_and_books_nothing(web, server, client, factory):
    page = web.page
    owner = company(factory, username="web-pending", approved=False)
    staff = officer(factory)
    data = batch(client, factory, owner, 2)
    open_day(client, staff, day="2026-11-27", capacity=10)
    sign_in(page, "web-pending")
    state = page.locator("#company-state")
    assert state.get_attribute("data-status") == "pending"
    assert "等待车管所审核" in state.inner_text()
    assert page.locator("#bring-list li").all_inner_texts() == [
        f"营业执照原件（核对统一社会信用代码 {owner.credit_code}）", "经办人身份证原件",
        "授权委托书，加盖单位公章（法定代表人本人办理的不需要）"]
    web.axe("the batches page of a pending company")
    web.shot("qiye-pending")
    page.click(f'li.batch[data-batch-id="{data["id"]}"] a')
    page.wait_for_selector("#vehicle-status")
    # No calendar and no plate choice for it: the same notice where the calendar would be.
    assert page.locator("#day-picker").count() == 0 and page.locator("#company-state").count() == 1
    assert page.locator('#vehicle-status a[href*="/plate/"]').count() == 0
    # Reaching the plates page by its address anyway: the server refuses, the page says it cannot now.
    page.goto(f"/qiye/#/batch/{data['id']}/plate/{data['vehicles'][0]['vin']}")
    wait_text(page, "main", "贵单位尚未通过车管所审核，暂不能预约、申请绿色通道或选号")

    # The officer approves it at the counter: the calendar appears.
    approved = client.post(f"/api/v1/companies/{owner.id}/approve", json={"licence_credit_code": owner.credit_code},
                           headers=staff.headers)
    assert approved.status_code == 200
    page.goto(f"/qiye/#/batch/{data['id']}")
    page.wait_for_selector("#day-picker")
    assert page.locator("#company-state").count() == 0
    assert page.locator('#vehicle-status a[href*="/plate/"]').count() == 2
    assert web.problems() == []


def test_a_declined_company_sees_the_reason(web, server, client, factory):
    page = web.page
    owner = company(factory, username="web-declined", approved=False)
    staff = officer(factory)
    assert client.post(f"/api/v1/companies/{owner.id}/decline", json={"reason": "营业执照已注销"},
                       headers=staff.headers).status_code == 200
    sign_in(page, "web-declined")
    state = page.locator("#company-state")
    assert state.get_attribute("data-status") == "declined"
    assert "审核未通过" in state.inner_text() and "原因：营业执照已注销" in state.inner_text()
    web.axe("the batches page of a declined company")
    assert web.problems() == []


def test_company_fills_in_a_vehicles_papers(web, server, client, factory):
    page = web.page
    owner = company(factory, username="web-papers")
    vehicles = factory.vehicles(2, papers=False)
    vehicles[1].update(factory.papers())
    data = submit(client, owner.headers, vehicles).get_json()
    vin = data["vehicles"][0]["vin"]
    sign_in(page, "web-papers")
    page.click(f'li.batch[data-batch-id="{data["id"]}"] a')
    page.wait_for_selector("#vehicle-status")
    row = page.locator(f'#vehicle-status tr[data-vin="{vin}"] td.papers')
    assert "缺合格证编号、完税证明号码、交强险保单号、使用性质" in row.inner_text()
    assert "齐全" in page.locator(f'#vehicle-status tr[data-vin="{data["vehicles"][1]["vin"]}"] td.papers').inner_text()
    row.locator("a.fill-papers").click()
    page.wait_for_selector("#papers-form")
    # Checked in the page first: a short number and characters no paper has.
    page.fill("#papers-certificate_number", "WDY123")
    page.fill("#papers-insurance_policy", "保单2026")
    page.click("#save-papers")
    wait_text(page, "#papers-certificate_number-error", "应为 10–20 位，现在是 6 位")
    wait_text(page, "#papers-insurance_policy-error", "只能是字母和数字")
    assert page.get_attribute("#papers-certificate_number", "aria-invalid") == "true"
    web.axe("the papers form with problems")
    web.shot("qiye-papers")
    page.fill("#papers-certificate_number", "wdy 1234 5678 9012")
    page.fill("#papers-insurance_policy", "PDZA-2026-5001-0000-012345")
    page.fill("#papers-purchase_tax_number", "350012026001234567")
    page.select_option("#papers-use_character", "租赁")
    page.click("#save-papers")
    wait_text(page, "#flash", f"{vin} 的证件已保存")
    page.wait_for_selector("#vehicle-status")
    wait_text(page, f'#vehicle-status tr[data-vin="{vin}"] td.papers', "齐全")
    stored = client.get(f"/api/v1/fleet/vehicles/{vin}", headers=owner.headers).get_json()
    papers = ("certificate_number", "purchase_tax_number", "insurance_policy", "use_character")
    assert {k: stored[k] for k in papers} == {
        "certificate_number": "WDY123456789012", "purchase_tax_number": "350012026001234567",
        "insurance_policy": "PDZA202650010000012345", "use_character": "租赁"}
    assert web.problems() == []
