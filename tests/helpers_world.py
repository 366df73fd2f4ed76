"""A two-owner world for the fuzz and ownership tests: per office one account per role and one of everything."""
from datetime import date
from types import SimpleNamespace

from tests import helpers_exams as exams
from tests import helpers_fleet as fleet
from tests import helpers_mobile as mobile
from tests import helpers_tours as tours
from tests.conftest import make_id_number
from tests.helpers_followup import NOW_TS, SECRET, post_inbound, queue_follow_up
from vmo import validators

ROLES = ("admin", "supervisor", "officer", "company", "candidate")
# Side b's people and things carry this marker in their free text: it must never show up in an
# answer to side a (except from the operations that are public by design).
MARKER = "乙方机密"
OFFICES = {"a": ("nanchuan", "南川区车管所", "500119"), "b": ("fuling", "涪陵区车管所", "500102")}
# The mobile test's tour is "today" (the frozen Wednesday); the API-made tour is the Saturday after.
TODAY = mobile.TODAY


STAFF = ("admin", "supervisor", "officer")
ANY = ROLES
PUBLIC = "public"  # no sign-in needed (a token is accepted and changes nothing)


class Public(str):
    """ACCESS for an operation open to everyone: equal to PUBLIC, and says why it may be."""

    def __new__(cls, why: str):
        value = super().__new__(cls, PUBLIC)
        value.why = why
        return value


# (METHOD, path) -> roles allowed to call it (the contract; tests/test_ownership_walk.py holds the server to it).
# Every operation of the OpenAPI document must be here.
ACCESS = {
    ("POST", "/api/v1/auth/token"): Public("signing in is how a token is got"),
    ("POST", "/api/v1/auth/logout"): ANY,
    ("GET", "/api/v1/me"): ANY,
    ("POST", "/api/v1/companies"): Public("public sign-up"),
    ("GET", "/api/v1/companies"): STAFF,
    ("GET", "/api/v1/companies/{company_id}"): STAFF,
    ("POST", "/api/v1/companies/{company_id}/approve"): ("officer", "supervisor"),
    ("POST", "/api/v1/companies/{company_id}/decline"): ("officer", "supervisor"),
    ("POST", "/api/v1/candidates"): Public("public sign-up"),
    ("POST", "/api/v1/candidates/verify"): Public("a sign-up's texted code is how its account opens"),
    ("POST", "/api/v1/candidates/password-reset"): Public("a person who lost their password cannot sign in; "
                                                          "the code goes to the phone recorded at acceptance"),
    ("POST", "/api/v1/candidates/password-reset/confirm"): Public("the texted code is the credential"),
    ("GET", "/api/v1/applications"): STAFF,
    ("POST", "/api/v1/applications"): STAFF,
    ("GET", "/api/v1/staff"): STAFF,
    ("POST", "/api/v1/staff"): ("admin",),
    ("GET", "/api/v1/offices"): Public("sign-up names an office: the list of offices is public"),
    ("GET", "/api/v1/audit"): STAFF,
    ("GET", "/api/v1/fleet/batches"): (*STAFF, "company"),
    ("POST", "/api/v1/fleet/batches"): ("company",),
    ("GET", "/api/v1/fleet/batches/{batch_id}"): (*STAFF, "company"),
    ("GET", "/api/v1/fleet/batches/{batch_id}/appointment"): (*STAFF, "company"),
    ("POST", "/api/v1/fleet/batches/{batch_id}/appointment"): ("company",),
    ("DELETE", "/api/v1/fleet/batches/{batch_id}/appointment"): ("company",),
    ("PATCH", "/api/v1/fleet/batches/{batch_id}/appointment"): ("company",),
    ("POST", "/api/v1/fleet/batches/{batch_id}/green-channel-request"): ("company",),
    ("GET", "/api/v1/green-channel/requests"): (*STAFF, "company"),
    ("POST", "/api/v1/green-channel/requests/{request_id}/grant"): ("officer",),
    ("POST", "/api/v1/green-channel/requests/{request_id}/decline"): ("officer",),
    ("GET", "/api/v1/fleet/vehicles/{vin}/plate-choices"): (*STAFF, "company"),
    ("POST", "/api/v1/fleet/vehicles/{vin}/plate"): (*STAFF, "company"),
    ("DELETE", "/api/v1/fleet/vehicles/{vin}/plate"): ("officer",),
    ("POST", "/api/v1/phones/reveal"): STAFF,
    ("GET", "/api/v1/priority/days"): Public("as the list of green-channel days"),
    ("PUT", "/api/v1/priority/days/{date}"): ("officer",),
    ("GET", "/api/v1/priority/days/{date}/queue"): STAFF,
    ("GET", "/api/v1/fleet/vehicles/{vin}"): (*STAFF, "company"),
    ("PATCH", "/api/v1/fleet/vehicles/{vin}"): ("company", "officer"),
    ("POST", "/api/v1/fleet/vehicles/{vin}/inspection"): ("officer",),
    ("POST", "/api/v1/fleet/vehicles/{vin}/registration"): ("officer",),
    ("GET", "/api/v1/green-channel/days"): Public("open days and free places are public, to choose a day"),
    ("GET", "/api/v1/green-channel/days/{date}"): Public("as the list of days"),
    ("PUT", "/api/v1/green-channel/days/{date}"): ("officer",),
    ("GET", "/api/v1/mailings"): STAFF,
    ("POST", "/api/v1/mailings"): STAFF,
    ("GET", "/api/v1/mailings/{mailing_id}"): STAFF,
    ("PATCH", "/api/v1/mailings/{mailing_id}"): STAFF,
    ("GET", "/api/v1/fleet/batches/{batch_id}/mailing"): (*STAFF, "company"),
    ("POST", "/api/v1/fleet/batches/{batch_id}/mailing"): ("company",),
    ("GET", "/api/v1/townships"): STAFF,
    ("GET", "/api/v1/motorcycles/{plate}"): STAFF,
    ("GET", "/api/v1/sms/outbox"): STAFF,
    ("GET", "/api/v1/sms/outbox/summary"): STAFF,
    ("POST", "/api/v1/sms/inbound"): Public("the SMS gateway signs with HMAC instead of a token"),
    ("GET", "/api/v1/escalations"): STAFF,
    ("GET", "/api/v1/escalations/{escalation_id}"): STAFF,
    ("POST", "/api/v1/escalations/{escalation_id}/callbacks"): STAFF,
    ("POST", "/api/v1/escalations/{escalation_id}/resolve"): ("supervisor", "admin"),
    ("POST", "/api/v1/green-channel/priority-bookings"):
        Public("elderly, pregnant and disabled people book without an account"),
    ("POST", "/api/v1/green-channel/priority-bookings/confirm"):
        Public("the code texted to the phone is the proof"),
    ("GET", "/api/v1/green-channel/priority-bookings/{reference}"): Public("the reference is the ticket"),
    ("DELETE", "/api/v1/green-channel/priority-bookings/{reference}"): Public("the reference is the ticket"),
    ("GET", "/api/v1/green-channel/days/{date}/queue"): STAFF,
    ("GET", "/api/v1/stats"): STAFF,
    ("GET", "/api/v1/stats/report.html"): ("supervisor", "admin"),
    ("GET", "/api/v1/test-sessions"): Public("the sessions on offer are public"),
    ("POST", "/api/v1/test-sessions"): STAFF,
    ("GET", "/api/v1/test-sessions/{session_id}"): Public("as the list of sessions"),
    ("POST", "/api/v1/test-sessions/{session_id}/bookings"): ("candidate", *STAFF),  # staff: at the counter
    ("PATCH", "/api/v1/test-sessions/{session_id}"): STAFF,
    ("POST", "/api/v1/test-sessions/{session_id}/cancel"): STAFF,
    ("GET", "/api/v1/test-sessions/{session_id}/roster"): STAFF,
    ("POST", "/api/v1/test-sessions/{session_id}/outcomes"): STAFF,
    ("GET", "/api/v1/candidates"): STAFF,
    ("PUT", "/api/v1/candidates/{candidate_id}/learner-permit"): STAFF,
    ("GET", "/api/v1/test-sessions/{session_id}/draw"):
        Public("a ballot's seed and outcome are public so anyone can recompute it"),
    ("POST", "/api/v1/test-sessions/{session_id}/draw"): STAFF,
    ("GET", "/api/v1/bookings"): (*STAFF, "candidate"),
    ("GET", "/api/v1/bookings/{booking_id}"): (*STAFF, "candidate"),
    ("DELETE", "/api/v1/bookings/{booking_id}"): (*STAFF, "candidate"),
    ("POST", "/api/v1/bookings/{booking_id}/change"): ("candidate",),
    ("POST", "/api/v1/bookings/{booking_id}/outcome"): STAFF,
    ("GET", "/api/v1/bookings/{booking_id}/calendar.ics"): (*STAFF, "candidate"),
    ("GET", "/api/v1/calendars/test-sessions.ics"): Public("public calendar feed (calendar apps send no token)"),
    ("GET", "/api/v1/calendars/candidates/{secret}.ics"):
        Public("the secret address is the credential (calendar apps send no token)"),
    ("POST", "/api/v1/me/calendar-secret"): ("candidate",),
    ("GET", "/api/v1/me/exam-progress"): ("candidate",),
    ("GET", "/api/v1/candidates/{candidate_id}/exam-progress"): STAFF,
    ("GET", "/api/v1/tours"): STAFF,
    ("POST", "/api/v1/tours"): STAFF,
    ("GET", "/api/v1/tours/report"): STAFF,
    ("GET", "/api/v1/tours/{tour_id}"): STAFF,
    ("PATCH", "/api/v1/tours/{tour_id}"): STAFF,
    ("POST", "/api/v1/tours/{tour_id}/route"): STAFF,
    ("POST", "/api/v1/tours/{tour_id}/publish"): STAFF,
    ("POST", "/api/v1/tours/{tour_id}/cancel"): STAFF,
    ("GET", "/api/v1/tours/{tour_id}/report"): STAFF,
    ("GET", "/api/v1/tours/{tour_id}/stops/{stop_id}/registrations"): STAFF,
    ("POST", "/api/v1/tours/{tour_id}/stops/{stop_id}/registrations"):
        Public("motorcycle owners pre-register without an account"),
    ("POST", "/api/v1/tours/{tour_id}/stops/{stop_id}/registrations/{registration_id}/cancel"):
        Public("the owner cancels with the code they were given (staff of the office without one)"),
    ("POST", "/api/v1/tours/{tour_id}/stops/{stop_id}/inspections"): ("officer",),
    ("GET", "/api/v1/tour-stops"): Public("published stops are public, to choose where to pre-register"),
    ("GET", "/api/v1/calendars/townships/{township}.ics"): Public("public calendar feed of a township's stops"),
    ("GET", "/api/v1/mobile/assignments"): ("officer",),
    ("POST", "/api/v1/mobile/inspections/sync"): ("officer",),
    ("GET", "/api/v1/mobile/inspections/{client_id}"): STAFF,
    ("GET", "/api/v1/mobile/inspections/{client_id}/photos/{sha256}"): STAFF,
    ("PUT", "/api/v1/mobile/inspections/{client_id}/photos/{sha256}"): STAFF,
    ("GET", "/api/v1/home-visits"): STAFF,
    ("POST", "/api/v1/home-visits"): STAFF,
    ("GET", "/api/v1/home-visits/{visit_id}"): STAFF,
    ("POST", "/api/v1/home-visits/{visit_id}/assign"): ("supervisor", "officer"),
    ("POST", "/api/v1/home-visits/{visit_id}/outcome"): ("officer",),  # and only the one assigned
}


def world_config() -> dict:
    """App settings the world needs (the inbound SMS secret); photos go to PHOTO_DIR when set."""
    return {"SMS_HMAC_SECRET": SECRET}


def _ok(response, *codes):
    assert response.status_code in (codes or (200, 201)), (response.status_code, response.get_data(as_text=True))
    return response.get_json()


def priority_code(app, phone: str) -> str:
    """The last priority code texted to `phone` (the outbox table: what the phone shows)."""
    import re

    from sqlalchemy import select

    from vmo.extensions import db
    from vmo.notify.models import OutboxMessage

    with app.app_context():
        body = db.session.scalar(select(OutboxMessage.body).where(OutboxMessage.phone == phone,
                                                                  OutboxMessage.kind == "priority_code")
                                 .order_by(OutboxMessage.id.desc()).limit(1))
    return re.search(r"验证码(\d{6})", body).group(1)


def priority_reference(app, id_number: str) -> str:
    """The reference of a priority booking: only its text carries it (the answer does not: it
    must not confirm a booking to a stranger)."""
    from sqlalchemy import select

    from vmo.extensions import db
    from vmo.priority.models import PriorityBooking

    with app.app_context():
        return db.session.scalar(select(PriorityBooking.reference).where(PriorityBooking.id_number == id_number,
                                                                        PriorityBooking.status == "booked"))


def build_side(app, client, factory, side: str, n: int) -> SimpleNamespace:
    """One office with an account per role and one object of each kind, owned inside that office."""
    code, name, region = OFFICES.get(side, OFFICES["a"])  # more sides share office a, with their own people
    factory._ensure_office(code, name, region)
    tag = MARKER if side == "b" else "甲方"
    s = SimpleNamespace(side=side, office=code)
    s.supervisor = factory.staff("supervisor", f"{side}-sup", office=code)
    s.officer = factory.staff("officer", f"{side}-off", office=code, badge_number=f"50{n}123",
                              supervisor_username=s.supervisor.username)
    s.officer2 = factory.staff("officer", f"{side}-off2", office=code, badge_number=f"50{n}124")
    s.admin = factory.staff("admin", f"{side}-admin", office=code)
    s.company = factory.company(username=f"{side}-co", name=f"{tag}汽车服务有限公司", office=code)
    s.candidate_id_number = make_id_number(factory.rng, region, date(1990 + n, 1, 1))
    s.candidate = factory.candidate(username=f"{side}-cand", name=f"{tag}考生", office=code,
                                    id_number=s.candidate_id_number)
    s.users = {"admin": s.admin.username, "supervisor": s.supervisor.username, "officer": s.officer.username,
               "company": s.company["username"], "candidate": s.candidate["username"]}
    s.headers = {role: factory.headers(username) for role, username in s.users.items()}
    s.officer_headers = s.headers["officer"]
    co = SimpleNamespace(headers=s.headers["company"])
    off = SimpleNamespace(headers=s.officer_headers)

    # Fleet: a batch booked on the green-channel day, its first vehicle inspected (pass).
    s.batch = _ok(fleet.submit(client, co.headers, factory.vehicles(2), note=f"{tag} batch"), 201)
    s.batch_id = s.batch["id"]
    s.vins = [v["vin"] for v in s.batch["vehicles"]]
    s.vin = s.vins[0]
    s.day = fleet.DAY
    fleet.open_day(client, off, capacity=30)
    _ok(fleet.book(client, co, s.batch_id), 201)
    _ok(fleet.inspect(client, off, s.vin), 201)
    # A second batch for which the company asked for a green channel.
    waiting = _ok(fleet.submit(client, co.headers, factory.vehicles(1), note=f"{tag} waiting"), 201)
    s.waiting_batch_id = waiting["id"]
    s.request_id = _ok(client.post(f"/api/v1/fleet/batches/{waiting['id']}/green-channel-request",
                                   json={"wanted_date": s.day, "note": f"{tag} 请求"}, headers=co.headers), 201)["id"]
    # Mailing: the company asks for its first batch's plates and papers by post.
    s.mailing_id = _ok(client.post(f"/api/v1/fleet/batches/{s.batch_id}/mailing", headers=co.headers, json={
        "recipient": f"{tag}经理", "phone": "13883000001", "address": "重庆市南川区东城街道金佛大道38号"}), 201)["id"]

    # Priority green channel: one booking (its reference is public by design, like a ticket).
    first17 = f"{region}19850315{n:02d}2"
    body = {"name": f"{tag}市民", "id_number": first17 + validators.resident_id_check_char(first17),
            "phone": f"139830000{n:02d}", "reason": "disabled", "date": s.day, "office": code,
            "certificate_number": f"{region}1985031500{n}X11"}
    s.priority_body = body
    _ok(client.post("/api/v1/green-channel/priority-bookings", json=body), 202)
    s.priority = _ok(client.post("/api/v1/green-channel/priority-bookings/confirm", json={
        "phone": body["phone"], "code": priority_code(app, body["phone"])}), 201)
    s.priority_id = s.priority["id"]
    s.reference = priority_reference(app, body["id_number"])

    # Weekend tests: a first-come session with the candidate's booking, and a ballot session.
    s.session = exams.create_session(client, s.officer_headers, venue=f"{tag}考场")
    s.session_id = s.session["id"]
    s.booking = _ok(client.post(f"/api/v1/test-sessions/{s.session_id}/bookings", json={},
                                headers=s.headers["candidate"]), 201)
    s.booking_id = s.booking["id"]
    s.candidate_id = s.candidate["id"]
    s.secret = _ok(client.post("/api/v1/me/calendar-secret", headers=s.headers["candidate"]), 201)["secret"]

    # Tours: a draft tour made through the API (officer and officer2 on it) ...
    s.tour = tours.create_tour(client, s.officer_headers, [s.officer.username, s.officer2.username],
                               name=f"{tag}下乡检验")
    s.tour_id, s.stop_id = s.tour["id"], s.tour["stops"][0]["id"]
    s.township = s.tour["stops"][0]["township"]
    tours.publish(client, s.officer_headers, s.tour_id)
    registration = _ok(client.post(f"/api/v1/tours/{s.tour_id}/stops/{s.stop_id}/registrations",
                                   json={"plate": f"渝G{n}2345", "owner_name": f"{tag}车主", "phone": "13800138002"}), 201)
    s.registration_id, s.cancel_code = registration["id"], registration["cancel_code"]
    # ... and today's published tour (written to the tables) with a registration, synced inspection and photo.
    plate = f"渝G{n}0001"
    today = mobile.make_tour(app, [s.officer.id], office=code, name=f"{tag}今日巡检",
                             registrations={0: [(plate, f"{tag}车主", "13800138001")]})
    s.today_tour_id, s.today_stop_id = today.id, today.stop_ids[0]
    mobile.add_motorcycle(app, plate, office=code)  # on the register before the sync (else it adds a walk-in)
    rec = mobile.record(s.today_stop_id, n, plate=plate)
    result = _ok(client.post("/api/v1/mobile/inspections/sync", json=mobile.envelope([rec]),
                             headers=s.officer_headers))["results"][0]
    assert result["status"] == "created", result
    s.client_id = rec["client_id"]
    s.photo = mobile.png_bytes(seed=n)
    s.sha256 = mobile.sha(s.photo)
    _ok(client.put(f"/api/v1/mobile/inspections/{s.client_id}/photos/{s.sha256}", data=s.photo,
                   headers=s.officer_headers, content_type="image/png"), 201)
    s.plate = plate

    # A home visit, requested and given to the officer for today.
    s.visit_body = {"name": f"{tag}老人", "phone": "13983000021", "address": f"{tag}村3组12号", "township": "大观镇",
                    "reason": "elderly", "business": f"{tag}换证"}
    s.visit_id = _ok(client.post("/api/v1/home-visits", json=s.visit_body, headers=s.headers["supervisor"]), 201)["id"]
    s.assign_body = {"officer": s.officer.username, "date": TODAY.isoformat(), "window_from": "14:00",
                     "window_until": "16:00"}
    _ok(client.post(f"/api/v1/home-visits/{s.visit_id}/assign", json=s.assign_body, headers=s.headers["supervisor"]))

    # Follow-up: a dissatisfied reply to a follow-up of the officer's case opens an escalation.
    phone = f"1390000000{n}"
    queue_follow_up(app, phone, s.officer.id, 900 + n, office=code, body=f"{tag}回访",
                    sent_at=mobile.local(TODAY, 7))
    reply = _ok(post_inbound(client, {"message_id": f"{side}-reply", "from": phone, "text": "2"},
                             timestamp=NOW_TS))
    s.escalation_id = reply["escalation_id"]
    assert s.escalation_id is not None, reply
    return s


def build_world(app, client, factory) -> SimpleNamespace:
    """Sides a (nanchuan) and b (fuling), each with everything; b's free text carries MARKER."""
    a = build_side(app, client, factory, "a", 1)
    b = build_side(app, client, factory, "b", 2)
    return SimpleNamespace(a=a, b=b, factory=factory)


def path_values(side: SimpleNamespace) -> dict:
    """Values for every path parameter name the API uses, taken from one side."""
    return {"batch_id": side.batch_id, "vin": side.vin, "date": side.day, "plate": side.plate,
            "escalation_id": side.escalation_id, "reference": side.reference, "session_id": side.session_id,
            "booking_id": side.booking_id, "secret": side.secret, "candidate_id": side.candidate_id,
            "tour_id": side.tour_id, "stop_id": side.stop_id, "township": side.township,
            "client_id": side.client_id, "sha256": side.sha256, "registration_id": side.registration_id,
            "request_id": side.request_id, "company_id": side.company["id"], "mailing_id": side.mailing_id,
            "visit_id": side.visit_id}


def bodies(w, side) -> dict:
    """A valid request body for each operation that takes one (so the walk gets past validation);
    ids inside the bodies are `side`'s."""
    rec = mobile.record(side.today_stop_id, 7)
    return {
        ("POST", "/api/v1/auth/token"): {"username": "b-admin", "password": "wrong-password-1"},
        ("POST", "/api/v1/candidates/verify"): {"username": "b-cand", "password": "wrong-password-1",
                                                "code": "123456"},
        ("POST", "/api/v1/candidates/password-reset"): {"id_number": side.candidate_id_number},
        ("POST", "/api/v1/candidates/password-reset/confirm"): {"id_number": side.candidate_id_number,
                                                                "code": "123456", "password": "walk-pass-123"},
        ("POST", "/api/v1/applications"): {"id_number": side.candidate_id_number, "name": "王芳",
                                           "phone": "13900139000", "license_class": "D", "medical_on": "2026-11-20"},
        ("POST", "/api/v1/staff"): {"username": "walk-new", "password": "walk-pass-123", "role": "officer",
                                    "supervisor": side.supervisor.username},
        ("POST", "/api/v1/fleet/batches"): {"vehicles": [], "note": "x"},
        ("POST", "/api/v1/fleet/batches/{batch_id}/appointment"): {"date": side.day},
        ("PATCH", "/api/v1/fleet/batches/{batch_id}/appointment"): {"date": side.day},
        ("POST", "/api/v1/fleet/batches/{batch_id}/green-channel-request"): {"wanted_date": side.day},
        ("POST", "/api/v1/green-channel/requests/{request_id}/grant"):
            {"date": side.day, "arrive_from": "12:00", "arrive_until": "20:00"},
        ("POST", "/api/v1/green-channel/requests/{request_id}/decline"): {"reason": "场地检修"},
        ("POST", "/api/v1/fleet/vehicles/{vin}/plate"): {"plate": "渝G5A2B8"},
        ("PATCH", "/api/v1/fleet/vehicles/{vin}"): {"insurance_policy": "PDZA202650010000012345"},
        ("POST", "/api/v1/companies/{company_id}/approve"): {},
        ("POST", "/api/v1/companies/{company_id}/decline"): {"reason": "营业执照与信用代码不符"},
        ("POST", "/api/v1/fleet/vehicles/{vin}/inspection"): {"result": "pass"},
        ("POST", "/api/v1/mailings"): {"recipient": "张三", "phone": "13800138009", "items": ["行驶证"],
                                       "address": "重庆市南川区东城街道金佛大道38号", "tracking_number": "1187654321098"},
        ("PATCH", "/api/v1/mailings/{mailing_id}"): {"status": "sent", "tracking_number": "1187654321098"},
        ("POST", "/api/v1/fleet/batches/{batch_id}/mailing"):
            {"recipient": "张三", "phone": "13800138009", "address": "重庆市南川区东城街道金佛大道38号"},
        ("PUT", "/api/v1/green-channel/days/{date}"): {"capacity": 30},
        ("PUT", "/api/v1/priority/days/{date}"): {"capacity": 12},
        ("POST", "/api/v1/green-channel/priority-bookings/confirm"): {"phone": "13983000002", "code": "000000"},
        ("POST", "/api/v1/phones/reveal"): {"case": {"type": "priority_booking", "id": side.priority_id}},
        ("POST", "/api/v1/escalations/{escalation_id}/callbacks"): {"reached": True, "note": "called back"},
        ("POST", "/api/v1/escalations/{escalation_id}/resolve"): {"note": "called back"},
        ("POST", "/api/v1/test-sessions/{session_id}/bookings"): {},
        ("POST", "/api/v1/bookings/{booking_id}/change"): {"session_id": side.session_id},
        ("POST", "/api/v1/bookings/{booking_id}/outcome"): {"outcome": "passed"},
        ("PATCH", "/api/v1/test-sessions/{session_id}"): {"venue": "2号考场"},
        ("POST", "/api/v1/test-sessions/{session_id}/cancel"): {"reason": "暴雨"},
        ("POST", "/api/v1/test-sessions/{session_id}/outcomes"):
            {"results": [{"booking_id": side.booking_id, "outcome": "passed"}]},
        ("PUT", "/api/v1/candidates/{candidate_id}/learner-permit"): {"license_class": "C1", "issued_on": "2026-10-01"},
        ("PATCH", "/api/v1/tours/{tour_id}"): {"name": "改名"},
        ("POST", "/api/v1/tours/{tour_id}/route"): {},
        ("POST", "/api/v1/tours/{tour_id}/cancel"): {"reason": "暴雨"},
        ("POST", "/api/v1/tours/{tour_id}/stops/{stop_id}/registrations"):
            {"plate": "渝G99999", "owner_name": "张三", "phone": "13800138009"},
        ("POST", "/api/v1/tours/{tour_id}/stops/{stop_id}/registrations/{registration_id}/cancel"): {"code": side.cancel_code},
        ("POST", "/api/v1/tours/{tour_id}/stops/{stop_id}/inspections"): {"plate": "渝G99998", "result": "pass",
                                                                          "checklist": tours.ALL_PASS},
        ("POST", "/api/v1/mobile/inspections/sync"): mobile.envelope([rec]),
        ("POST", "/api/v1/test-sessions"): exams.session_body(),
        ("POST", "/api/v1/tours"): tours.tour_body([side.officer.username]),
        ("POST", "/api/v1/home-visits"): side.visit_body,
        ("POST", "/api/v1/home-visits/{visit_id}/assign"): side.assign_body,
        ("POST", "/api/v1/home-visits/{visit_id}/outcome"): {"outcome": "done"},
    }
