"""Security headers on every response, deliberate CORS, the reverse-proxy fix (`SecuritySettings`), and
the production server's refusal of the development secrets."""
import base64
import hashlib
import re
from dataclasses import dataclass

from flask import current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

from vmo import settings
from vmo.settings import setting, text

# JSON, calendars, photos and errors: nothing may load, nothing may frame them.
API_POLICY = "default-src 'none'; frame-ancestors 'none'"
# The public web apps served by vmo.web.static_app (their shared files at /web/ among them):
# plain ES modules, QR codes drawn as SVG, calendar files handed over as blob: URLs; nothing inline.
WEB_APP_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
                  "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
# Pages with one inline block of their own (Swagger UI's start-up script, the report's stylesheet):
# that exact block is allowed by its hash, so anything injected next to it is still refused.
PAGE_POLICY = ("default-src 'none'; script-src 'self'{scripts}; style-src 'self'{styles}; "
               "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
               "frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
# Page -> the tag of its one inline block: the API docs here, a feature's pages by add_hashed_page.
HASHED_PAGES = {"/docs": "script"}
HASHED_PAGES_KEY = "vmo.csp_hashed_pages"

CORS_METHODS = "GET, POST, PUT, PATCH, DELETE"
CORS_HEADERS = "Authorization, Content-Type, Idempotency-Key, If-None-Match, X-Request-ID"
CORS_EXPOSE = "ETag, X-Total-Count, X-Pagination, Retry-After, X-Request-ID, Location, Idempotent-Replayed"
CORS_MAX_AGE = "600"


def _origins(value) -> tuple[str, ...]:
    """Origins as a comma-separated text or a JSON list, e.g. "https://app.example.gov.cn"."""
    items = value if isinstance(value, (list, tuple)) else text(value).split(",")
    return tuple(sorted({text(item).strip().rstrip("/") for item in items if text(item).strip()}))


@dataclass(frozen=True)
class SecuritySettings:
    # Behind a reverse proxy: how many proxies set X-Forwarded-For/-Proto, so limits count the real
    # client address and HSTS sees https (0: none, the peer address is the client).
    proxy_fix_x_for: int = setting(0, low=0)
    proxy_fix_x_proto: int = setting(0, low=0)
    # Strict-Transport-Security max-age, only when served over TLS (0: no header).
    hsts_seconds: int = setting(0, low=0)
    # Origins allowed to call the API from a browser (none: same-origin only).
    cors_origins: tuple[str, ...] = setting((), parse=_origins)
    # `gunicorn vmo.wsgi:app` refuses to start while a secret is its development default (anyone could
    # forge tokens and SMS replies); true allows it for a local try-out.
    allow_default_secrets: bool = setting(False)


def init_app(app) -> None:
    chosen = settings.install(app, SecuritySettings)
    if chosen.proxy_fix_x_for or chosen.proxy_fix_x_proto:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=chosen.proxy_fix_x_for, x_proto=chosen.proxy_fix_x_proto)
    app.before_request(_preflight)
    app.after_request(_headers)


def allowed_origins() -> tuple[str, ...]:
    return settings.get(SecuritySettings).cors_origins


def _allowed_origin() -> str | None:
    origin = request.headers.get("Origin")
    return origin if origin and origin in allowed_origins() else None


def _preflight():
    """Answer a CORS preflight from an allowed origin with 204; others fall through (no CORS headers)."""
    if request.method != "OPTIONS" or "Access-Control-Request-Method" not in request.headers:
        return None
    if _allowed_origin() is None:
        return None
    response = current_app.response_class(status=204)
    response.headers["Access-Control-Allow-Methods"] = CORS_METHODS
    response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
    response.headers["Access-Control-Max-Age"] = CORS_MAX_AGE
    return response


def _inline_hashes(html: str, tag: str) -> str:
    blocks = re.findall(rf"<{tag}>(.*?)</{tag}>", html, flags=re.S)
    return "".join(f" 'sha256-{base64.b64encode(hashlib.sha256(b.encode()).digest()).decode()}'" for b in blocks)


def _under(path: str, prefixes) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in prefixes)


# Where a feature's own policies are kept: address prefix -> policy (add_policy).
POLICIES_KEY = "vmo.csp_policies"


def add_policy(app, prefix: str, policy: str) -> None:
    """Answers under `prefix` (a feature's web app, say "/app") get `policy` instead of the API's."""
    app.extensions.setdefault(POLICIES_KEY, {})[prefix.rstrip("/")] = policy


def add_hashed_page(app, path: str, tag: str) -> None:
    """The page at `path` has one inline `tag` block ("script" or "style") of its own: PAGE_POLICY allows
    that block by its hash."""
    app.extensions.setdefault(HASHED_PAGES_KEY, dict(HASHED_PAGES))[path] = tag


def _policy(response) -> str:
    path = request.path
    for prefix, policy in current_app.extensions.get(POLICIES_KEY, {}).items():
        if _under(path, (prefix,)):
            return policy
    if _under(path, current_app.extensions.get("vmo.web_app_prefixes", ())):
        return WEB_APP_POLICY
    tag = current_app.extensions.get(HASHED_PAGES_KEY, HASHED_PAGES).get(path)
    if tag and response.mimetype == "text/html" and not response.direct_passthrough:
        hashes = _inline_hashes(response.get_data(as_text=True), tag)
        return PAGE_POLICY.format(scripts=hashes if tag == "script" else "", styles=hashes if tag == "style" else "")
    return API_POLICY


def _cache_control(response) -> None:
    if not request.path.startswith("/api/"):
        return
    if "Cache-Control" not in response.headers:
        # Tokens, personal data and office figures: no cache, proxy or browser history keeps them.
        response.headers["Cache-Control"] = "no-store"
    elif "Authorization" in request.headers and not (response.cache_control.private or response.cache_control.public):
        # Revalidated answers (ETag) to a signed-in user may be kept by that user's device only.
        response.cache_control.private = True


def _headers(response):
    headers = response.headers
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"
    headers.setdefault("Content-Security-Policy", _policy(response))
    seconds = settings.get(SecuritySettings).hsts_seconds
    if seconds > 0:
        headers["Strict-Transport-Security"] = f"max-age={seconds}; includeSubDomains"
    _cache_control(response)
    if allowed_origins():
        response.vary.add("Origin")
        origin = _allowed_origin()
        if origin is not None:
            headers["Access-Control-Allow-Origin"] = origin
            headers["Access-Control-Expose-Headers"] = CORS_EXPOSE
    return response


class DefaultSecretError(RuntimeError):
    """A production server was started with a development secret."""


def refuse_default_secrets(config) -> None:
    """Raise DefaultSecretError naming each secret still at its development default (or empty), unless
    `VMO_ALLOW_DEFAULT_SECRETS` says this is a development server. `config` is the app's (vmo.wsgi)."""
    from vmo.config import Config
    from vmo.notify.settings import DEV_HMAC_SECRET, SmsSettings

    if settings.load(SecuritySettings, config).allow_default_secrets:
        return
    secrets = {"SECRET_KEY": (config.get("SECRET_KEY"), Config.SECRET_KEY),
               "SMS_HMAC_SECRET": (settings.load(SmsSettings, config).hmac_secret, DEV_HMAC_SECRET)}
    left = [name for name, (value, default) in secrets.items() if not value or value == default]
    if left:
        names = " and ".join(f"VMO_{name}" for name in left)
        raise DefaultSecretError(
            f"refusing to start: {names} {'is' if len(left) == 1 else 'are'} the development default, with which "
            f"anyone can forge signed data and SMS replies. Set {'it' if len(left) == 1 else 'each'} to a long "
            "random value (e.g. `openssl rand -hex 32`), or VMO_ALLOW_DEFAULT_SECRETS=1 on a development machine.")
