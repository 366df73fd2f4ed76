"""vmo: booking and field-inspection service for a vehicle management office."""
import importlib
import logging
import os

from flask import Flask, send_from_directory
from sqlalchemy import event
from sqlalchemy.engine import Engine

from vmo import failover  # noqa: F401  (its handle_error listener: failover errors are disconnects)
from vmo.config import Config, database_url_from_env, normalize_database_url
from vmo.extensions import VmoApi, db, migrate
from vmo.uow import unit_of_work


class VmoFlask(Flask):
    """Flask, with every request one unit of work (vmo.uow): whatever the view function did is
    committed once when it returns, and rolled back when it raises (the error handlers then answer).
    Reads commit nothing; services never commit."""

    def dispatch_request(self):
        with unit_of_work():
            return super().dispatch_request()


def create_app(config: dict | None = None) -> Flask:
    """Build the app: defaults, then `VMO_*` and `DATABASE_URL` from the environment, then `config`."""
    app = VmoFlask(__name__, instance_relative_config=True)
    app.config.from_object(Config)
    app.config.from_prefixed_env("VMO")
    if database_url_from_env():
        app.config["SQLALCHEMY_DATABASE_URI"] = database_url_from_env()
    if config:
        app.config.update(config)
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "vmo.sqlite3")
    app.config["SQLALCHEMY_DATABASE_URI"] = normalize_database_url(app.config["SQLALCHEMY_DATABASE_URI"])
    # Flask 3 reads this from the JSON provider, not the config: keep fields in the schema's order.
    app.json.sort_keys = bool(app.config["JSON_SORT_KEYS"])
    _engine_options(app)
    _logging(app)
    from vmo import settings
    from vmo.offices.settings import OfficeSettings
    settings.install(app, OfficeSettings)  # every feature's default office and office time

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "migrations"),
                     render_as_batch=True, compare_type=True)
    # One Api (and so one OpenAPI document) per app: a module-level one would hold the document of
    # whichever app was built last, half-built if that app failed to start.
    api = VmoApi()
    api.init_app(app)
    app.extensions["vmo.api"] = api

    from vmo import hooks, limits, security
    from vmo.http import app as http_app
    http_app.init_app(app)
    from vmo import bounds, pagecache
    pagecache.init_app(app)
    bounds.init_app(app)  # NUL and lone surrogates: 404/422 before a database sees them
    limits.init_app(app)
    security.init_app(app)

    hooks.init_app(app)
    for feature in _features():
        feature.register(app, api)

    _docs_assets(app)

    from vmo.cli import register_commands
    register_commands(app)
    return app


# vmo's features in the order they start; each module's `register(app, api)` hangs its blueprint on
# the Api, installs its settings (vmo.settings: a bad value stops the app here) and fills vmo.hooks.
CORE_FEATURES = (
    "vmo.accounts.resources", "vmo.audit.resources", "vmo.greenchannel.resources", "vmo.fleet.resources",
    "vmo.motorcycles.resources", "vmo.notify.resources", "vmo.followup.resources", "vmo.priority.resources",
    "vmo.mailings.resources",
    "vmo.stats.resources", "vmo.homevisits.resources",  # after stats: it documents its section of GET /stats
    "vmo.web",  # the companies' web app at /qiye/ and the web apps' shared files at /web/
)


def _features() -> list:
    """vmo's features, then the two feature packages, which hang theirs on the same Api: the one place
    vmo names them (its domain code never imports them)."""
    import mobile_api
    import schedules

    return [importlib.import_module(name) for name in CORE_FEATURES] + [schedules, mobile_api]


def _engine_options(app: Flask) -> None:
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if url.startswith("sqlite"):
        # Wait for a busy writer instead of failing at once; pragmas are set per connection below.
        options.setdefault("connect_args", {}).setdefault("timeout", 30)
    else:
        # No pool_pre_ping: it costs a round trip on every request. Connections are recycled before
        # servers and firewalls drop idle ones, and a connection found dead anyway (or refused, or a
        # demoted primary's: vmo.failover) invalidates the pool and answers 503 with Retry-After
        # (vmo.http.errors), so the client's retry gets a fresh one.
        options.setdefault("pool_recycle", 1800)
        # psycopg prepares a statement on a connection from its 5th execution on (its default, named here
        # so that it stays on: a booking's two statements cost the database 0.5 ms of CPU prepared and
        # 1.7 ms planned afresh, docs/performance.md). Behind PgBouncer in transaction mode, set it to
        # None in SQLALCHEMY_ENGINE_OPTIONS' connect_args, or use PgBouncer 1.21+ with prepared statements.
        options.setdefault("connect_args", {}).setdefault("prepare_threshold", 5)
    # SQL errors in the log (a 500's traceback) show no bound values: token hashes, phones, ID numbers.
    options.setdefault("hide_parameters", True)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    # Foreign keys are off by default in SQLite; WAL lets readers work while one writer writes.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def _logging(app: Flask) -> None:
    from vmo.http.logs import RedactingFormatter, RequestIdFilter

    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"))
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("vmo")
    if not any(isinstance(f, RequestIdFilter) for h in logger.handlers for f in h.filters):
        logger.addHandler(handler)
    logger.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    logger.propagate = False


def _docs_assets(app: Flask) -> None:
    import swagger_ui_bundle

    @app.route("/docs-assets/<path:filename>")
    def docs_assets(filename):
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename)
