"""Hangs the HTTP edge on the app: request ids, the JSON provider, the error answers."""
import re
import uuid

import orjson
from flask import current_app, g, request

from vmo import bounds
from vmo.audit import services as audit
from vmo.http import errors
from vmo.timefmt import OfficeTimeJSONProvider

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


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


def fast_json(answer: dict, status: int = 200):
    """A JSON answer written by orjson, for a hot path that builds its answer as plain values (strings,
    numbers, None, lists, dicts; times already written in office time): the bytes the app's JSON provider
    writes for the same values (UTF-8 as is, compact, a closing newline), several times faster."""
    return current_app.response_class(orjson.dumps(answer) + b"\n", status=status, mimetype="application/json")


def init_app(app) -> None:
    provider = JSONProvider(app)
    provider.sort_keys = app.json.sort_keys
    app.json = provider
    app.before_request(_begin_request)
    app.after_request(_end_request)
    errors.init_app(app)
