"""Home visits on the tablet in a real browser (Chromium) against gunicorn: the visit in the officer's list,
the call button through the audited phone reveal, the outcome pressed without a signal, kept over a reload,
sent once the signal is back (and again, harmlessly, as after a lost answer), and an outcome the server
refuses shown to the officer."""
from datetime import datetime

import pytest
import requests
from sqlalchemy import func, select

from testkit.server import live_server
from tests.conftest import FROZEN_NOW, PASSWORD
from tests.test_tablet_e2e import (  # noqa: F401  (browser: the fixture)
    ARTIFACTS, TIMEOUT_MS, _wait_count, assert_no_script_errors, browser, show_failure,
)
from vmo.extensions import db

pytestmark = pytest.mark.slow

TODAY = datetime.fromisoformat(FROZEN_NOW).date().isoformat()
PERSON = {"name": "王德明", "phone": "13983000021", "address": "南川区大观镇中江村3组12号", "township": "大观镇",
          "reason": "elderly", "business": "机动车驾驶证期满换证"}


def _visit(client, headers, officer, window=("14:00", "16:00"), **person):
    created = client.post("/api/v1/home-visits", json={**PERSON, **person}, headers=headers)
    assert created.status_code == 201, created.get_json()
    visit_id = created.get_json()["id"]
    assigned = client.post(f"/api/v1/home-visits/{visit_id}/assign", headers=headers, json={
        "officer": officer, "date": TODAY, "window_from": window[0], "window_until": window[1]})
    assert assigned.status_code == 200, assigned.get_json()
    return visit_id


def _server_side(app, visit_id):
    from vmo.audit.models import AuditEntry
    from vmo.homevisits.models import HomeVisit
    from vmo.notify.models import OutboxMessage

    with app.app_context():
        visit = db.session.get(HomeVisit, visit_id)
        follow_ups = db.session.scalar(select(func.count(OutboxMessage.id)).where(
            OutboxMessage.kind == "follow_up", OutboxMessage.subject_id == visit_id))
        outcomes = db.session.scalar(select(func.count(AuditEntry.id)).where(
            AuditEntry.action == "home_visit.outcome", AuditEntry.entity_id == str(visit_id)))
        reveals = db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "phone.reveal"))
        db.session.expunge_all()
        return visit, follow_ups, outcomes, reveals


def _requeue(page, visit_id):
    """Put a synced outcome back in the queue, as if the answer to its first send had been lost."""
    page.evaluate("""(visitId) => new Promise((resolve, reject) => {
        const open = indexedDB.open("vmo-tablet");
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
            const tx = open.result.transaction(["outcomes"], "readwrite");
            const store = tx.objectStore("outcomes");
            const read = store.get(visitId);
            read.onsuccess = () => store.put({ ...read.result, state: "queued" });
            tx.oncomplete = () => { open.result.close(); resolve(); };
            tx.onerror = () => reject(tx.error);
        };
    })""", visit_id)


def test_a_home_visit_outcome_recorded_offline_syncs_once(app, client, factory, database_url, browser):  # noqa: F811
    supervisor = factory.staff("supervisor", "sup-chen")
    factory.staff("officer", "zhang", badge_number="500123", supervisor_username="sup-chen")
    factory.staff("officer", "liu", badge_number="500124", supervisor_username="sup-chen")
    sup = factory.headers(supervisor)
    visit_id = _visit(client, sup, "zhang")
    moved_id = _visit(client, sup, "zhang", window=("16:00", "18:00"), name="刘秀英", phone="13983000022")
    env = {"VMO_FROZEN_NOW": FROZEN_NOW, "VMO_SECRET_KEY": "e2e"}
    with live_server(database_url, workers=2, threads=4, env=env) as server:
        context = browser.new_context(viewport={"width": 800, "height": 1280}, locale="zh-CN", has_touch=True,
                                      service_workers="allow", timezone_id="UTC")
        page = context.new_page()
        console = []
        page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
        page.on("pageerror", lambda exc: console.append(f"pageerror: {exc}"))
        try:
            page.goto(server.url + "/tablet/", wait_until="load")
            page.fill("#username", "zhang")
            page.fill("#password", PASSWORD)
            page.click("#sign-in")
            link = f'a.visit-link[data-visit-id="{visit_id}"]'
            page.wait_for_selector(link, timeout=TIMEOUT_MS)
            page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=TIMEOUT_MS)
            assert "14:00–16:00" in page.inner_text(link) and "机动车驾驶证期满换证" in page.inner_text(link)

            # The visit's screen: address and business; the phone masked until the call button reveals it.
            page.click(link)
            page.wait_for_selector("#visit-address")
            assert page.inner_text("#visit-address") == "大观镇 南川区大观镇中江村3组12号"
            assert page.inner_text("#visit-business") == "机动车驾驶证期满换证"
            assert page.inner_text("#visit-phone") == "139****0021"
            page.click("#call")
            page.wait_for_selector("#call-link", timeout=TIMEOUT_MS)
            assert page.get_attribute("#call-link", "href") == "tel:13983000021"
            assert _server_side(app, visit_id)[3] == 1  # the reveal is in the audit log

            # No signal: the call button cannot reveal, the outcome is kept on the tablet.
            context.set_offline(True)
            page.wait_for_selector('#net[data-state="offline"]')
            page.click("a.back")
            page.click(link)
            page.click("#call")
            page.wait_for_selector('#visit-error:text-is("查看完整号码需要网络连接")')
            page.fill("#visit-note", "新证已交本人")
            page.click("#outcome-done")
            page.wait_for_selector('#visit-state[data-state="queued"]', timeout=TIMEOUT_MS)
            assert page.is_disabled("#outcome-not_home")  # one outcome per visit
            page.click("a.back")
            page.click(f'a.visit-link[data-visit-id="{moved_id}"]')
            page.click("#outcome-not_home")
            page.wait_for_selector('#visit-state[data-state="queued"]', timeout=TIMEOUT_MS)
            page.click("a.back")
            _wait_count(page, "#pending-count", 2)
            page.screenshot(path=str(ARTIFACTS / "tablet-home-visits-offline.png"), full_page=True)

            # A reload without a signal: the shell from the service worker, the outcomes from IndexedDB.
            response = page.reload(wait_until="load")
            assert response is not None and response.from_service_worker
            page.wait_for_selector(f'{link}[data-state="queued"]', timeout=TIMEOUT_MS)
            _wait_count(page, "#pending-count", 2)
            assert _server_side(app, visit_id)[0].status == "scheduled"  # nothing reached the server yet

            # Meanwhile the office gives the second visit to another officer: that outcome will be refused.
            token = requests.post(server.url + "/api/v1/auth/token", timeout=10,
                                  json={"username": "sup-chen", "password": PASSWORD}).json()["token"]
            moved = requests.post(f"{server.url}/api/v1/home-visits/{moved_id}/assign", timeout=10,
                                  headers={"Authorization": f"Bearer {token}"},
                                  json={"officer": "liu", "date": TODAY, "window_from": "16:00", "window_until": "18:00"})
            assert moved.status_code == 200, moved.text

            # The signal comes back: the `online` event sends them.
            context.set_offline(False)
            _wait_count(page, "#pending-count", 0)
            _wait_count(page, "#problem-count", 1)
            refused = page.locator(f'a.visit-link[data-visit-id="{moved_id}"]')
            refused.wait_for(timeout=TIMEOUT_MS)
            assert refused.get_attribute("data-state") == "rejected" and "被退回" in refused.inner_text()
            # The visit done is no longer in the officer's list (the server has its outcome).
            page.wait_for_selector(link, state="detached", timeout=TIMEOUT_MS)
            visit, follow_ups, outcomes, _ = _server_side(app, visit_id)
            assert (visit.status, visit.note, follow_ups, outcomes) == ("done", "新证已交本人", 1, 1)
            assert visit.outcome_client_id and visit.recorded_at is not None

            # The answer to that send was lost: the tablet sends it again; the server changes nothing.
            _requeue(page, visit_id)
            page.click("#sync-now")
            _wait_count(page, "#pending-count", 0)
            page.wait_for_function("() => !document.querySelector('#sync-now').disabled", timeout=TIMEOUT_MS)
            assert _server_side(app, visit_id)[1:3] == (1, 1)

            # The refused outcome says why, in the visit's screen, and goes after two taps.
            refused.click()
            page.wait_for_selector('#visit-state[data-state="rejected"]')
            assert "not assigned to you" in page.inner_text("#visit-state")
            page.click("#visit-dismiss")
            page.click('#visit-dismiss[data-armed="1"]')
            _wait_count(page, "#problem-count", 0)
            assert_no_script_errors(console)
        except Exception:
            show_failure(console, server)
            raise
        finally:
            context.close()
    moved_visit = _server_side(app, moved_id)[0]
    assert (moved_visit.status, moved_visit.outcome) == ("scheduled", None)  # liu's to do, untouched
