"""Domain errors: plain exceptions that services raise and one place maps to HTTP."""


class DomainError(Exception):
    """Base class; `status` is the HTTP status the API answers with."""

    status = 400

    def __init__(self, message: str, errors: dict | None = None, **extra):
        super().__init__(message)
        self.message = message
        self.errors = errors
        # Extra top-level fields for the JSON body (e.g. seats_left on a full session).
        self.extra = extra


class Unauthorized(DomainError):
    status = 401


class Forbidden(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class RuleViolation(DomainError):
    """The request is well formed but a business rule refuses it."""

    status = 422


class TooManyRequests(DomainError):
    status = 429

    def __init__(self, message: str, retry_after: int, **extra):
        super().__init__(message, **extra)
        self.retry_after = retry_after


def field_error(field: str, message: str) -> RuleViolation:
    """A 422 naming one field of the JSON body, in the shape schema validation answers with."""
    return RuleViolation(message, errors={"json": {field: [message]}})


def valid_field(field: str, validate, *args, **kwargs):
    """`validate(*args, **kwargs)` (a vmo.validators function); its ValueError becomes field_error(field)."""
    try:
        return validate(*args, **kwargs)
    except ValueError as exc:
        raise field_error(field, str(exc)) from None
