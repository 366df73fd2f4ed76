"""Configuration of the app itself (database, secrets, limits, texts): defaults here, overridden by the
environment (DATABASE_URL, VMO_*). Each feature's own settings are its `Settings` dataclass (vmo.settings)."""
import os


class Config:
    """Defaults for every deployment; `create_app` layers the environment on top."""

    SECRET_KEY = "dev-only-change-me"
    # `gunicorn vmo.wsgi:app` refuses to start while SECRET_KEY or SMS_HMAC_SECRET is its development
    # default (anyone could forge replies); VMO_ALLOW_DEFAULT_SECRETS=1 allows it for a local try-out.
    ALLOW_DEFAULT_SECRETS = False
    # Filled in by create_app: an SQLite file in the instance folder unless DATABASE_URL is set.
    SQLALCHEMY_DATABASE_URI = None
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    SQLALCHEMY_RECORD_QUERIES = False
    # 16 MiB covers a 500-vehicle batch and a 10 MB photo; anything bigger is refused with 413.
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    JSON_SORT_KEYS = False

    TIMEZONE = "Asia/Shanghai"
    # Anonymous answers of the public lists are kept this many seconds per worker (vmo.pagecache); a write
    # in the worker forgets them at once. 0 turns the cache off.
    PUBLIC_CACHE_SECONDS = 2
    # The office `vmo init-db` creates on a fresh database (sign-ups and `vmo users create` use it
    # when no office is named). Env: VMO_DEFAULT_OFFICE, VMO_DEFAULT_OFFICE_NAME, ...
    DEFAULT_OFFICE = "nanchuan"
    DEFAULT_OFFICE_NAME = "重庆市南川区公安局交通巡逻警察支队车辆管理所"
    DEFAULT_OFFICE_PLATE_PREFIX = "渝G"
    DEFAULT_OFFICE_REGION_CODE = "500119"

    # Rate limits (flask-limiter notation, ";" between several; "" turns one off). Counters are kept in
    # RATELIMIT_STORAGE_URI: memory:// counts per process; use redis://host:6379/0 with several workers.
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_STRATEGY = "moving-window"
    # Redis down: count in memory meanwhile, and never turn a storage error into a 500.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_LOGIN_PER_ADDRESS = "30 per minute;300 per hour"
    RATELIMIT_LOGIN_PER_USERNAME = "10 per minute"
    RATELIMIT_SIGNUPS_PER_ADDRESS = "10 per hour"
    RATELIMIT_REGISTRATIONS_PER_ADDRESS = "30 per hour"
    RATELIMIT_BOOKINGS_PER_CANDIDATE = "10 per minute;60 per day"
    # Behind a reverse proxy: how many proxies set X-Forwarded-For/-Proto, so limits count the real
    # client address and HSTS sees https (0: none, the peer address is the client).
    PROXY_FIX_X_FOR = 0
    PROXY_FIX_X_PROTO = 0
    # Security headers: HSTS only when served over TLS (seconds; 0 = no header); CORS origins
    # (comma-separated, e.g. "https://tablet.example.gov.cn"; empty = same-origin only).
    HSTS_SECONDS = 0
    CORS_ORIGINS = ""

    # Put in front of every text by the outbox (env VMO_SMS_SIGNATURE). Gateways in China accept only
    # short, registered signatures; the office's full name would also cost a second segment.
    SMS_SIGNATURE = "【南川车管所】"
    # Outbound texts: "log" (writes to the log; the outbox table keeps every message) or "http".
    SMS_BACKEND = "log"
    SMS_HTTP_URL = None
    SMS_HTTP_API_KEY = None
    SMS_HTTP_API_KEY_HEADER = "X-API-Key"
    SMS_HTTP_TIMEOUT = 5.0
    # Tries within one send (exponential backoff from SMS_HTTP_BACKOFF seconds), then the outbox
    # retries the message on later passes until SMS_MAX_ATTEMPTS, after which it is marked failed.
    SMS_HTTP_RETRIES = 3
    SMS_HTTP_BACKOFF = 0.5
    SMS_MAX_ATTEMPTS = 8
    SMS_RETRY_BASE_SECONDS = 30
    # Inbound webhook: HMAC-SHA256 secret (env VMO_SMS_HMAC_SECRET); its allowed clock skew is a
    # follow-up setting (vmo/followup/settings.py).
    SMS_HMAC_SECRET = "dev-sms-secret"

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


DEFAULT_SECRETS = ("SECRET_KEY", "SMS_HMAC_SECRET")


class DefaultSecretError(RuntimeError):
    """A production server was started with a development secret."""


def refuse_default_secrets(config) -> None:
    """Raise DefaultSecretError naming each secret still at its development default (or empty), unless
    ALLOW_DEFAULT_SECRETS says this is a development server."""
    if config.get("ALLOW_DEFAULT_SECRETS"):
        return
    left = [name for name in DEFAULT_SECRETS if not config.get(name) or config.get(name) == getattr(Config, name)]
    if left:
        names = " and ".join(f"VMO_{name}" for name in left)
        raise DefaultSecretError(
            f"refusing to start: {names} {'is' if len(left) == 1 else 'are'} the development default, with which "
            f"anyone can forge signed data and SMS replies. Set {'it' if len(left) == 1 else 'each'} to a long "
            "random value (e.g. `openssl rand -hex 32`), or VMO_ALLOW_DEFAULT_SECRETS=1 on a development machine.")
