"""Input bounds at the edge: bounded ids, lists bounded before their items are decoded, JSON nesting,
only text a database can hold, dates within the years the service can compute with, capped error bodies."""
import re
from datetime import date

import flask_smorest
from flask import current_app, request
from marshmallow import ValidationError, fields, validate
from webargs import missing
from webargs.flaskparser import FlaskParser
from werkzeug.routing import IntegerConverter

from vmo.errors import DomainError, NotFound

# ---- ids ------------------------------------------------------------------------------------------

# Ids are 32-bit integer columns on PostgreSQL; a larger number cannot name a row.
INT4_MAX = 2_147_483_647


class IdConverter(IntegerConverter):
    """`<int:...>` in a route: an id from 0 to INT4_MAX, anything else is 404 (documented as `maximum`)."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002  (werkzeug's parameter name)
        kwargs.setdefault("max", INT4_MAX)
        super().__init__(map, *args, **kwargs)


def id_field(**kwargs):
    """An integer field naming a row by id: 1..INT4_MAX, so a huge number is a 422, not a database error."""
    return fields.Integer(validate=validate.Range(1, INT4_MAX), **kwargs)


# ---- text -----------------------------------------------------------------------------------------

# PostgreSQL text cannot hold NUL, and no UTF-8 encoder takes an unpaired surrogate (JSON "\\ud800").
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_MESSAGE = "must not contain NUL characters or unpaired surrogates"
OWN_TEXT_CHECK = "_vmo_checks_own_text"


class UnstorableText(DomainError):
    """Text that no database column can hold (a 422, as a field's bad value is)."""


class TooDeep(DomainError):
    """A JSON body nested deeper than any request of this API (a 400, not a RecursionError)."""


# No request body of this API nests deeper than a few levels; Python's JSON decoder and every walk over
# decoded data recurse, so a body of 990 nested `[` must be refused, not followed.
MAX_DEPTH = 32
DEPTH_MESSAGE = f"the JSON body is nested more than {MAX_DEPTH} levels deep"


def unstorable_errors(value, depth: int = 0) -> dict | list | None:
    """Errors in marshmallow's shape ({field: [message]}, nested by key or index) for every string in
    `value` (keys included) with a NUL or an unpaired surrogate; None when there is none."""
    if isinstance(value, str):
        return [UNSTORABLE_MESSAGE] if _UNSTORABLE.search(value) else None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    if depth >= MAX_DEPTH:
        raise TooDeep(DEPTH_MESSAGE)
    errors = {}
    for key, item in items:
        found = unstorable_errors(key) or unstorable_errors(item, depth + 1)
        if found:
            errors["_schema" if isinstance(key, str) and _UNSTORABLE.search(key) else key] = found
    return errors or None


def checks_own_text(view):
    """Mark a view whose schema answers unstorable body text itself (sync: per record, not the whole batch)."""
    setattr(view, OWN_TEXT_CHECK, True)
    return view


def _view_checks_own_text() -> bool:
    view = current_app.view_functions.get(request.endpoint)
    method = getattr(getattr(view, "view_class", None), request.method.lower(), view)
    return getattr(method, OWN_TEXT_CHECK, False)


def refuse_unstorable_text():
    """Before any view: a NUL in the path is 404 (nothing has such a name); in the query string, a 422
    naming the parameter, instead of a database error (500). Bodies are checked by the parser (below),
    only for an endpoint that accepts one: a body sent anywhere else is never read."""
    if _UNSTORABLE.search(request.path):
        raise NotFound("no such resource: the address contains a NUL character")
    query = {name: [UNSTORABLE_MESSAGE] for name, value in request.args.items(multi=True)
             if _UNSTORABLE.search(name) or _UNSTORABLE.search(value)}
    if query:
        raise UnstorableText("the request has text that cannot be stored: " + UNSTORABLE_MESSAGE,
                             fields=query)


# ---- lists: bounded before their items are decoded --------------------------------------------------

# A list field without a `validate.Length(max=...)` of its own takes at most this many items (and a
# dict field this many keys); marshmallow would otherwise decode every item, and answer an error for
# each, before any length rule runs (100,000 items: 8 s and a 19 MB answer).
MAX_ITEMS = 1000


def _max_items(field) -> int:
    maxima = [v.max for v in field.validators if isinstance(v, validate.Length) and v.max is not None]
    return min(maxima) if maxima else MAX_ITEMS


def _too_long(field, value) -> list | None:
    """The field's own Length error (or the default bound's) if `value` is longer than it allows."""
    limit = _max_items(field)
    if len(value) <= limit:
        return None
    for validator in field.validators:
        if isinstance(validator, validate.Length) and validator.max == limit:
            try:
                validator(value)
            except ValidationError as exc:
                return exc.messages
    return [f"Longer than maximum length {limit}."]


class _Walk:
    """One pass over a JSON body guided by the schema that will load it: lists and dicts longer than
    their fields allow, text a database cannot hold (unless the view checks its own), nesting depth.

    Only what the schema has a field for is followed (an unknown key is refused by marshmallow
    without reading its value), and no list is followed past its bound, so the cost is bounded by
    the schema, not by what was sent.
    """

    def __init__(self, check_text: bool):
        self.check_text = check_text

    def schema(self, schema, data, depth: int):
        if getattr(schema, "many", False):
            return self.items(lambda item: self.schema_one(schema, item, depth + 1), data, MAX_ITEMS, depth)
        return self.schema_one(schema, data, depth)

    def schema_one(self, schema, data, depth: int):
        if not isinstance(data, dict):
            return None
        if depth >= MAX_DEPTH:
            raise TooDeep(DEPTH_MESSAGE)
        by_key = {f.data_key or name: f for name, f in schema.fields.items() if not f.dump_only}
        errors = {}
        for key, value in data.items():
            if self.check_text and _UNSTORABLE.search(key):
                errors.setdefault("_schema", [UNSTORABLE_MESSAGE])
                continue
            field = by_key.get(key)
            found = self.field(field, value, depth + 1) if field is not None else None
            if found:
                errors[key] = found
        return errors or None

    def items(self, check, data, limit: int, depth: int):
        if not isinstance(data, list):
            return None
        if len(data) > limit:
            return [f"Longer than maximum length {limit}."]
        errors = {}
        for index, item in enumerate(data):
            found = check(item)
            if found:
                errors[index] = found
        return errors or None

    def field(self, field, value, depth: int):
        if isinstance(value, str):
            return [UNSTORABLE_MESSAGE] if self.check_text and _UNSTORABLE.search(value) else None
        if isinstance(field, fields.List) and isinstance(value, list):
            return _too_long(field, value) or self.items(
                lambda item: self.field(field.inner, item, depth + 1), value, len(value), depth)
        if isinstance(field, fields.Nested):
            schema = field.schema
            if field.many and isinstance(value, list):
                return _too_long(field, value) or self.items(
                    lambda item: self.schema_one(schema, item, depth + 1), value, len(value), depth)
            return self.schema(schema, value, depth)
        if isinstance(value, dict) and len(value) > MAX_ITEMS:
            return [f"Longer than maximum length {MAX_ITEMS}."]
        if isinstance(value, (dict, list)):  # a Dict or Raw field: any JSON, within depth
            if depth + 1 >= MAX_DEPTH:
                raise TooDeep(DEPTH_MESSAGE)
            return unstorable_errors(value, depth) if self.check_text else _within_depth(value, depth)
        return None


def _within_depth(value, depth: int) -> None:
    for item in (value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()):
        if isinstance(item, (dict, list)):
            if depth + 1 >= MAX_DEPTH:
                raise TooDeep(DEPTH_MESSAGE)
            _within_depth(item, depth + 1)


def check_body(schema, data, check_text: bool = True) -> None:
    """Before `schema` loads `data`: refuse (422) lists longer than allowed and unstorable text, and
    (400) nesting deeper than MAX_DEPTH, without decoding a single item."""
    errors = _Walk(check_text).schema(schema, data, 0)
    if errors:
        raise ValidationError(errors)


# ---- error bodies: the first problems and a count ---------------------------------------------------

MAX_PROBLEMS = 100


def cap_problems(errors, limit: int = MAX_PROBLEMS) -> tuple[dict | list, int]:
    """(errors with only the first `limit` messages, how many messages there were in all)."""
    total = 0

    def walk(node):
        nonlocal total
        if isinstance(node, dict):
            kept = {}
            for key, value in node.items():
                value = walk(value)
                if value:
                    kept[key] = value
            return kept
        if isinstance(node, (list, tuple)) and all(isinstance(m, str) for m in node):
            kept = [m for i, m in enumerate(node) if total + i < limit]
            total += len(node)
            return kept
        if isinstance(node, (list, tuple)):
            return [walk(item) for item in node]
        total += 1
        return node if total <= limit else None

    return walk(errors), total


# ---- the request line and headers -------------------------------------------------------------------

# Below gunicorn's own limits (gunicorn.conf.py), so the app answers these in its JSON error shape.
MAX_URL_BYTES = 4096
MAX_HEADER_BYTES = 8190
MAX_HEADERS = 100


class UriTooLong(DomainError):
    """The address is longer than MAX_URL_BYTES."""


class HeadersTooLarge(DomainError):
    """A header line, or the number of them, is past MAX_HEADER_BYTES or MAX_HEADERS."""


def refuse_oversized_request() -> None:
    """414 for an address (path and query string) over MAX_URL_BYTES; 431 for a header line over
    MAX_HEADER_BYTES or more than MAX_HEADERS header lines."""
    environ = request.environ
    size = len(environ.get("RAW_URI") or "") or (
        len(request.path.encode("utf-8", "surrogateescape")) + len(request.query_string) + 1)
    if size > MAX_URL_BYTES:
        raise UriTooLong(f"the address is {size} bytes long; at most {MAX_URL_BYTES} are accepted")
    count = 0
    for name, value in request.headers.items():
        count += 1
        if len(name) + 2 + len(value) > MAX_HEADER_BYTES:
            raise HeadersTooLarge(f"the header {name[:64]} is longer than {MAX_HEADER_BYTES} bytes")
    if count > MAX_HEADERS:
        raise HeadersTooLarge(f"the request has {count} header lines; at most {MAX_HEADERS} are accepted")


# ---- dates ----------------------------------------------------------------------------------------

# A day or a time zone away from year 1 or 9999 overflows Python's date; no booking is that far off.
YEARS = (1900, 2199)
YEARS_MESSAGE = f"must be between the years {YEARS[0]} and {YEARS[1]}"


def within_years(value) -> None:
    """Validator for a date or datetime field that must pass YEARS on its own (not through the parser)."""
    if not YEARS[0] <= value.year <= YEARS[1]:
        raise ValidationError(YEARS_MESSAGE)


def _out_of_years(value, schema=None):
    """Errors (marshmallow's shape) for every date or datetime outside YEARS, anywhere in loaded data."""
    if isinstance(value, date):  # datetimes too
        return None if YEARS[0] <= value.year <= YEARS[1] else [YEARS_MESSAGE]
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, (list, tuple)):
        items = enumerate(value)
    else:
        return None
    errors = {}
    for key, item in items:
        found = _out_of_years(item)
        if found:
            field = schema.fields.get(key) if schema is not None and isinstance(key, str) else None
            errors[(field.data_key or key) if field is not None else key] = found
    return errors or None


class BoundedParser(FlaskParser):
    """flask-smorest's argument parser plus the bounds: a JSON body is walked (lists, text, depth)
    before its schema decodes it, and every date and time argument must pass YEARS (a 422)."""

    def _raw_load_json(self, req):
        try:
            return super()._raw_load_json(req)
        except RecursionError:  # deeper than Python's decoder can follow
            raise TooDeep(DEPTH_MESSAGE) from None

    def _process_location_data(self, location_data, schema, req, location, *args, **kwargs):
        if location == "json" and location_data is not missing:
            check_body(schema, location_data, check_text=not _view_checks_own_text())
        data = super()._process_location_data(location_data, schema, req, location, *args, **kwargs)
        errors = _out_of_years(data, None if getattr(schema, "many", False) else schema)
        if errors:
            raise ValidationError(errors)
        return data


# ---- wiring ---------------------------------------------------------------------------------------

def install_converters(app) -> None:
    """Before any blueprint adds its routes: `<int:...>` ids are bounded to int4, dates to YEARS."""
    app.url_map.converters["int"] = IdConverter
    # flask-smorest's documented extension point (a class attribute shared by every Blueprint).
    if not isinstance(flask_smorest.Blueprint.ARGUMENTS_PARSER, BoundedParser):
        flask_smorest.Blueprint.ARGUMENTS_PARSER = BoundedParser()


def init_app(app) -> None:
    """After vmo.http's request id is set (its errors carry it): the request's size, then the path and
    query text check."""
    app.before_request(refuse_oversized_request)
    app.before_request(refuse_unstorable_text)
