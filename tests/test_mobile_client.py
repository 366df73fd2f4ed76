"""The reference tablet client and `vmo-tablet` against a real HTTP server (in-process, threaded)."""
import json
import socket
import threading
import time
import types

import pytest
import requests
import urllib3.util.retry
from click.testing import CliRunner
from werkzeug.serving import make_server

from mobile_api.cli import main as tablet_cli
from mobile_api.client import ClientError, TabletClient, Unreachable
from testkit.server import free_port
from tests.conftest import PASSWORD
from tests.helpers_mobile import count_inspections, inspections, make_tour, png_bytes, record, sha


@pytest.fixture
def app_config(tmp_path):
    return {"PHOTO_DIR": str(tmp_path / "photos")}


class Faults:
    """Fails on purpose in front of the real app: `refuse` requests are dropped unseen (the connection
    breaks before the app gets them), `lose` sync answers are dropped after the app handled the request
    (the link broke on the way back), `status` answers get another status although the app did the
    work (a proxy answering 503), with `retry_after` as its Retry-After."""

    def __init__(self, app):
        self.app, self.refuse, self.lose, self.status, self.retry_after = app, 0, 0, [], None
        self.handled = []

    def __call__(self, environ, start_response):
        if self.refuse:
            self.refuse -= 1
            return self._drop(environ)
        self.handled.append((environ["REQUEST_METHOD"], environ["PATH_INFO"]))
        if self.lose and environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"].endswith("/sync"):
            self.lose -= 1
            b"".join(self.app(environ, lambda *_a, **_k: None))
            return self._drop(environ)
        if self.status:
            status = self.status.pop(0)
            extra = [("Retry-After", self.retry_after)] if self.retry_after else []

            def proxied(_status, headers, exc_info=None):
                return start_response(f"{status} From The Proxy", [*headers, *extra], exc_info)

            return self.app(environ, proxied)
        return self.app(environ, start_response)

    @staticmethod
    def _drop(environ):
        environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
        return []


@pytest.fixture
def faults(app):
    return Faults(app)


@pytest.fixture
def server(faults):
    """The app (behind `faults`) on a loopback port in a background thread, for as long as the test runs."""
    httpd = make_server("127.0.0.1", 0, faults, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(10)


@pytest.fixture
def slept(monkeypatch):
    """The waits between tries, recorded instead of slept (the session's urllib3.Retry sleeps)."""
    waits = []
    monkeypatch.setattr(urllib3.util.retry, "time", types.SimpleNamespace(sleep=waits.append, time=time.time))
    return waits


@pytest.fixture
def setup(app, factory):
    officer = factory.staff("officer")
    tour = make_tour(app, [officer.id], registrations={0: [("渝G00001", "张三", "13800138001")]})
    return officer, tour


def tablet(tmp_path, server, **kw) -> TabletClient:
    return TabletClient(server, str(tmp_path / "tablet" / "queue.sqlite3"), **kw)


def nowhere() -> str:
    """An address where nothing listens: every try is refused (no signal)."""
    return f"http://127.0.0.1:{free_port()}"


def test_the_session_retries_every_send_with_backoff_and_retry_after(tmp_path):
    client = TabletClient(None, str(tmp_path / "queue.sqlite3"), max_attempts=6, backoff=0.5, max_backoff=30.0)
    retry = client.http.get_adapter("https://vmo.example.cn").max_retries
    assert (retry.total, retry.connect, retry.read, retry.status) == (5, 5, 5, 5)
    assert retry.allowed_methods is None  # POST and PUT too: the server counts every client_id once
    assert {429, 502, 503, 504} <= set(retry.status_forcelist) and 400 not in retry.status_forcelist
    assert retry.respect_retry_after_header and retry.retry_after_max == 30.0 and not retry.raise_on_status
    assert (retry.backoff_factor, retry.backoff_jitter, retry.backoff_max) == (0.25, 0.5, 30.0)


def test_log_and_sync_removes_records_only_once_answered(app, tmp_path, server, setup):
    officer, tour = setup
    client = tablet(tmp_path, server, batch_size=7)
    client.login(officer.username, PASSWORD)
    records = [record(tour.stop_ids[0], n) for n in range(20)]
    for r in records[:5]:
        del r["client_id"]  # the client makes one
    ids = client.log(records)
    assert len(set(ids)) == 20 and ids[5:] == [r["client_id"] for r in records[5:]]
    assert client.counts()["pending"] == 20
    report = client.sync()
    assert (report.created, report.duplicate, report.batches, report.left) == (20, 0, 3, 0)
    assert client.counts() == {"pending": 0, "attention": 0, "synced": 20, "photos_pending": 0,
                               "photos_attention": 0}
    assert sorted(r.client_id for r in inspections(app)) == sorted(ids)
    assert {r.device_id for r in inspections(app)} == {client.device_id}
    assert client.sync().sent == 0  # nothing left to send


def test_a_lost_answer_is_retried_and_counted_once(app, tmp_path, server, faults, setup, slept):
    officer, tour = setup
    client = tablet(tmp_path, server, backoff=0.5, batch_size=50)
    faults.refuse = 1
    client.login(officer.username, PASSWORD)  # the first try is dropped unseen, the retry gets through
    client.log([record(tour.stop_ids[0], n) for n in range(10)])
    faults.lose = 2
    report = client.sync()
    # The server stored the batch twice over but the answers never arrived; the third try hears "duplicate".
    assert (report.created, report.duplicate, report.attempts) == (0, 10, 3)
    assert faults.handled.count(("POST", "/api/v1/mobile/inspections/sync")) == 3
    assert faults.handled.count(("POST", "/api/v1/auth/token")) == 1
    assert count_inspections(app) == 10
    assert client.counts()["pending"] == 0 and client.counts()["synced"] == 10
    # Exponential backoff with jitter: the second try at once, the third after 0.5 s plus up to 0.5 s.
    assert len(slept) == 1 and 0.5 <= slept[0] <= 1.0


def test_unreachable_keeps_the_queue_and_a_later_sync_sends_it(app, tmp_path, server, faults, setup, slept):
    officer, tour = setup
    client = tablet(tmp_path, server, max_attempts=3, max_backoff=5.0)
    client.login(officer.username, PASSWORD)
    client.log([record(tour.stop_ids[0], n) for n in range(3)])
    offline = tablet(tmp_path, nowhere(), max_attempts=3)  # the same queue, no signal
    with pytest.raises(Unreachable, match="3 tries"):
        offline.sync()
    assert client.counts()["pending"] == 3 and count_inspections(app) == 0
    assert len(slept) == 1  # the third try waited
    # A proxy answers 503 then 502 (Retry-After: 7) although the server behind it took the batch: the
    # third try hears "duplicate" for each record, and that is as good as "created".
    slept.clear()
    faults.status, faults.retry_after = [503, 502], "7"
    client = tablet(tmp_path, server, max_attempts=3, max_backoff=5.0)
    report = client.sync()
    assert (report.created, report.duplicate, report.attempts) == (0, 3, 3)
    assert slept == [5.0, 5.0]  # Retry-After honoured, up to the longest wait
    assert count_inspections(app) == 3
    assert client.counts()["pending"] == 0


def test_a_proxy_that_keeps_answering_503_leaves_the_queue_untouched(app, tmp_path, server, faults, setup, slept):
    officer, tour = setup
    client = tablet(tmp_path, server, max_attempts=2)
    client.login(officer.username, PASSWORD)
    client.log([record(tour.stop_ids[0], 1)])
    faults.status = [503, 503]
    with pytest.raises(Unreachable, match="HTTP 503"):
        client.sync()
    assert faults.status == [] and client.counts()["pending"] == 1


def test_conflicts_and_rejections_are_kept_for_attention_never_dropped(app, tmp_path, server, setup, factory):
    officer, tour = setup
    other = make_tour(app, [factory.staff("officer").id])
    client = tablet(tmp_path, server)
    client.login(officer.username, PASSWORD)
    first = record(tour.stop_ids[0], 1)
    client.log([first])
    client.sync()
    # A second tablet queue holds the same client_id with other content (restored backup, say).
    second = tablet(tmp_path / "second", server)
    second.login(officer.username, PASSWORD)
    second.log([{**first, "result": "fail", "checklist": {"horn": "fail"}}, record(other.stop_ids[0], 2),
                record(tour.stop_ids[0], 3)])
    report = second.sync()
    assert (report.created, report.conflict, report.rejected) == (1, 1, 1)
    assert second.counts()["attention"] == 2 and second.counts()["pending"] == 0
    attention = second.attention()
    assert attention[0]["client_id"] == first["client_id"]
    assert attention[0]["reason"]["status"] == "conflict"
    assert attention[0]["reason"]["differences"] == ["checklist", "result"]
    assert attention[1]["reason"] == {"status": "rejected",
                                      "errors": {"stop_id": ["you are not assigned to this stop's tour"]}}
    # Still there on the next sync, not sent again until someone requeues them.
    assert second.sync().sent == 0 and second.counts()["attention"] == 2
    assert second.requeue([first["client_id"]]) == 1
    assert second.sync().conflict == 1


def test_a_bad_token_is_an_error_and_nothing_leaves_the_queue(app, tmp_path, server, setup):
    _officer, tour = setup
    client = tablet(tmp_path, server)
    client.log([record(tour.stop_ids[0], 1)])
    with pytest.raises(ClientError) as caught:
        client.sync()
    assert caught.value.status == 401
    assert client.counts()["pending"] == 1


def test_pull_caches_assignments_and_uses_the_etag(app, tmp_path, server, faults, setup, slept):
    officer, tour = setup
    client = tablet(tmp_path, server, max_attempts=2)
    client.login(officer.username, PASSWORD)
    data, changed = client.pull()
    assert changed and [t["id"] for t in data["tours"]] == [tour.id]
    again, changed = client.pull()
    assert not changed and again == data
    assert faults.handled.count(("GET", "/api/v1/mobile/assignments")) == 2
    offline, changed = tablet(tmp_path, nowhere(), max_attempts=2).pull()  # no signal: the cached copy
    assert not changed and offline == data


def test_photos_queued_with_a_record_are_sent_after_it(app, tmp_path, server, setup):
    officer, tour = setup
    photo = tmp_path / "brake.png"
    photo.write_bytes(png_bytes(seed=9))
    client = tablet(tmp_path, server)
    client.login(officer.username, PASSWORD)
    [client_id] = client.log([{**record(tour.stop_ids[0], 1), "photos": [str(photo)]}])
    photo.unlink()  # the queue keeps its own copy
    report = client.sync()
    assert (report.created, report.photos_sent) == (1, 1)
    assert client.counts()["photos_pending"] == 0
    [row] = inspections(app)
    assert row.client_id == client_id
    url = f"{server}/api/v1/mobile/inspections/{client_id}/photos/{sha(png_bytes(seed=9))}"
    got = requests.get(url, headers={"Authorization": f"Bearer {client.token}"}, timeout=10)
    assert got.status_code == 200 and got.content == png_bytes(seed=9)


def test_the_vmo_tablet_command(app, tmp_path, server, setup):
    officer, tour = setup
    queue = str(tmp_path / "cli" / "queue.sqlite3")
    runner = CliRunner()

    def run(*args, **kw):
        return runner.invoke(tablet_cli, ["--server", server, "--queue", queue, "--backoff", "0", *args], **kw)

    result = run("login", "--username", officer.username, "--password", PASSWORD)
    assert result.exit_code == 0, result.output
    assert f"signed in as {officer.username} (officer)" in result.output
    result = run("pull")
    assert result.exit_code == 0, result.output
    assert "assignments updated" in result.output and "大观镇" in result.output
    assert "assignments unchanged" in run("pull").output
    log_file = tmp_path / "today.json"
    good = record(tour.stop_ids[0], 1)
    del good["client_id"]
    log_file.write_text(json.dumps([good, record(999999, 2)], ensure_ascii=False), encoding="utf-8")
    result = run("log", str(log_file))
    assert result.exit_code == 0, result.output
    assert "2 record(s) queued" in result.output
    result = run("sync")
    assert result.exit_code == 2, result.output  # one record needs attention
    assert "created 1, duplicate 0, conflict 0, rejected 1" in result.output
    assert "no such stop" in result.output
    result = run("status", "--json")
    status = json.loads(result.output)
    assert (status["pending"], status["attention"], status["synced"]) == (0, 1, 1)
    assert status["needs_attention"][0]["reason"]["errors"] == {"stop_id": ["no such stop"]}
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{not json", encoding="utf-8")
    result = run("log", str(bad_json))
    assert result.exit_code == 1 and "is not JSON" in result.output
    assert count_inspections(app) == 1
