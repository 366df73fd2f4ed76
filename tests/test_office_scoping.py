"""Checks of the plan in docs/scale.md against the code: PostgreSQL scaled out by office with Citus, the
distribution column `office_id`. Every table carries office_id or says here why it is global, and the
queries behind every list filter an office's rows by it."""
import re

from testkit.statements import count_statements
from tests.test_statement_counts import _fill, _list_operations, _world
from vmo.extensions import db

# Tables without office_id, and why. Under Citus the first kind are reference tables (small, copied
# to every node); the others are distributed by their own key, as nothing joins them to an office's rows.
GLOBAL = {
    "offices": "the distribution key itself: a reference table",
    "tokens": "looked up by the token's hash before the office is known (every request): distributed by token_hash",
    "login_counters": "sign-in failures by a hash of the username, before the office is known (Redis on several nodes)",
    "idempotency_keys": "a caller's replay store keyed by (scope, key), scope naming the user: distributed by scope",
    "photo_blobs": "photo bytes by SHA-256, the same bytes kept once whichever office sent them: distributed by sha256",
    "sms_opt_outs": "a phone number that answered 'stop' is out for every office of the city: a reference table",
    "exam_calendar_feeds": "looked up by the secret in the feed's URL before the office is known: by secret_hash",
    "code_requests": "codes asked for, counted per person and per phone across every office they might ask at: "
                     "distributed by id_key",
}
# Child tables that reach their office through their parent today. Citus needs office_id on them to keep
# them on the parent's node (co-location); the test fails once they carry it, to move them out of here.
CHILDREN_WITHOUT_OFFICE = {
    "tour_officers": "through tours.tour_id",
    "fleet_inspections": "through fleet_vehicles.vehicle_id",
    "learner_permit_passes": "through learner_permits.permit_id",
}


def test_every_table_carries_office_id_or_says_why_it_is_global(app):
    with app.app_context():
        tables = {t.name: t for t in db.metadata.sorted_tables}
    without = {name for name, table in tables.items() if "office_id" not in table.c}
    assert without - set(GLOBAL) - set(CHILDREN_WITHOUT_OFFICE) == set(), "add office_id, or a reason to GLOBAL"
    assert set(GLOBAL) | set(CHILDREN_WITHOUT_OFFICE) <= set(tables), "a table named here no longer exists"
    assert set(CHILDREN_WITHOUT_OFFICE) <= without, "carries office_id now: remove it from CHILDREN_WITHOUT_OFFICE"
    assert set(GLOBAL) <= without


def _unscoped(statement: str, office_tables: set[str]) -> str | None:
    """The office table a SELECT reads without filtering by office, or None.

    Allowed: a filter on office_id; a look-up by primary key (`t.id = ?`) or by a parent's key
    (`t.tour_id IN (...)`) after the parent was read for this office; the bearer token's look-up.
    """
    match = re.match(r"\s*SELECT\b.*?\bFROM\s+(\w+)", statement, re.S)
    if match is None or match.group(1) not in office_tables:
        return None
    table = match.group(1)
    where = statement.split("WHERE", 1)[1] if "WHERE" in statement else ""
    if "office_id" in where or "tokens.token_hash" in where:
        return None
    if re.search(rf"\b{table}\.\w*id (=|IN)", where):
        return None
    return table


def test_the_queries_behind_every_list_filter_by_office(app, client):
    headers = _world(app, client)
    with app.app_context():
        engine = db.engine
        office_tables = {t.name for t in db.metadata.sorted_tables if "office_id" in t.c}
    urls = {path: _fill(path, app) for path in _list_operations(client)}
    unscoped = {}
    for path, url in urls.items():
        for who in ("officer", "admin"):
            with count_statements(engine) as statements:
                response = client.get(f"{url}?page_size=100", headers=headers[who])
            assert response.status_code == 200, (path, response.get_json())
            for statement in statements:
                table = _unscoped(statement, office_tables)
                if table:
                    unscoped.setdefault(path, set()).add(table)
    assert unscoped == {}


def test_the_scoping_rule_itself():
    tables = {"tour_stops", "users", "exam_bookings"}
    assert _unscoped("SELECT tour_stops.id FROM tour_stops ORDER BY tour_stops.id", tables) == "tour_stops"
    assert _unscoped("SELECT tour_stops.id FROM tour_stops WHERE tour_stops.office_id = ?", tables) is None
    assert _unscoped("SELECT users.id FROM users WHERE users.id = ?", tables) is None
    assert _unscoped("SELECT exam_bookings.id FROM exam_bookings WHERE exam_bookings.session_id IN (?, ?)",
                     tables) is None
    assert _unscoped("SELECT exam_bookings.id FROM exam_bookings WHERE exam_bookings.status = ?",
                     tables) == "exam_bookings"
    assert _unscoped("SELECT offices.id FROM offices", tables) is None
