"""The request path's fixed costs: the OpenAPI document from memory, no ping per request,
one query for the bearer token and its user, and a lost database connection answered 503 then healed."""
import pytest
from sqlalchemy import create_engine, text

from testkit.statements import count_statements
from vmo import pagecache
from vmo.extensions import db


def test_the_openapi_document_is_built_once_and_then_served_from_memory(app, client, monkeypatch):
    first = client.get("/api/v1/openapi.json")
    assert first.status_code == 200
    assert first.get_json()["info"]["title"] == "vmo"

    def rebuilt():
        raise AssertionError("the OpenAPI document was built again")

    monkeypatch.setattr(app.extensions["vmo.api"].spec, "to_dict", rebuilt)
    second = client.get("/api/v1/openapi.json")
    assert second.status_code == 200
    assert second.data == first.data
    assert second.mimetype == "application/json"


def test_a_signed_in_request_costs_one_query_for_the_token_its_user_and_office(app, client, factory):
    headers = factory.headers(factory.staff("officer"))
    client.get("/api/v1/me", headers=headers)  # pools a connection
    with app.app_context():
        engine = db.engine
    with count_statements(engine) as seen:
        response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 200
    assert response.get_json()["role"] == "officer"
    token_queries = [s for s in seen if "tokens" in s]
    assert len(token_queries) == 1
    assert "offices" in token_queries[0] and "users" in token_queries[0]
    assert not any(s.strip().upper().startswith("SELECT 1") for s in seen)


def test_revoked_expired_and_deactivated_tokens_are_refused_by_the_one_query(app, client, factory):
    officer = factory.staff("officer")
    headers = factory.headers(officer)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["message"] == "sign in first: send Authorization: Bearer <token>"


def test_a_lost_database_connection_answers_503_once_and_the_retry_succeeds(app, client, backend, database_url):
    if backend != "postgresql":
        pytest.skip("SQLite has no server to drop the connection")
    assert client.get("/api/v1/offices").status_code == 200  # a pooled connection now exists
    other = create_engine(database_url)
    with other.begin() as conn:  # what a database restart or fail-over does to the app's connections
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    other.dispose()
    pagecache.cache_of(app).clear()  # the list must come from the database, not from the page cache
    lost = client.get("/api/v1/offices")
    assert lost.status_code == 503
    assert lost.headers["Retry-After"] == "1"
    assert lost.get_json()["message"] == "the database is unavailable for a moment; retry the request"
    again = client.get("/api/v1/offices")
    assert again.status_code == 200
