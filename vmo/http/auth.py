"""Who is calling: the bearer token's user, and the `@auth` decorator that requires one."""
import functools

from flask import g, request

from vmo import clock
from vmo.accounts import services as accounts
from vmo.errors import Forbidden, Unauthorized
from vmo.schemas_common import ErrorSchema


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def current_user(optional: bool = False, load=None):
    """The signed-in user, resolved once per request; raises 401 unless `optional`. `load(token, now)`
    resolves the token instead of `accounts.user_for_token` (see `auth`)."""
    if "user" not in g:
        token = bearer_token()
        g.user = (load or accounts.user_for_token)(token, clock.now()) if token else None
    if g.user is None and not optional:
        raise Unauthorized("sign in first: send Authorization: Bearer <token>")
    return g.user


def signed_in_staff():
    """The signed-in staff member on a public operation (to name in the audit log), else None."""
    user = current_user(optional=True)
    return user if user is not None and user.is_staff else None


def auth(blp, *roles: str, optional: bool = False, load=None):
    """Require a signed-in user (with one of `roles`, if given) and document it in OpenAPI.

    `load(token, now)`: an operation that reads its caller together with its own data (the booking's one
    read) gives the user it found for the token (an `accounts.Caller`, the token's rules checked), or
    None; the role is checked here as for any user."""

    def decorator(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            user = current_user(optional=optional, load=load)
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
