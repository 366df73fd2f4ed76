"""The JSON error answers: every refusal, from a domain error, the framework or the database, has one body shape."""
import logging

from flask import current_app, g, request
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from vmo import bounds, failover, integrity, limits
from vmo.errors import (
    Conflict, DomainError, Forbidden, NotFound, RuleViolation, TooLarge, TooManyRequests, Unauthorized, UnsupportedFormat,
)
from vmo.extensions import db

log = logging.getLogger("vmo")

# The status each kind of refusal answers with: the first class of an error's MRO found here.
STATUSES: dict[type[DomainError], int] = {
    DomainError: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    TooLarge: 413,
    bounds.UriTooLong: 414,
    UnsupportedFormat: 415,
    RuleViolation: 422,
    bounds.UnstorableText: 422,
    TooManyRequests: 429,
    bounds.HeadersTooLarge: 431,
}


def status_of(exc: DomainError) -> int:
    return next(STATUSES[kind] for kind in type(exc).__mro__ if kind in STATUSES)


def located(fields: dict) -> dict:
    """A domain error's field problems under the part of the request each field came from, as schema
    validation answers them: "path" (the route's variables), "query" (the query string), else "json"."""
    path = request.view_args or {}
    body = request.get_json(silent=True) if request.is_json else None
    body = body if isinstance(body, dict) else {}
    errors: dict[str, dict] = {}
    for name, problems in fields.items():
        if name in path:
            where = "path"
        elif name in request.args and name not in body:
            where = "query"
        else:
            where = "json"
        errors.setdefault(where, {})[name] = problems
    return errors


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


def _handle_domain_error(exc: DomainError):
    status = status_of(exc)
    extra = {"reason": exc.reason, **exc.extra} if exc.reason is not None else exc.extra
    body = error_body(status, exc.message, located(exc.fields) if exc.fields else None, **extra)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    db.session.rollback()
    return body, status, headers


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


def _driver_error_name(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    return type(orig if orig is not None else exc).__name__


def _handle_unexpected(exc: Exception):
    if isinstance(exc, HTTPException):
        return _handle_http_error(exc)
    if failover.unavailable(exc):
        # No working primary: the connection was lost, refused or cut (a restart, a failover, an idle
        # timeout), at any statement or at the commit, which then did not answer success. SQLAlchemy
        # has dropped the pool's connections (vmo.failover), so a retry gets a fresh one.
        log.warning("database unavailable: %s", _driver_error_name(exc))
        db.session.rollback()
        return (error_body(503, "the database is unavailable for a moment; retry the request"), 503,
                {"Retry-After": "1"})
    log.exception("unhandled error")
    db.session.rollback()
    return error_body(500, "internal error; quote the request id when reporting it"), 500


def init_app(app) -> None:
    app.register_error_handler(DomainError, _handle_domain_error)
    app.register_error_handler(HTTPException, _handle_http_error)
    app.register_error_handler(IntegrityError, _handle_integrity_error)
    app.register_error_handler(Exception, _handle_unexpected)
