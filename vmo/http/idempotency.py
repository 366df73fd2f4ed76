"""The `Idempotency-Key` header: a retried request replays the first answer."""
import functools
import hashlib

from flask import current_app, request

from vmo import clock
from vmo.errors import DomainError
from vmo.http.auth import current_user
from vmo.idempotency import services as idempotency
from vmo.uow import unit_of_work


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
            claimed_at = clock.now()
            stored = idempotency.claim(scope, key, fingerprint, claimed_at)
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
                idempotency.release(scope, key, claimed_at)
                raise
            if response.status_code >= 400:
                idempotency.release(scope, key, claimed_at)
            return response

        return blp.doc(parameters=[{
            "in": "header", "name": "Idempotency-Key", "required": False,
            "schema": {"type": "string", "maxLength": 255},
            "description": "Retry-safe key: the same key and body return the first answer again.",
        }])(wrapper)

    return decorator
