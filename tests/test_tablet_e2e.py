"""The tablet app in a real browser (Playwright driving Debian's Chromium) against gunicorn: sign in, pull,
log inspections offline with photos, reload offline, sync exactly once, and show a conflicting and a rejected
record to the officer with their reasons. Screenshots go to tests/artifacts/."""
import os
from pathlib import Path

import pytest
import requests

from testkit.server import REPO, live_server
from tests.conftest import FROZEN_NOW, PASSWORD
from tests.helpers_mobile import CHECKS, add_motorcycle, inspections, make_tour, png_bytes, record, sha
from tests.test_tablet import precache

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("VMO_CHROMIUM", "/usr/bin/chromium")  # Debian's package; never `playwright install`
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = REPO / "tests" / "artifacts"
PLATES = ["渝G10001", "渝G10002", "渝G10003"]
WALK_IN = "渝G20001"
SQUARE = (29.158021, 107.099534)  # the township square, as the tablet's GPS reports it
BAD_VIN = "渝G20002"  # logged with a frame number the server refuses: rejected, with the reason
TIMEOUT_MS = 20_000


def _browser_or_skip():
    """Playwright and Chromium, or a skip that says what is missing (a failure when a browser is required)."""
    required = (os.environ.get("VMO_REQUIRE_BROWSER") == "1"
                or os.environ.get("CI", "").lower() in ("1", "true", "yes"))
    missing = []
    if not os.path.exists(CHROMIUM):
        missing.append(f"Chromium ({CHROMIUM}; install it with `apt-get install -y chromium`)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package (pip install -e '.[test]')")
    if missing:
        message = "browser tests need " + " and ".join(missing)
        if required:
            pytest.fail(message + " (required here: VMO_REQUIRE_BROWSER=1 or CI is set)")
        pytest.skip(message)


@pytest.fixture
def browser():
    _browser_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def assert_no_script_errors(console: list[str]) -> None:
    """Nothing was refused by a Content-Security-Policy, and no script error happened."""
    assert not [line for line in console if "Content Security Policy" in line or line.startswith("pageerror")]


def show_failure(console: list[str], server) -> None:
    """After a failure: the browser's last console lines and the server's log."""
    print("\n".join(console[-40:]))
    print(server.log()[-3000:])


# Predicates are functions, not expressions: Playwright evaluates an expression with eval(), which the
# app's Content-Security-Policy (script-src 'self') forbids.
def _wait_count(page, selector, expected):
    page.wait_for_function(
        "([sel, n]) => { const el = document.querySelector(sel); return el && el.dataset.n === String(n); }",
        arg=[selector, expected], timeout=TIMEOUT_MS)


def _log_inspection(page, plate, photo: bytes | None, *, fail_item=None, odometer="12345", vin=None, shot=None,
                    kind=None, register=None):
    """On the stop screen: open a registered plate (or a walk-in), fill the form, save.

    `register`: the (VIN, engine number) the form must show next to the checklist; `kind`: the photo's kind.
    """
    registered = page.locator(f'a.reg[data-plate="{plate}"]')
    if registered.count():
        registered.click()
    else:
        page.fill("#plate-search", plate)
        page.click("#walk-in")
    page.wait_for_selector("form.inspect")
    if register:
        assert (page.inner_text("#reg-vin"), page.inner_text("#reg-engine")) == register
        assert page.inner_text("#reg-phone") == "138****8001"  # the owner's phone, masked
    # Each photo is of a kind the office files: the form asks which.
    assert page.eval_on_selector_all("#photo-kind option", "els => els.map(e => e.value)")[:4] == [
        "左前45度", "右后45度", "车架号", "号牌"]
    page.click("#all-pass")
    if fail_item:
        page.click(f'button.check[data-item="{fail_item}"][data-value="fail"]')
        page.fill("#defects", "左后视镜缺失")
    else:
        page.click("#result-pass")
    page.fill("#odometer", odometer)
    if vin:
        page.fill("#vin", vin)
        # A language switch redraws the form: what was typed and ticked stays.
        page.click("#lang")
        page.wait_for_selector('#save:text-is("Save inspection")')
        page.click("#lang")
        page.wait_for_selector('#save:text-is("保存检验")')
        assert page.input_value("#vin") == vin and page.input_value("#odometer") == odometer
        assert page.get_attribute('button.check[data-item="lights"][data-value="pass"]', "aria-pressed") == "true"
    if photo is not None:
        if kind:
            page.select_option("#photo-kind", kind)
        page.set_input_files("#photo-input", files=[{"name": f"{plate}.png", "mimeType": "image/png",
                                                     "buffer": photo}])
        page.wait_for_selector(f'#photos li[data-kind="{kind or "左前45度"}"] img')
    if shot:
        page.screenshot(path=str(shot), full_page=True)
    page.click("#save")
    page.wait_for_selector(f'#stop-records li[data-state="queued"] .plate:text-is("{plate}")', timeout=TIMEOUT_MS)


def test_tablet_offline_inspections_sync_exactly_once_and_show_a_conflict(app, factory, database_url, tmp_path,
                                                                           browser):
    officer = factory.staff("officer")
    tour = make_tour(app, [officer.id], registrations={0: [(p, "张三", "13800138001") for p in PLATES]})
    stop_id = tour.stop_ids[0]
    photo_dir = tmp_path / "photos"
    photos = {plate: png_bytes(4, 4, seed=n) for n, plate in enumerate(PLATES)}
    env = {"VMO_FROZEN_NOW": FROZEN_NOW, "VMO_PHOTO_DIR": str(photo_dir), "VMO_SECRET_KEY": "e2e"}
    add_motorcycle(app, PLATES[0], vin="LFG1234567", engine_number="162FMJ0012345")
    with live_server(database_url, workers=2, threads=4, env=env) as server:
        context = browser.new_context(viewport={"width": 800, "height": 1280}, locale="zh-CN", has_touch=True,
                                      service_workers="allow", timezone_id="UTC", permissions=["geolocation"],
                                      geolocation={"latitude": SQUARE[0], "longitude": SQUARE[1]})
        page = context.new_page()
        console = []
        page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
        page.on("pageerror", lambda exc: console.append(f"pageerror: {exc}"))
        pulls = []  # (If-None-Match sent, status) of each assignments request
        page.on("response", lambda r: pulls.append((r.request.headers.get("if-none-match"), r.status))
                if "/api/v1/mobile/assignments" in r.url else None)
        try:
            page.goto(server.url + "/tablet", wait_until="load")
            assert page.url == server.url + "/tablet/"
            # Sign in and pull the assignments.
            page.fill("#username", officer.username)
            page.fill("#password", PASSWORD)
            page.click("#sign-in")
            page.wait_for_selector(f'a.stop-link[data-stop-id="{stop_id}"]', timeout=TIMEOUT_MS)
            # The service worker controls the page before the signal goes (it claims its clients).
            page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=TIMEOUT_MS)
            # The first pull gets the assignments and their ETag; the next (after sign-in, the app syncs and
            # pulls again) sends it back and is answered 304.
            for _ in range(100):
                if any(tag and status == 304 for tag, status in pulls[1:]):
                    break
                page.wait_for_timeout(100)
            assert pulls[0] == (None, 200) and any(tag and status == 304 for tag, status in pulls[1:]), pulls

            context.set_offline(True)
            page.wait_for_selector('#net[data-state="offline"]')
            page.click(f'a.stop-link[data-stop-id="{stop_id}"]')
            page.wait_for_selector("#stop-summary")
            assert page.inner_text("#sum-left .value") == "3"
            # Stop times in the office's zone (09:00 in Chongqing), though the tablet's clock says UTC.
            assert "09:00–10:00" in page.inner_text(".stop")
            _log_inspection(page, PLATES[0], photos[PLATES[0]], register=("LFG1234567", "162FMJ0012345"))
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            _log_inspection(page, PLATES[1], photos[PLATES[1]], fail_item="mirrors",
                            shot=ARTIFACTS / "tablet-inspection-form.png")
            _log_inspection(page, PLATES[2], photos[PLATES[2]], kind="车架号")
            # A walk-in whose client_id the server will already hold with other content: a conflict.
            _log_inspection(page, WALK_IN, None, odometer="500")
            _log_inspection(page, BAD_VIN, None, vin="AB1")
            _wait_count(page, "#pending-count", 5)
            _wait_count(page, "#photo-count", 3)
            assert [page.inner_text(f"#sum-{k} .value") for k in ("done", "passed", "failed", "left")] == \
                ["5", "4", "1", "0"]

            # Reload with no signal: the shell comes from the service worker, the queue from IndexedDB.
            response = page.reload(wait_until="load")
            assert response is not None and response.from_service_worker
            page.wait_for_selector("#stop-summary", timeout=TIMEOUT_MS)
            _wait_count(page, "#pending-count", 5)
            _wait_count(page, "#photo-count", 3)
            cached = page.evaluate("""async () => {
                const keys = (await caches.keys()).filter((k) => k.startsWith("vmo-tablet-"));
                const cache = await caches.open(keys[0]);
                return {keys, paths: (await cache.keys()).map((r) => new URL(r.url).pathname)};
            }""")
            assert len(cached["keys"]) == 1 and set(cached["paths"]) == set(precache()), cached
            rows = page.locator('#stop-records li[data-state="queued"]')
            assert sorted(rows.locator(".plate").all_inner_texts()) == sorted(PLATES + [WALK_IN, BAD_VIN])
            shot = ARTIFACTS / "tablet-stop-offline.png"
            page.screenshot(path=str(shot), full_page=True)
            print(f"\nscreenshot of the stop screen (offline, 5 queued): {shot}")

            client_ids = {page.locator(f'#stop-records li:has(.plate:text-is("{p}"))').get_attribute("data-client-id"): p
                          for p in PLATES + [WALK_IN, BAD_VIN]}
            walk_in_id = next(c for c, p in client_ids.items() if p == WALK_IN)
            # Meanwhile the server got other content under the walk-in's client_id (another device's bug).
            token = requests.post(server.url + "/api/v1/auth/token",
                                  json={"username": officer.username, "password": PASSWORD}, timeout=10).json()["token"]
            other = record(stop_id, 99, client_id=walk_in_id, plate=WALK_IN, odometer_km=999)
            answer = requests.post(server.url + "/api/v1/mobile/inspections/sync", timeout=10,
                                   headers={"Authorization": f"Bearer {token}"},
                                   json={"device_id": "other-tablet", "records": [other]}).json()
            assert answer["results"][0]["status"] == "created"

            # The signal comes back: the `online` event syncs by itself.
            context.set_offline(False)
            _wait_count(page, "#pending-count", 0)
            _wait_count(page, "#photo-count", 0)
            _wait_count(page, "#problem-count", 2)
            conflict = page.locator('#stop-records li[data-state="conflict"]')
            assert conflict.get_attribute("data-client-id") == walk_in_id
            reason = conflict.locator(".reason").inner_text()
            assert "冲突" in conflict.inner_text() and "里程" in reason, reason
            rejected = page.locator('#stop-records li[data-state="rejected"]')
            assert rejected.locator(".plate").inner_text() == BAD_VIN
            reason = rejected.locator(".reason").inner_text()
            assert "被退回" in rejected.inner_text() and "车架号" in reason and "frame number" in reason, reason
            assert page.locator('#stop-records li[data-state="synced"]').count() == 3
            # The rejected record is no inspection: the summary no longer counts it.
            page.wait_for_function("() => document.querySelector('#sum-done .value').textContent === '4'")
            assert [page.inner_text(f"#sum-{k} .value") for k in ("done", "passed", "failed", "left")] == \
                ["4", "3", "1", "0"]

            # A second sync on demand changes nothing on the server.
            page.click("#sync-now")
            page.wait_for_function("() => !document.querySelector('#sync-now').disabled", timeout=TIMEOUT_MS)
            _wait_count(page, "#problem-count", 2)
            _wait_count(page, "#pending-count", 0)

            # The conflict is kept and shown in English too, with its reason.
            page.click("#lang")
            page.wait_for_selector('#stop-records li[data-state="conflict"] .reason:has-text("odometer")')
            page.screenshot(path=str(ARTIFACTS / "tablet-stop-synced-en.png"), full_page=True)
            # The officer removes the rejected record: two taps, then it is gone; the conflict stays.
            rejected = page.locator('#stop-records li[data-state="rejected"]')
            rejected.locator("button.dismiss").click()
            _wait_count(page, "#problem-count", 2)
            rejected.locator('button.dismiss[data-armed="1"]').click()
            _wait_count(page, "#problem-count", 1)
            assert page.locator('#stop-records li[data-state="conflict"]').count() == 1
            assert_no_script_errors(console)
        except Exception:
            show_failure(console, server)
            raise
        finally:
            context.close()

    rows = inspections(app)
    assert len(rows) == 4  # three from the tablet, one from the "other tablet"; none twice; none rejected
    by_client = {r.client_id: r for r in rows}
    assert {c: p for c, p in client_ids.items() if p != BAD_VIN} == {c: by_client[c].plate for c in by_client}
    assert not any(r.plate == BAD_VIN for r in rows)
    assert by_client[walk_in_id].odometer_km == 999  # the first content stays; the tablet's is in conflict
    tablet_rows = [r for r in rows if r.client_id != walk_in_id]
    assert sorted(r.plate for r in tablet_rows) == PLATES
    assert {r.plate: r.result for r in tablet_rows} == {PLATES[0]: "pass", PLATES[1]: "fail", PLATES[2]: "pass"}
    failed = next(r for r in tablet_rows if r.plate == PLATES[1])
    assert failed.checklist["mirrors"] == "fail" and failed.defects == ["左后视镜缺失"]
    assert set(failed.checklist) == set(CHECKS)
    assert all(r.odometer_km == 12345 and r.device_id.startswith("tablet-") for r in tablet_rows)
    # Where each was done, from the tablet's GPS (given offline too).
    assert all((r.lat, r.lon) == SQUARE for r in tablet_rows)

    from mobile_api.models import InspectionPhoto
    from vmo.extensions import db

    with app.app_context():
        kinds = {p.client_id: p.kind for p in db.session.scalars(db.select(InspectionPhoto))}
        stored = {(p.client_id, p.sha256) for p in db.session.scalars(db.select(InspectionPhoto))}
    by_plate = {r.plate: r.client_id for r in tablet_rows}
    assert (kinds[by_plate[PLATES[0]]], kinds[by_plate[PLATES[2]]]) == ("左前45度", "车架号")
    expected = {(r.client_id, sha(photos[r.plate])) for r in tablet_rows}
    assert stored == expected
    for _client_id, digest in expected:
        assert any(path.is_file() for path in Path(photo_dir).rglob(f"*{digest}*")), digest


def test_tablet_lists_the_green_channel_vehicles_with_their_papers(app, client, factory, database_url, browser):
    """The hall's checklist on the tablet: each booked vehicle with its papers, and what is still missing."""
    from tests import helpers_fleet as fleet

    staff = fleet.officer(factory)
    owner = fleet.company(factory, name="南川区丰昌汽车服务有限公司")
    vehicles = factory.vehicles(2)
    del vehicles[1]["insurance_policy"]
    submitted = fleet.submit(client, owner.headers, vehicles).get_json()
    fleet.open_day(client, staff, capacity=30)
    assert fleet.book(client, owner, submitted["id"]).status_code == 201
    with live_server(database_url, workers=1, threads=4, env={"VMO_FROZEN_NOW": FROZEN_NOW}) as server:
        context = browser.new_context(viewport={"width": 800, "height": 1280}, locale="zh-CN")
        page = context.new_page()
        try:
            page.goto(server.url + "/tablet/", wait_until="load")
            page.fill("#username", staff.username)
            page.fill("#password", PASSWORD)
            page.click("#sign-in")
            page.wait_for_selector("#hall", timeout=TIMEOUT_MS)
            complete = page.locator(f'#hall li.hall-vehicle[data-vin="{vehicles[0]["vin"]}"]').inner_text()
            assert f"机动车整车出厂合格证编号：{vehicles[0]['certificate_number']}" in complete
            assert f"交强险保单号：{vehicles[0]['insurance_policy']}" in complete and "证件齐全" in complete
            lacking = page.locator(f'#hall li.hall-vehicle[data-vin="{vehicles[1]["vin"]}"]').inner_text()
            assert "缺：交强险保单号" in lacking and "使用性质：非营运" in lacking
            assert "2026-11-27" in page.inner_text("#hall") and "南川区丰昌汽车服务有限公司" in page.inner_text("#hall")
        finally:
            context.close()
