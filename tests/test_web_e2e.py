"""The candidates' and companies' web apps in Chromium (Playwright, Debian's /usr/bin/chromium) against a
live gunicorn: each journey at phone and desktop size, axe-core's accessibility checks, no CSP refusal.
Screenshots go to tests/artifacts/."""
from contextlib import contextmanager

import pytest
import requests

from tests.conftest import PASSWORD, make_credit_code, make_id_number
from tests.helpers_web import FIRST_PAGE_BUDGET, backend, server, size, wait_text, web  # noqa: F401  (fixtures)
from tests.test_tablet_e2e import browser  # noqa: F401  (the Chromium fixture, skip and fail rules included)

pytestmark = pytest.mark.slow


def _first_load(web, path: str) -> int:
    """Open `path` fresh and count the bytes of every answer the first page needed."""
    sizes = []

    def count(response):
        if response.status == 200:
            sizes.append(len(response.body()))

    web.page.on("response", count)
    web.page.goto(path, wait_until="networkidle")
    web.page.remove_listener("response", count)
    return sum(sizes)


@contextmanager
def _outbox(factory):
    """The outbox's bodies of a kind, read from the database the server writes to."""
    from sqlalchemy import select

    from vmo.extensions import db
    from vmo.notify.models import OutboxMessage

    with factory.app.app_context():
        yield lambda kind: list(db.session.scalars(select(OutboxMessage.body).where(OutboxMessage.kind == kind)))


def _sign_up_candidate(page, username: str, id_number: str) -> None:
    page.fill("#signup-name", "王芳")
    page.fill("#signup-id_number", id_number)
    page.fill("#signup-phone", "139 0013 9000")
    page.select_option("#signup-license_class", "C1")
    page.fill("#signup-username", username)
    page.fill("#signup-password", PASSWORD)
    page.click("#signup-submit")


def test_candidate_signs_up_checks_progress_signs_out_and_in_again(web, server, factory):
    page = web.page
    officer = factory.staff("officer")
    posted = []
    page.on("request", lambda r: posted.append(r.url) if r.method == "POST" else None)
    assert _first_load(web, "/kaoshi") < FIRST_PAGE_BUDGET
    assert page.url == server.url + "/kaoshi/#/signin" or page.url.endswith("/kaoshi/")
    page.wait_for_selector("#signin-username")
    web.axe("the candidate sign-in page")
    web.shot("kaoshi-signin")

    page.click("#to-signup")
    page.wait_for_selector("#signup-id_number")
    good = make_id_number(factory.rng)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    _sign_up_candidate(page, "web-cand", bad)
    # The check digit is checked in the page: a Chinese message on the field, nothing sent.
    wait_text(page, "#signup-id_number-error", "校验不通过")
    assert page.get_attribute("#signup-id_number", "aria-invalid") == "true"
    assert page.evaluate("() => document.activeElement.id") == "signup-id_number"
    assert not [url for url in posted if "/api/v1/candidates" in url]
    web.axe("the sign-up form with an error")
    web.shot("kaoshi-signup-error")

    page.fill("#signup-id_number", good)
    page.fill("#signup-username", "web-early")
    page.click("#signup-submit")
    # Before the office accepted the application: the page says where a code would go and to go to the
    # counter or the driving school first, without saying whether this number was accepted; no code comes.
    page.wait_for_selector("#verify-code")
    assert page.url.endswith("#/verify")
    sent = page.inner_text("#verify-sent")
    assert "受理时登记的手机" in sent and "9000" not in sent
    assert "请先带身份证和体检证明到车管所窗口或驾校办理" in page.inner_text("#verify-first")
    web.axe("the code page")
    web.shot("kaoshi-verify")
    page.fill("#verify-code", "123456")
    page.click("#verify-submit")
    wait_text(page, "#verify-code-error", "验证码不对或已过期")
    with _outbox(factory) as outbox:
        assert outbox("candidate_code") == []

    # The driving school's submission is accepted at the counter (受理), with the phone 13900139000.
    factory.application(good, phone="13900139000")
    page.goto("/kaoshi/#/signup")
    page.wait_for_selector("#signup-id_number")
    _sign_up_candidate(page, "web-cand", good)
    # The same page as before; now the code goes to the accepted phone (read from the outbox, as from it).
    page.wait_for_selector("#verify-code")
    assert page.inner_text("#verify-sent") == sent
    page.fill("#verify-code", factory.texted_code("web-cand"))
    page.click("#verify-submit")
    page.wait_for_selector("#subjects .subject")
    assert page.url.endswith("#/progress")
    wait_text(page, "#flash", "注册成功")
    assert page.locator("#subjects .subject").count() == 4
    assert "现在可以预约" in page.inner_text('#subjects .subject[data-subject="1"]')
    web.axe("the progress page")
    web.shot("kaoshi-progress")

    # The same ID number again: the page answers as for any sign-up (nothing confirms that the number
    # has an account); no code comes, so no code opens it; the owner is told by text.
    page.click("#sign-out")
    page.wait_for_selector("#signin-username")
    page.click("#to-signup")
    page.wait_for_selector("#signup-id_number")
    _sign_up_candidate(page, "web-cand-2", good)
    page.wait_for_selector("#verify-code")
    assert page.inner_text("#verify-sent") == sent
    assert "已被注册" not in page.inner_text("main")
    page.fill("#verify-code", "123456")
    page.click("#verify-submit")
    wait_text(page, "#verify-code-error", "验证码不对或已过期")
    # Signing in to it leads back to the code page, as for any account whose phone is not confirmed.
    page.goto("/kaoshi/#/signin")
    page.wait_for_selector("#signin-username")
    page.fill("#signin-username", "web-cand-2")
    page.fill("#signin-password", PASSWORD)
    page.click("#signin-submit")
    page.wait_for_selector("#verify-code")
    assert page.inner_text("#verify-sent") == sent

    # Wrong password, an officer's account, then the right one.
    page.goto("/kaoshi/#/signin")
    page.wait_for_selector("#signin-username")
    page.fill("#signin-username", "web-cand")
    page.fill("#signin-password", "not-the-password")
    page.click("#signin-submit")
    wait_text(page, "#signin-error", "用户名或密码不正确")
    page.fill("#signin-username", officer.username)
    page.fill("#signin-password", PASSWORD)
    page.click("#signin-submit")
    wait_text(page, "#signin-error", "不能在这里使用")
    page.fill("#signin-username", "web-cand")
    page.fill("#signin-password", PASSWORD)
    page.click("#signin-submit")
    page.wait_for_selector("#subjects .subject")

    # English on request, kept across a reload.
    page.click("#lang")
    wait_text(page, "main h2", "My test progress")
    page.reload()
    wait_text(page, "main h2", "My test progress")
    assert page.get_attribute("html", "lang") == "en"
    assert web.problems() == []


def _sign_up_company(page, username: str, credit_code: str) -> None:
    page.fill("#signup-name", "重庆市南川区丰昌汽车服务有限公司")
    page.fill("#signup-credit_code", credit_code)
    page.fill("#signup-contact_name", "李明")
    page.fill("#signup-contact_phone", "13800138000")
    page.fill("#signup-username", username)
    page.fill("#signup-password", PASSWORD)
    page.click("#signup-submit")


def test_company_signs_up_with_its_credit_code_and_signs_in_again(web, server, factory):
    page = web.page
    factory.office  # noqa: B018  (sign-ups go to the default office)
    posted = []
    page.on("request", lambda r: posted.append(r.url) if r.method == "POST" else None)
    assert _first_load(web, "/qiye") < FIRST_PAGE_BUDGET
    page.wait_for_selector("#signin-username")
    web.axe("the company sign-in page")
    web.shot("qiye-signin")

    page.click("#to-signup")
    page.wait_for_selector("#signup-credit_code")
    good = make_credit_code(factory.rng)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    _sign_up_company(page, "web-co", bad)
    wait_text(page, "#signup-credit_code-error", "校验不通过")
    assert not [url for url in posted if "/api/v1/companies" in url]
    web.axe("the company sign-up form with an error")
    page.fill("#signup-credit_code", good)
    page.click("#signup-submit")
    page.wait_for_selector("main h2:text-is('我的批次')")
    wait_text(page, "#flash", "注册成功")
    web.axe("the batches page")
    web.shot("qiye-batches-empty")

    page.click("#sign-out")
    page.wait_for_selector("#signin-username")
    page.fill("#signin-username", "web-co")
    page.fill("#signin-password", PASSWORD)
    page.click("#signin-submit")
    page.wait_for_selector("main h2:text-is('我的批次')")
    # The token works for the API as the company (the page kept nothing else).
    token = requests.post(server.url + "/api/v1/auth/token", json={"username": "web-co", "password": PASSWORD},
                          timeout=10).json()["token"]
    me = requests.get(server.url + "/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
    assert me["role"] == "company" and me["company"]["credit_code"] == good
    assert web.problems() == []
