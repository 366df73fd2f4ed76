"""The outbox: backends by configuration, a gateway that fails and comes back, opt-out and bad numbers."""
import json
import threading
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import FROZEN_NOW

API_KEY = "gw-test-key"


class FakeGateway:
    """A tiny SMS gateway on 127.0.0.1 that honours Idempotency-Key, like a real one should.

    `down`: answer 503 to everything. `lose_first_answer`: accept the next message, then stall past
    the client's timeout, so the client never hears that it was accepted.
    """

    def __init__(self):
        self.accepted: list[str] = []      # keys accepted, in order (a key appears once if idempotency holds)
        self.requests: list[str] = []      # every key received
        self.refuse: set[str] = set()      # phones answered 400 (permanent)
        self.down = False
        self.lose_first_answer = False
        self.lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                key = self.headers.get("Idempotency-Key")
                stall = False
                with gateway.lock:
                    gateway.requests.append(key)
                    if self.headers.get("X-API-Key") != API_KEY:
                        status = 401
                    elif gateway.down:
                        status = 503
                    elif body["to"] in gateway.refuse:
                        status = 400
                    else:
                        status = 200
                        if key not in gateway.accepted:
                            gateway.accepted.append(key)
                            if gateway.lose_first_answer:
                                gateway.lose_first_answer, stall = False, True
                if stall:
                    time.sleep(1.0)
                payload = json.dumps({"status": status}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/send"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway():
    with FakeGateway() as gw:
        yield gw


@pytest.fixture
def app_config(request):
    gw = request.getfixturevalue("gateway") if "gateway" in request.fixturenames else None
    if gw is None:
        return {}
    return {"SMS_BACKEND": "http", "SMS_HTTP_URL": gw.url, "SMS_HTTP_API_KEY": API_KEY,
            "SMS_HTTP_TIMEOUT": 0.4, "SMS_HTTP_RETRIES": 1, "SMS_HTTP_BACKOFF": 0,
            "SMS_MAX_ATTEMPTS": 3, "SMS_RETRY_BASE_SECONDS": 30}


def _queue(app, office, n, phone="1380013800{}", kind="reminder"):
    from vmo.extensions import db
    from vmo.notify import services as notify
    from vmo.offices.services import get_office

    with app.app_context():
        office_id = get_office(office).id
        for i in range(n):
            notify.queue(office_id, phone.format(i), f"消息 {i}", kind=kind, key=f"{kind}:{i}")
        db.session.commit()


def _at(app, minutes):
    """Move the frozen clock `minutes` after the tests' fixed now."""
    app.config["FROZEN_NOW"] = (datetime.fromisoformat(FROZEN_NOW) + timedelta(minutes=minutes)).isoformat()


def _outbox(client, headers, **query):
    response = client.get("/api/v1/sms/outbox", headers=headers, query_string={"page_size": 100, **query})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_gateway_down_then_back_sends_every_message_exactly_once(app, client, runner, factory, gateway):
    officer = factory.staff("officer")
    headers = factory.headers(officer)
    _queue(app, factory.office, 5)

    gateway.down = True
    result = runner.invoke(args=["sms", "send"])
    assert result.exit_code == 0, result.output
    assert "sent 0, to retry 5, failed 0" in result.output
    assert gateway.accepted == []
    pending = _outbox(client, headers, status="pending")
    assert len(pending) == 5
    assert all(m["attempts"] == 1 and "503" in m["last_error"] for m in pending)
    # Two tries per send (SMS_HTTP_RETRIES=1): the in-process retry happened too.
    assert len(gateway.requests) == 10

    # Not due yet: a second pass at the same moment sends nothing.
    assert "sent 0, to retry 0" in runner.invoke(args=["sms", "send"]).output

    # The gateway is back, but the first message's answer is lost on the way (the client times out).
    gateway.down = False
    gateway.lose_first_answer = True
    _at(app, 1)
    result = runner.invoke(args=["sms", "send"])
    assert result.exit_code == 0, result.output
    assert "sent 5, to retry 0, failed 0" in result.output
    # The lost answer made the client send that message again with the same key: accepted once only.
    assert sorted(gateway.accepted) == [f"reminder:{i}" for i in range(5)]
    assert len(set(gateway.accepted)) == len(gateway.accepted) == 5
    assert gateway.requests.count(gateway.accepted[0]) == 4  # 2 while down, then timed out + retried

    sent = _outbox(client, headers, status="sent")
    assert len(sent) == 5 and all(m["last_error"] is None and m["sent_at"] for m in sent)
    # Nothing left to do: a further pass sends nothing more.
    _at(app, 60)
    assert "sent 0" in runner.invoke(args=["sms", "send"]).output
    assert len(gateway.accepted) == 5


def test_a_message_that_keeps_failing_is_marked_failed_and_listed_for_staff(app, client, runner, factory, gateway):
    headers = factory.headers(factory.staff("supervisor"))
    _queue(app, factory.office, 1)
    gateway.down = True
    for minutes in (0, 1, 2):  # retry delays: 30 s, then 60 s
        result = runner.invoke(args=["sms", "send"]) if minutes == 0 else None
        if minutes:
            _at(app, minutes)
            result = runner.invoke(args=["sms", "send"])
        assert result.exit_code == 0
    assert "failed 1" in result.output
    failed = _outbox(client, headers, status="failed")
    assert [(m["key"], m["attempts"]) for m in failed] == [("reminder:0", 3)]
    assert "503" in failed[0]["last_error"]
    assert _outbox(client, headers, status="pending") == []
    summary = client.get("/api/v1/sms/outbox/summary", headers=headers).get_json()
    assert summary == {"pending": 0, "sent": 0, "failed": 1, "opted_out": 0, "segments": 0, "segments_pending": 0,
                       "backend": "http"}

    # Staff can put it back once the gateway is fixed.
    gateway.down = False
    assert "1 failed messages queued again" in runner.invoke(args=["sms", "retry-failed"]).output
    assert "sent 1" in runner.invoke(args=["sms", "send"]).output
    assert gateway.accepted == ["reminder:0"]


def test_a_refused_message_fails_at_once(app, client, runner, factory, gateway):
    _queue(app, factory.office, 2)
    gateway.refuse.add("13800138001")
    result = runner.invoke(args=["sms", "send"])
    assert "sent 1, to retry 0, failed 1" in result.output
    failed = _outbox(client, factory.headers(factory.staff()), status="failed")
    assert [m["phone"] for m in failed] == ["138****8001"]  # masked for staff
    assert "refused" in failed[0]["last_error"] and failed[0]["attempts"] == 1


def test_invalid_numbers_are_recorded_as_failed_with_the_reason(app, client, runner, factory):
    _queue(app, factory.office, 1, phone="0238888{}")
    _queue(app, factory.office, 1, phone="+86 139-0013-900{}", kind="other")
    result = runner.invoke(args=["sms", "send"])
    assert "sent 1" in result.output
    messages = _outbox(client, factory.headers(factory.staff()))
    by_kind = {m["kind"]: m for m in messages}
    assert by_kind["reminder"]["status"] == "failed"
    assert "invalid phone number" in by_kind["reminder"]["last_error"]
    assert by_kind["reminder"]["attempts"] == 0
    # A valid number in another spelling is kept in its bare form.
    assert (by_kind["other"]["status"], by_kind["other"]["phone"]) == ("sent", "139****9000")
    assert len(_outbox(client, factory.headers(factory.staff()), phone="13900139000")) == 1


def test_opted_out_numbers_are_not_sent(app, client, runner, factory):
    from vmo.extensions import db
    from vmo.notify import services as notify

    _queue(app, factory.office, 2)
    with app.app_context():
        notify.opt_out("13800138000", datetime.fromisoformat(FROZEN_NOW))
        db.session.commit()
    _queue(app, factory.office, 1, kind="later")  # queued after the opt-out: 13800138000 again
    result = runner.invoke(args=["sms", "send"])
    assert "sent 1" in result.output
    statuses = {(m["key"], m["status"]) for m in _outbox(client, factory.headers(factory.staff()))}
    assert statuses == {("reminder:0", "opted_out"), ("reminder:1", "sent"), ("later:0", "opted_out")}


def test_outbox_is_for_staff_of_the_office_only(app, client, factory):
    _queue(app, factory.office, 1)
    factory.other_office()
    other = factory.staff("officer", office="fuling")
    assert _outbox(client, factory.headers(other)) == []
    company = factory.company()
    assert client.get("/api/v1/sms/outbox", headers=factory.headers(company["username"])).status_code == 403
    assert client.get("/api/v1/sms/outbox").status_code == 401
    bad = client.get("/api/v1/sms/outbox", headers=factory.headers(factory.staff()), query_string={"status": "x"})
    assert bad.status_code == 422 and "status" in bad.get_json()["errors"]["query"]


def test_worker_runs_bounded_passes_with_the_log_backend(app, client, runner, factory):
    _queue(app, factory.office, 3)
    result = runner.invoke(args=["sms", "worker", "--interval", "0", "--max-passes", "2"])
    assert result.exit_code == 0, result.output
    assert "backend log" in result.output
    assert "sent 3" in result.output
    assert "stopped after 2 passes" in result.output
    assert len(_outbox(client, factory.headers(factory.staff()), status="sent")) == 3


def test_an_unknown_backend_or_a_gateway_without_url_stops_the_app(tmp_path):
    from tests.conftest import app_test_config
    from vmo import create_app
    from vmo import settings
    from vmo.notify.settings import SmsSettings
    from vmo.settings import SettingError

    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    with pytest.raises(SettingError, match="VMO_SMS_BACKEND = 'carrier-pigeon': must be one of log, http"):
        create_app(app_test_config(url, SMS_BACKEND="carrier-pigeon"))
    with pytest.raises(SettingError, match="the http SMS backend needs VMO_SMS_HTTP_URL"):
        create_app(app_test_config(url, SMS_BACKEND="HTTP"))
    app = create_app(app_test_config(url, SMS_BACKEND="HTTP", SMS_HTTP_URL="http://gw/send"))
    assert settings.of(app, SmsSettings).backend == "http"  # written in any case, as before


def test_each_message_is_leased_from_the_moment_it_is_claimed(app, factory):
    """A long pass must not hand a late message a lease that ran out while earlier ones were sent."""
    from vmo.extensions import db
    from vmo.notify import services as notify
    from vmo.notify.models import OutboxMessage

    _queue(app, factory.office, 3)
    moments = iter(datetime.fromisoformat(FROZEN_NOW) + timedelta(minutes=5 * i) for i in range(100))
    current = {}

    def clock():
        current["now"] = next(moments)
        return current["now"]

    class SlowGateway:
        leases = []

        def send(self, message):
            # The message in hand is leased beyond the moment the sender claimed it.
            self.leases.append(message.next_attempt_at - current["now"])

    with app.app_context():
        counts = notify.send_pending(SlowGateway(), clock=clock)
        sent = db.session.scalars(db.select(OutboxMessage.sent_at).order_by(OutboxMessage.id)).all()
    assert counts["sent"] == 3
    assert SlowGateway.leases == [notify.LEASE] * 3
    assert [b - a for a, b in zip(sent, sent[1:])] == [timedelta(minutes=5)] * 2
