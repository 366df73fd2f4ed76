"""Domain errors: plain exceptions that services raise, saying what kind of refusal it is and why.

They know nothing of HTTP: the edge (vmo.http.errors) maps each kind to a status in one table and
puts `fields` under the part of the request each field came from; a command prints the message.
"""


class DomainError(Exception):
    """A refusal: `message` for a person, `reason` a stable code for programs, `fields` the problems
    by field name ({"vin": ["already registered"]}, nested by key or index as marshmallow does), and
    `extra` further facts a client may act on (available=0)."""

    def __init__(self, message: str, *, reason: str | None = None, fields: dict | None = None, **extra):
        if "errors" in extra:
            raise TypeError("name field problems with fields={name: [problem]}, without a request location")
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.fields = fields
        self.extra = extra


class Unauthorized(DomainError):
    """The caller is not signed in (or the token is bad)."""


class Forbidden(DomainError):
    """The caller is known but may not do this."""


class NotFound(DomainError):
    """No such thing (or none the caller may know of)."""


class Conflict(DomainError):
    """The request clashes with the current state: taken, already done, changed meanwhile."""


class RuleViolation(DomainError):
    """The request is well formed but a business rule refuses it."""


class TooLarge(DomainError):
    """What was sent is larger than allowed."""


class UnsupportedFormat(DomainError):
    """What was sent is not in a format this takes (an image type, a file type)."""


class TooManyRequests(DomainError):
    """Too many attempts; the next may come after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: int, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


def field_error(field: str, message: str) -> RuleViolation:
    """A refusal naming one field, in the shape schema validation answers with."""
    return RuleViolation(message, fields={field: [message]})


def valid_field(field: str, validate, *args, **kwargs):
    """`validate(*args, **kwargs)` (a vmo.validators function); its ValueError becomes field_error(field)."""
    try:
        return validate(*args, **kwargs)
    except ValueError as exc:
        raise field_error(field, str(exc)) from None
