"""Answers a client or the worker may keep: conditional GETs (ETag) and the page cache of the public lists."""
import functools
import hashlib

from flask import current_app, request

from vmo import pagecache
from vmo.http.auth import current_user


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
