"""The server's limits answer in the API's error shape (clients parse one shape, not gunicorn's HTML),
and a production server refuses the development secrets."""
import os
import runpy
import subprocess
import sys

import pytest
import requests

from testkit.server import REPO, live_server
from vmo import bounds
from vmo.security import DefaultSecretError, refuse_default_secrets


def _error(response, code):
    assert response.status_code == code, response.text[:300]
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == code and body["message"] and body["request_id"]
    return body


def test_a_long_address_is_a_json_414_and_a_long_header_a_json_431(client):
    long_query = client.get("/api/v1/offices?q=" + "a" * bounds.MAX_URL_BYTES)
    assert long_query.status_code == 414 and long_query.mimetype == "application/json"
    assert long_query.get_json()["status"] == "Request URI Too Long"
    header = client.get("/api/v1/offices", headers={"X-Big": "b" * bounds.MAX_HEADER_BYTES})
    assert header.status_code == 431 and header.get_json()["status"] == "Request Header Fields Too Large"
    many = client.get("/api/v1/offices", headers={f"X-H{i}": "1" for i in range(bounds.MAX_HEADERS + 1)})
    assert many.status_code == 431 and many.mimetype == "application/json"
    assert client.get("/api/v1/offices?q=" + "a" * 1000, headers={"X-Ok": "o" * 4000}).status_code == 200


def test_gunicorns_limits_sit_above_the_apps():
    config = runpy.run_path(str(REPO / "gunicorn.conf.py"))
    assert config["limit_request_line"] > bounds.MAX_URL_BYTES + len("DELETE  HTTP/1.1")
    assert config["limit_request_field_size"] > bounds.MAX_HEADER_BYTES
    assert config["limit_request_fields"] > bounds.MAX_HEADERS


@pytest.mark.slow
def test_past_the_apps_limits_gunicorn_lets_the_app_answer_in_json(database_url, app):
    with live_server(database_url, workers=1) as server:
        url = server.url + "/api/v1/offices"
        body = _error(requests.get(url, params={"q": "a" * 6000}, timeout=30), 414)
        assert body["status"] == "Request URI Too Long"
        _error(requests.get(url, headers={"X-Big": "b" * 10_000}, timeout=30), 431)
        _error(requests.get(url, headers={f"X-H{i}": "1" for i in range(150)}, timeout=30), 431)


def test_default_secrets_are_refused_unless_development_says_so():
    defaults = {"SECRET_KEY": "dev-only-change-me", "SMS_HMAC_SECRET": "dev-sms-secret"}
    with pytest.raises(DefaultSecretError, match="VMO_SECRET_KEY and VMO_SMS_HMAC_SECRET are the development"):
        refuse_default_secrets(defaults)
    with pytest.raises(DefaultSecretError, match="VMO_SMS_HMAC_SECRET is the development default"):
        refuse_default_secrets({**defaults, "SECRET_KEY": "x" * 64})
    with pytest.raises(DefaultSecretError, match="VMO_SECRET_KEY is"):
        refuse_default_secrets({"SECRET_KEY": "", "SMS_HMAC_SECRET": "y" * 64})
    refuse_default_secrets({"SECRET_KEY": "x" * 64, "SMS_HMAC_SECRET": "y" * 64})
    refuse_default_secrets({**defaults, "ALLOW_DEFAULT_SECRETS": True})


def _import_wsgi(**env):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("VMO_")}
    return subprocess.run([sys.executable, "-c", "import vmo.wsgi"], cwd=REPO, capture_output=True, text=True,
                          timeout=120, env={**environ, "DATABASE_URL": "sqlite://", **env})


def test_the_wsgi_entry_refuses_the_development_secrets():
    refused = _import_wsgi()
    assert refused.returncode != 0
    assert "refusing to start: VMO_SECRET_KEY and VMO_SMS_HMAC_SECRET are the development default" in refused.stderr
    assert _import_wsgi(VMO_ALLOW_DEFAULT_SECRETS="1").returncode == 0
    assert _import_wsgi(VMO_SECRET_KEY="k" * 64, VMO_SMS_HMAC_SECRET="h" * 64).returncode == 0
