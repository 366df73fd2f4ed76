"""Flask's, SQLAlchemy's and flask-smorest's own configuration: defaults here, overridden by the
environment (DATABASE_URL, VMO_*). Every other setting is a frozen dataclass of the module or feature
it belongs to (vmo.settings): SMS in vmo.notify.settings, rate limits in vmo.limits, security headers
in vmo.security, the default office and time zone in vmo.offices.settings, the page cache in
vmo.pagecache."""
import os


class Config:
    """Defaults for every deployment; `create_app` layers the environment on top."""

    # `gunicorn vmo.wsgi:app` refuses to start with this development default (vmo.security).
    SECRET_KEY = "dev-only-change-me"
    # Filled in by create_app: an SQLite file in the instance folder unless DATABASE_URL is set.
    SQLALCHEMY_DATABASE_URI = None
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    SQLALCHEMY_RECORD_QUERIES = False
    # 16 MiB covers a 500-vehicle batch and a 10 MB photo; anything bigger is refused with 413.
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    JSON_SORT_KEYS = False

    # flask-smorest / OpenAPI
    API_TITLE = "vmo"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/"
    OPENAPI_JSON_PATH = "api/v1/openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "/docs"
    OPENAPI_SWAGGER_UI_URL = "/docs-assets/"
    API_SPEC_OPTIONS = {
        "info": {
            "description": (
                "Booking and field-inspection service for a vehicle management office: "
                "fleet pre-registration and the green channel, weekend driving tests, "
                "rural motorcycle-inspection tours, the officers' mobile endpoint and "
                "satisfaction follow-up. Send `Authorization: Bearer <token>` from "
                "`POST /api/v1/auth/token`."
            )
        },
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}
        },
    }


def database_url_from_env() -> str | None:
    """DATABASE_URL as given, with the psycopg 3 driver named for PostgreSQL URLs."""
    url = os.environ.get("DATABASE_URL")
    return normalize_database_url(url) if url else None


def normalize_database_url(url: str) -> str:
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy needs the driver spelled out.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url

