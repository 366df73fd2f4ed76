"""The HTTP edge shared by every package: request ids, JSON errors, auth, idempotency, paging."""
import functools
import hashlib
import logging
import re
import uuid

from flask import current_app, g, request
from flask_smorest import Page
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from vmo import bounds, clock, integrity, limits, pagecache, redact
from vmo.accounts import services as accounts
from vmo.audit import services as audit
from vmo.errors import DomainError, Forbidden, TooManyRequests, Unauthorized
from vmo.extensions import db
from vmo.idempotency import services as idempotency
from vmo.schemas_common import ErrorSchema  # noqa: F401  (re-exported for resources)
from vmo.timefmt import OfficeTimeJSONProvider
from vmo.uow import unit_of_work

log = logging.getLogger("vmo")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def error_body(code: int, message: str, errors: dict | None = None, **extra) -> dict:
    body = {"code": code, "status": HTTP_STATUS_CODES.get(code, "Error"), "message": message}
    if errors:
        # A batch of 500 bad vehicles names each problem; a body of 100,000 would answer megabytes.
        errors, total = bounds.cap_problems(errors)
        if total > bounds.MAX_PROBLEMS:
            body["message"] = f"{message} (the first {bounds.MAX_PROBLEMS} of {total} problems are listed)"
            extra = {**extra, "error_count": total}
        body["errors"] = errors
    body.update(extra)
    body["request_id"] = g.get("request_id")
    return body


class RequestIdFilter(logging.Filter):
    """Puts the request id on every log line ("-" outside a request)."""

    def filter(self, record):
        try:
            record.request_id = g.get("request_id", "-")
        except RuntimeError:
            record.request_id = "-"
        return True


class RedactingFormatter(logging.Formatter):
    """Last line of defence: bearer tokens, passwords, configured secrets, phones and codes never reach a log.

    Nothing logs them on purpose (the request log does not exist, errors log no headers or bodies,
    and SQL parameters are hidden); this catches what a future log line or traceback might carry.
    """

    PATTERNS = (
        (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1[redacted]"),
        (re.compile(r'(?i)(["\']?(?:password|token|secret|api_key)["\']?\s*[:=]\s*["\']?)[^"\'\s,}]+'),
         r"\1[redacted]"),
    )
    SECRET_SETTINGS = ("SECRET_KEY", "SMS_HMAC_SECRET", "SMS_HTTP_API_KEY")

    def format(self, record) -> str:
        text = super().format(record)
        for pattern, replacement in self.PATTERNS:
            text = pattern.sub(replacement, text)
        try:
            secrets = [current_app.config.get(name) for name in self.SECRET_SETTINGS]
        except RuntimeError:  # outside an app
            secrets = []
        for secret in secrets:
            if isinstance(secret, str) and len(secret) >= 8:  # never a short, common word
                text = text.replace(secret, "[redacted]")
        # Personal data and booking codes (PIPL), and passwords in URLs, whatever line carries them.
        return redact.mask_text(redact.credentials(text))


def _begin_request():
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
    g.pop("user", None)
    audit.set_context(g.request_id)


def _end_request(response):
    response.headers["X-Request-ID"] = g.get("request_id", "")
    # Werkzeug's make_conditional (ETag answers) sets Date, and every WSGI server (gunicorn, the dev
    # server) adds its own: two Date headers. The server's is the one to keep.
    response.headers.pop("Date", None)
    return response


def _handle_domain_error(exc: DomainError):
    body = error_body(exc.status, exc.message, exc.errors, **exc.extra)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else {}
    if exc.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    db.session.rollback()
    return body, exc.status, headers


def _handle_http_error(exc: HTTPException):
    data = getattr(exc, "data", None) or {}
    errors = data.get("messages")
    code = exc.code or 500
    if errors:
        message = "the request has invalid or missing fields"
    elif code == 413:
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        message = f"the request body is larger than the limit of {limit} bytes"
    else:
        message = data.get("message") or exc.description or HTTP_STATUS_CODES.get(code, "error")
    headers = dict(getattr(exc, "get_headers", lambda: [])()) if code == 405 else {}
    headers.pop("Content-Type", None)
    if code == 429:  # a flask-limiter limit (vmo.limits); its message names which one
        headers["Retry-After"] = str(limits.retry_after())
    return error_body(code, message, errors), code, headers


def _handle_integrity_error(exc: IntegrityError):
    """A unique constraint that a concurrent request got to first: the 409 of vmo.integrity's table."""
    db.session.rollback()
    conflict = integrity.conflict_for(exc)
    if conflict is None:
        return _handle_unexpected(exc)
    return _handle_domain_error(conflict)


def _handle_unexpected(exc: Exception):
    if isinstance(exc, HTTPException):
        return _handle_http_error(exc)
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        # The database closed the connection (restart, fail-over, idle timeout): SQLAlchemy has
        # dropped the pool's connections, so a retry gets a fresh one.
        log.warning("database connection lost: %s", type(exc.orig).__name__)
        db.session.rollback()
        return error_body(503, "the database connection was lost; retry the request"), 503, {"Retry-After": "1"}
    log.exception("unhandled error")
    db.session.rollback()
    return error_body(500, "internal error; quote the request id when reporting it"), 500


class JSONProvider(OfficeTimeJSONProvider):
    """Flask's JSON, answers in office time (vmo.timefmt), except that a body nested past what Python's
    decoder can follow is bad JSON (a 400 from `request.get_json`), not a RecursionError (a 500)."""

    # UTF-8 as is: "渝G12345" on the wire, not "\u6e1dG12345" (readable with curl and in logs).
    ensure_ascii = False

    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError(bounds.DEPTH_MESSAGE) from None


def init_app(app) -> None:
    provider = JSONProvider(app)
    provider.sort_keys = app.json.sort_keys
    app.json = provider
    app.before_request(_begin_request)
    app.after_request(_end_request)
    app.register_error_handler(DomainError, _handle_domain_error)
    app.register_error_handler(HTTPException, _handle_http_error)
    app.register_error_handler(IntegrityError, _handle_integrity_error)
    app.register_error_handler(Exception, _handle_unexpected)


# ---- authentication -------------------------------------------------------------------

def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def current_user(optional: bool = False):
    """The signed-in user, resolved once per request; raises 401 unless `optional`."""
    if "user" not in g:
        token = _bearer_token()
        g.user = accounts.user_for_token(token, clock.now()) if token else None
    if g.user is None and not optional:
        raise Unauthorized("sign in first: send Authorization: Bearer <token>")
    return g.user


def signed_in_staff():
    """The signed-in staff member on a public operation (to name in the audit log), else None."""
    user = current_user(optional=True)
    return user if user is not None and user.is_staff else None


def auth(blp, *roles: str, optional: bool = False):
    """Require a signed-in user (with one of `roles`, if given) and document it in OpenAPI."""

    def decorator(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            user = current_user(optional=optional)
            if user is not None and roles and user.role not in roles:
                raise Forbidden(f"this needs the role {' or '.join(roles)}")
            return fn(*args, **kwargs)

        security = [{"bearerAuth": []}, {}] if optional else [{"bearerAuth": []}]
        wrapper = blp.doc(security=security)(wrapper)
        if not optional:
            wrapper = blp.alt_response(401, schema=ErrorSchema, description="missing or bad token")(wrapper)
            if roles:
                wrapper = blp.alt_response(403, schema=ErrorSchema, description="role not allowed")(wrapper)
        return wrapper

    return decorator


# ---- idempotency ----------------------------------------------------------------------

def _anonymous_scope(fingerprint: str) -> str:
    """Keys without a token are scoped by the caller's address and the request itself: another
    anonymous caller sending the same key (and body) never gets this caller's answer (its cancel code)."""
    caller = hashlib.sha256(f"{request.remote_addr}\n{fingerprint}".encode()).hexdigest()[:40]
    return f"anon:{caller}"


def idempotent(blp):
    """Honour an `Idempotency-Key` header: the same key and body replay the first answer."""

    def decorator(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            key = request.headers.get("Idempotency-Key")
            if not key:
                return fn(*args, **kwargs)
            if len(key) > 255:
                raise DomainError("Idempotency-Key must be at most 255 characters")
            user = current_user(optional=True)
            fingerprint = idempotency.fingerprint(request.method, request.path, request.get_data())
            scope = f"user:{user.id}" if user is not None else _anonymous_scope(fingerprint)
            stored = idempotency.claim(scope, key, fingerprint, clock.now())
            if stored is not None:
                response = current_app.response_class(stored.body, status=stored.status_code,
                                                      content_type=stored.content_type)
                if stored.location:
                    response.headers["Location"] = stored.location
                response.headers["Idempotent-Replayed"] = "true"
                return response
            try:
                # The work and its stored answer commit together, here (the request's own unit of
                # work then has nothing left to commit): a replay never returns an answer whose work
                # was rolled back, and a failed commit releases the key like any other failure.
                with unit_of_work():
                    response = current_app.make_response(fn(*args, **kwargs))
                    if response.status_code < 400:
                        idempotency.complete(scope, key, idempotency.StoredResponse(
                            response.status_code, response.content_type, response.get_data(),
                            response.headers.get("Location")))
            except BaseException:
                idempotency.release(scope, key)
                raise
            if response.status_code >= 400:
                idempotency.release(scope, key)
            return response

        return blp.doc(parameters=[{
            "in": "header", "name": "Idempotency-Key", "required": False,
            "schema": {"type": "string", "maxLength": 255},
            "description": "Retry-safe key: the same key and body return the first answer again.",
        }])(wrapper)

    return decorator


# ---- pagination -----------------------------------------------------------------------

class SelectPage(Page):
    """flask-smorest pagination over a SQLAlchemy `select()`: counts and slices in SQL."""

    @property
    def items(self):
        if self.page_params.first_item > 2**62:  # past any table, and past what OFFSET (int8) takes
            return []
        stmt = self.collection.limit(self.page_params.page_size).offset(self.page_params.first_item)
        return list(db.session.scalars(stmt))

    @property
    def item_count(self):
        return db.session.scalar(select(func.count()).select_from(self.collection.order_by(None).subquery()))


# ---- conditional GET ------------------------------------------------------------------

def etag_response(body: bytes, content_type: str, last_modified=None, headers: dict | None = None):
    """A response with a strong ETag that answers 304 to a matching If-None-Match."""
    response = current_app.response_class(body, content_type=content_type)
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    if last_modified is not None:
        response.last_modified = last_modified
    for name, value in (headers or {}).items():
        response.headers[name] = value
    response.headers.setdefault("Cache-Control", "no-cache")
    return response.make_conditional(request)


# ---- the page cache of the public lists -------------------------------------------------

# Per-request headers that the app adds after the view; never stored with an answer.
_NOT_STORED = frozenset({"X-Request-ID", "Date", "Set-Cookie"})


def public_page(fn):
    """Serve this GET's answers from the worker's page cache (vmo.pagecache): for a list whose answer
    depends on nothing about the caller but, when signed in, their office."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        cache = pagecache.cache_of(current_app)
        if not cache.enabled or request.method != "GET":
            return fn(*args, **kwargs)
        office_id = None
        if "Authorization" in request.headers:
            user = current_user(optional=True)
            office_id = user.office_id if user is not None else None
        # The frozen clock of a test or a demo is part of what an answer depends on.
        key = (request.path, request.query_string, office_id, current_app.config.get("FROZEN_NOW"))
        stored = cache.get(key)
        if stored is not None:
            body, status, headers = stored
            return current_app.response_class(body, status=status, headers=headers)
        generation = cache.generation
        response = current_app.make_response(fn(*args, **kwargs))
        if response.status_code == 200 and not response.direct_passthrough:
            body = response.get_data()
            if len(body) <= pagecache.MAX_BODY_BYTES:
                headers = [(k, v) for k, v in response.headers.items() if k not in _NOT_STORED]
                cache.put(key, generation, (body, response.status_code, headers))
        return response

    return wrapper
