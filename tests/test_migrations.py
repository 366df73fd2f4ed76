"""The Alembic migrations build exactly the schema the models describe, on both databases."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from tests.conftest import BACKENDS, _pg_url, app_test_config
from vmo import create_app
from vmo.extensions import db
from vmo.migrations_util import upgrade_database

# The revision that brought the company review (and a vehicle's papers).
REVIEW_REVISION = "7574499ba433"


@pytest.fixture(params=BACKENDS)
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    # A database of its own: the shared test database holds create_all() tables. Named after this run's
    # test database, so two runs on one server (CI beside a developer's) never drop each other's.
    name = f"{_pg_url().rsplit('/', 1)[1].split('?')[0]}_migrations"[:63]
    admin = create_engine(_pg_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    url = _pg_url().rsplit("/", 1)[0] + "/" + name
    yield url
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def test_upgrade_builds_the_models_schema_and_is_safe_to_run_twice(empty_database):
    app = create_app(app_test_config(empty_database))
    with app.app_context():
        upgrade_database()
        upgrade_database()  # a second run changes nothing and does not fail
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
        tables = set(inspect(db.engine).get_table_names())
        db.engine.dispose()
    assert diff == []
    assert {t.name for t in db.metadata.sorted_tables} <= tables


def test_init_db_command_reports_ready(empty_database):
    app = create_app(app_test_config(empty_database))
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "database ready" in result.output
    with app.app_context():
        assert "alembic_version" in inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_companies_that_booked_before_the_review_are_approved_and_new_ones_pending(empty_database):
    """Existing companies have been booking all along: migrated approved. A row written without a status
    (a raw INSERT, a script) starts pending, like every sign-up."""
    from flask import current_app
    from flask_migrate import upgrade

    app = create_app(app_test_config(empty_database))
    with app.app_context():
        directory = current_app.extensions["migrate"].directory
        upgrade(directory=directory, revision=f"{REVIEW_REVISION}-1")
        company = ("INSERT INTO companies (office_id, user_id, name, credit_code, contact_name, contact_phone, "
                   "created_at) VALUES (1, {user}, '老客户', '{code}', '李明', '13800138000', CURRENT_TIMESTAMP)")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO offices (code, name, timezone, plate_prefix, created_at) "
                              "VALUES ('nanchuan', '南川区车管所', 'Asia/Shanghai', '渝G', CURRENT_TIMESTAMP)"))
            for user in (1, 2):
                conn.execute(text("INSERT INTO users (office_id, username, password_hash, role, active, created_at) "
                                  f"VALUES (1, 'co{user}', 'x', 'company', true, CURRENT_TIMESTAMP)"))
            conn.execute(text(company.format(user=1, code="91500119MA5U8Y0X2A")))
        upgrade(directory=directory)
        with db.engine.begin() as conn:
            conn.execute(text(company.format(user=2, code="91500119MA5U8Y0X3A").replace("老客户", "新客户")))
            statuses = dict(conn.execute(text("SELECT name, status FROM companies ORDER BY id")).all())
        db.engine.dispose()
    assert statuses == {"老客户": "approved", "新客户": "pending"}


def test_the_migrations_have_one_head():
    """Two features that each add a revision on the same parent leave two heads, and `vmo init-db`
    (upgrade to "head") then refuses to run: the later one must follow the other."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    app = create_app(app_test_config("sqlite://"))
    config = Config()
    config.set_main_option("script_location", app.extensions["migrate"].directory)
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"several migration heads: {heads}; point the later revision's down_revision at the other"
