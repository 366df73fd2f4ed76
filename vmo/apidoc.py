"""Edge rules that keep the server within its OpenAPI document: bounded ids, only text a database can
hold, dates within the years the service can compute with."""
import re
from datetime import date

import flask_smorest
from flask import current_app, request
from marshmallow import ValidationError, fields, validate
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
    status = 422


def unstorable_errors(value) -> dict | list | None:
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
    errors = {}
    for key, item in items:
        found = unstorable_errors(key) or unstorable_errors(item)
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
    """Before any view: a NUL in the path is 404 (nothing has such a name); in the query string or the
    JSON body, a 422 naming the field, instead of a database error (500)."""
    if _UNSTORABLE.search(request.path):
        raise NotFound("no such resource: the address contains a NUL character")
    errors = {}
    query = {name: [UNSTORABLE_MESSAGE] for name, value in request.args.items(multi=True)
             if _UNSTORABLE.search(name) or _UNSTORABLE.search(value)}
    if query:
        errors["query"] = query
    if request.is_json and not _view_checks_own_text():
        body = unstorable_errors(request.get_json(silent=True))
        if body:
            errors["json"] = body
    if errors:
        raise UnstorableText("the request has text that cannot be stored: " + UNSTORABLE_MESSAGE, errors=errors)


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
    """flask-smorest's argument parser plus one rule for every date and time argument: YEARS (a 422)."""

    def _process_location_data(self, location_data, schema, *args, **kwargs):
        data = super()._process_location_data(location_data, schema, *args, **kwargs)
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
    """After vmo.http's request id is set (its errors carry it): the text check."""
    app.before_request(refuse_unstorable_text)
