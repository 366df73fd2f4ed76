"""Each app has its own OpenAPI document: building another app, even one that fails, leaves it whole."""
import pytest

from tests.conftest import app_test_config
from vmo import create_app


def _paths(app) -> set[str]:
    return set(app.test_client().get("/api/v1/openapi.json").get_json()["paths"])


def test_an_app_that_fails_to_start_does_not_change_another_apps_document(tmp_path):
    app = create_app(app_test_config(f"sqlite:///{tmp_path / 'a.sqlite3'}"))
    with pytest.raises(ValueError):
        create_app(app_test_config(f"sqlite:///{tmp_path / 'b.sqlite3'}", FLEET_MAX_BATCH=0))
    paths = _paths(app)
    assert {"/api/v1/tours", "/api/v1/test-sessions", "/api/v1/mobile/inspections/sync",
            "/api/v1/fleet/batches"} <= paths


def test_two_apps_have_the_same_document_but_not_the_same_object(tmp_path):
    first = create_app(app_test_config(f"sqlite:///{tmp_path / 'a.sqlite3'}"))
    second = create_app(app_test_config(f"sqlite:///{tmp_path / 'b.sqlite3'}"))
    assert first.extensions["vmo.api"] is not second.extensions["vmo.api"]
    assert _paths(first) == _paths(second)
