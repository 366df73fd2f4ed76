"""The documented production steps work on an empty database: `vmo init-db`
makes the schema and the default office, then `vmo users create --role admin ...` can name it."""
import os
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import BACKENDS, PG_URL, _pg_url, app_test_config
from vmo import create_app, settings
from vmo.extensions import db


@pytest.fixture(params=BACKENDS)
def fresh_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    # A database of its own, named after the test database (several checkouts share one server).
    name = PG_URL.rsplit("/", 1)[-1].split("?")[0] + "_fresh"
    admin = create_engine(_pg_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    yield _pg_url().rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def _vmo(database_url, *args):
    """The `vmo` command as an operator runs it: a process of its own, configured by the environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VMO_")}
    env["DATABASE_URL"] = database_url
    return subprocess.run([sys.executable, "-m", "vmo", *args], env=env, capture_output=True, text=True,
                          timeout=120)


def test_init_db_then_an_admin_on_an_empty_database(fresh_database):
    for _ in range(2):  # safe to run again
        init = _vmo(fresh_database, "init-db")
        assert init.returncode == 0, init.stderr
        assert "default office nanchuan: 重庆市南川区公安局交通巡逻警察支队车辆管理所 (渝G)" in init.stdout
    admin = _vmo(fresh_database, "users", "create", "--role", "admin", "--username", "admin",
                 "--password", "a-long-admin-password")
    assert admin.returncode == 0, admin.stderr
    assert admin.stdout.strip() == "created admin admin in nanchuan"

    app = create_app(app_test_config(fresh_database))
    client = app.test_client()
    signed_in = client.post("/api/v1/auth/token", json={"username": "admin", "password": "a-long-admin-password"})
    assert signed_in.status_code == 200, signed_in.get_json()
    assert signed_in.get_json()["role"] == "admin"
    offices = client.get("/api/v1/offices").get_json()
    assert [(o["code"], o["plate_prefix"], o["timezone"]) for o in offices] == [("nanchuan", "渝G", "Asia/Shanghai")]
    with app.app_context():
        db.engine.dispose()


def test_the_default_office_comes_from_the_settings(tmp_path):
    url = f"sqlite:///{tmp_path / 'office.sqlite3'}"
    app = create_app(app_test_config(url, DEFAULT_OFFICE="fuling", DEFAULT_OFFICE_NAME="涪陵区车管所",
                                     DEFAULT_OFFICE_PLATE_PREFIX="渝B", DEFAULT_OFFICE_REGION_CODE=500102))
    init = app.test_cli_runner().invoke(args=["init-db"])
    assert init.exit_code == 0, init.output
    assert "default office fuling: 涪陵区车管所 (渝B)" in init.output
    app.config.update(DEFAULT_OFFICE="other", DEFAULT_OFFICE_PLATE_PREFIX="XX")
    settings.reload(app)
    bad = app.test_cli_runner().invoke(args=["init-db"])
    assert bad.exit_code != 0 and "province character" in bad.output
    with app.app_context():
        db.engine.dispose()
