"""The companies' app (/qiye/) in Chromium: a batch's plates and papers asked for by post (the address
checked in the page, in Chinese, before anything is sent), then the carrier and number once posted."""
import pytest

from tests.conftest import PASSWORD
from tests.helpers_fleet import batch, company, officer
from tests.helpers_web import backend, server, size, wait_text, web  # noqa: F401  (fixtures)
from tests.test_tablet_e2e import browser  # noqa: F401  (the Chromium fixture, skip and fail rules included)

pytestmark = pytest.mark.slow


def test_company_asks_for_its_batch_by_post_and_sees_the_tracking_number(web, server, client, factory):
    page = web.page
    owner = company(factory, username="web-mail")
    staff = officer(factory)
    submitted = batch(client, factory, owner, 1)
    posted = []
    page.on("request", lambda r: posted.append(r.url) if r.method == "POST" and r.url.endswith("/mailing") else None)
    page.goto("/qiye/#/signin")
    page.fill("#signin-username", "web-mail")
    page.fill("#signin-password", PASSWORD)
    page.click("#signin-submit")
    page.wait_for_selector(f'li.batch[data-batch-id="{submitted["id"]}"] a')
    page.click(f'li.batch[data-batch-id="{submitted["id"]}"] a')
    page.click("#mailing-request summary")
    page.fill("#mailing-recipient", "张经理")
    page.fill("#mailing-phone", "13883000001")
    page.fill("#mailing-address", "南川区东城街道金佛大道38号")
    page.click("#send-mailing")
    wait_text(page, "#mailing-address-error", "缺少省（自治区、直辖市）；缺少市（州）")
    assert page.get_attribute("#mailing-address", "aria-invalid") == "true" and posted == []
    web.axe("the mailing form with a problem")
    page.fill("#mailing-address", "重庆市南川区东城街道金佛大道38号")
    page.click("#send-mailing")
    wait_text(page, "#flash", "已申请邮寄")
    wait_text(page, "#mailing-status", "已申请邮寄")
    assert len(posted) == 1
    mailing = client.get(f"/api/v1/fleet/batches/{submitted['id']}/mailing", headers=owner.headers).get_json()
    assert (mailing["status"], mailing["address"]) == ("requested", "重庆市南川区东城街道金佛大道38号")
    # The office posts it: the page shows the carrier and the number.
    answer = client.patch(f"/api/v1/mailings/{mailing['id']}", headers=staff.headers,
                          json={"status": "sent", "tracking_number": "1187654321098"})
    assert answer.status_code == 200, answer.get_json()
    page.reload()
    wait_text(page, "#mailing-status", "已由EMS寄出，运单号 1187654321098")
    web.axe("the batch page with its mailing")
    web.shot("qiye-mailing")
    assert web.problems() == []
