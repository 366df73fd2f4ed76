"""Two app nodes behind HAProxy on one database and one Redis behave as one node (docs/scale.md):
the sign-in lock-out, the rate limits, idempotency keys and photo uploads hold whichever node answers.

HAProxy (Debian's package; `make haproxy` installs it) balances round robin and names the node that
answered in X-Served-By, so each step shows that both nodes took part. On CI (CI=true) a missing
haproxy (or Redis) fails the test instead of skipping it; so does VMO_REQUIRE_HAPROXY=1, which .ci/run sets.
"""
import contextlib
import os
import random
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import uuid

import pytest
import requests
from sqlalchemy import func, select

from testkit.server import free_port, live_server
from tests.conftest import BACKENDS, FROZEN_NOW, PASSWORD, make_id_number
from tests.helpers_mobile import envelope, make_tour, png_bytes, record, sha
from vmo.extensions import db

pytestmark = pytest.mark.slow

REDIS_URL = os.environ.get("VMO_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
HAPROXY = shutil.which("haproxy") or ("/usr/sbin/haproxy" if os.path.exists("/usr/sbin/haproxy") else None)
MAX_FAILURES = 3
NODE_ENV = {
    "VMO_FROZEN_NOW": FROZEN_NOW,
    "VMO_RATELIMIT_ENABLED": "true",
    # Counters and lock-outs where every node sees them; each limit off but the one under test.
    "VMO_RATELIMIT_STORAGE_URI": REDIS_URL,
    "VMO_RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": "false",
    "VMO_RATELIMIT_LOGIN_PER_ADDRESS": "", "VMO_RATELIMIT_LOGIN_PER_USERNAME": "",
    "VMO_RATELIMIT_REGISTRATIONS_PER_ADDRESS": "", "VMO_RATELIMIT_BOOKINGS_PER_CANDIDATE": "",
    "VMO_RATELIMIT_SIGNUPS_PER_ADDRESS": "2 per hour",
    "VMO_LOGIN_MAX_FAILURES": str(MAX_FAILURES),
    # HAProxy adds X-Forwarded-For: the limits count the client, not the proxy.
    "VMO_PROXY_FIX_X_FOR": "1",
    "VMO_PHOTO_STORAGE": "database",
    # One deployment, one set of secrets on every node (each live server would otherwise get its own).
    "VMO_SECRET_KEY": secrets.token_hex(32),
    "VMO_SMS_HMAC_SECRET": secrets.token_hex(32),
}


def _redis_problem() -> str | None:
    try:
        import redis

        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        client.ping()
        client.close()
        return None
    except Exception as exc:  # any connection error: said in the skip or failure
        return f"{type(exc).__name__}: {exc}"


def _need(problem: str | None, what: str) -> None:
    if problem is None:
        return
    if os.environ.get("CI") == "true" or os.environ.get("VMO_REQUIRE_HAPROXY") == "1":
        pytest.fail(f"{what} is required on CI: {problem}")
    pytest.skip(f"{what}: {problem}")


@contextlib.contextmanager
def haproxy(ports: list[int], client_address: str):
    """HAProxy on a free port, round robin over the nodes' ports; yields its URL.

    It sets X-Forwarded-For as `option forwardfor` does, but to `client_address`: an address of this
    run's own, so that counters an earlier run left in Redis do not count.
    """
    port = free_port()
    servers = "\n".join(f"    server node{n} 127.0.0.1:{p}" for n, p in enumerate(ports, start=1))
    config = f"""
global
    maxconn 256
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend web
    bind 127.0.0.1:{port}
    http-request set-header X-Forwarded-For {client_address}
    default_backend nodes
backend nodes
    balance roundrobin
    http-response set-header X-Served-By %[srv_name]
{servers}
"""
    with tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False) as handle:
        handle.write(config)
    process = subprocess.Popen([HAPROXY, "-f", handle.name, "-db"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if process.poll() is not None:
                raise RuntimeError(f"haproxy did not start:\n{process.stdout.read().decode(errors='replace')}")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        os.unlink(handle.name)


@contextlib.contextmanager
def two_nodes(database_url: str, client_address: str):
    with live_server(database_url, workers=2, env=NODE_ENV) as first, \
            live_server(database_url, workers=2, env=NODE_ENV) as second, \
            haproxy([first.port, second.port], client_address) as url:
        yield url


def served(responses) -> set[str]:
    return {r.headers["X-Served-By"] for r in responses}


# One database kind is enough for what this shows: PostgreSQL when the suite has it.
@pytest.mark.parametrize("backend", BACKENDS[-1:])
def test_two_nodes_behind_haproxy_behave_as_one(app, factory, backend, database_url):
    _need(None if HAPROXY else "haproxy is not installed (make haproxy; Debian's package haproxy)", "HAProxy")
    _need(_redis_problem(), f"Redis at {REDIS_URL}")
    office = factory.office
    officer = factory.staff("officer")
    partner = factory.staff("officer")
    company = factory.company()
    tour = make_tour(app, [officer.id, partner.id])
    rng = random.Random(17)

    address = f"198.51.{random.randrange(256)}.{random.randrange(1, 255)}"
    with two_nodes(database_url, address) as base:
        warm = [requests.get(base + "/api/v1/offices", timeout=30) for _ in range(4)]
        assert [r.status_code for r in warm] == [200] * 4
        assert served(warm) == {"node1", "node2"}

        # Sign-in lock-out: failures counted on either node lock the account on both.
        def sign_in(password):
            return requests.post(base + "/api/v1/auth/token", timeout=30,
                                 json={"username": officer.username, "password": password})

        failures = [sign_in("wrong-password") for _ in range(MAX_FAILURES)]
        assert [r.status_code for r in failures] == [401] * MAX_FAILURES
        assert served(failures) == {"node1", "node2"}
        locked = [sign_in(PASSWORD) for _ in range(2)]
        assert [r.status_code for r in locked] == [429, 429]
        assert served(locked) == {"node1", "node2"}
        assert all(int(r.headers["Retry-After"]) > 0 for r in locked)

        # Rate limits: sign-ups from one client address share one budget across the nodes.
        def sign_up():
            return requests.post(base + "/api/v1/candidates", timeout=30, json={
                "name": "王芳", "phone": "13900139000", "license_class": "C1", "password": PASSWORD,
                "id_number": make_id_number(rng), "username": "c" + uuid.uuid4().hex[:10], "office": office})

        signups = [sign_up() for _ in range(3)]
        assert [r.status_code for r in signups] == [201, 201, 429], [r.json() for r in signups]
        assert "sign-ups from this address" in signups[2].json()["message"]

        # Idempotency keys: the same keyed request on the other node replays the first answer.
        headers = {**factory.headers(company["username"]), "Idempotency-Key": "two-nodes-batch-1"}
        body = {"vehicles": factory.vehicles(2)}
        batches = [requests.post(base + "/api/v1/fleet/batches", json=body, headers=headers, timeout=30)
                   for _ in range(2)]
        assert [r.status_code for r in batches] == [201, 201]
        assert served(batches) == {"node1", "node2"}
        assert batches[1].json() == batches[0].json()
        assert batches[1].headers["Idempotent-Replayed"] == "true"
        from vmo.fleet.models import FleetBatch

        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(FleetBatch)) == 1

        # Photos: uploaded through one node, read through both, stored once.
        officer_headers = factory.headers(partner)
        rec = record(tour.stop_ids[0], 1)
        synced = requests.post(base + "/api/v1/mobile/inspections/sync", json=envelope([rec]),
                               headers=officer_headers, timeout=30)
        assert synced.status_code == 200, synced.text
        assert synced.json()["results"][0]["status"] == "created"
        photo = png_bytes(seed=17)
        url = f"{base}/api/v1/mobile/inspections/{rec['client_id']}/photos/{sha(photo)}"
        photo_headers = {**officer_headers, "Content-Type": "application/octet-stream"}
        uploads = [requests.put(url, data=photo, headers=photo_headers, timeout=30) for _ in range(2)]
        assert [r.status_code for r in uploads] == [201, 200]
        assert served(uploads) == {"node1", "node2"}
        reads = [requests.get(url, headers=officer_headers, timeout=30) for _ in range(2)]
        assert [(r.status_code, r.content) for r in reads] == [(200, photo), (200, photo)]
        assert served(reads) == {"node1", "node2"}
        from mobile_api.models import PhotoBlob

        with app.app_context():
            assert db.session.scalars(select(PhotoBlob.sha256)).all() == [sha(photo)]
