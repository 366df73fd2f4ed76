"""What import-linter cannot check: domain code stays free of HTTP and of the app config.

Which package and module may import which (vmo <- schedules <- mobile_api, the layers inside a feature,
features independent but for the shared core) is in setup.cfg's [importlinter] contracts, run by
`lint-imports` (make test, make lint); the tests at the end check that those contracts hold and bite.
"""
import ast
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


def imported_modules(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def python_files(package: str):
    return sorted((ROOT / package).rglob("*.py"))


# What makes a module part of the HTTP layer is what it does, not its file name: it serves routes
# (a Blueprint or a MethodView), hooks into the request cycle of the app, or builds the app and hangs
# blueprints on it. Every other module is domain code (models, services, rules, reports, draws,
# command lines, ...), whatever it is called: a package's __init__.py or a cli.py included.
_HTTP_LAYER_MARKS = ("Blueprint(", "MethodView", ".before_request(", ".after_request(",
                     ".register_error_handler(", ".wsgi_app", "Limiter(", "(Api)", ".register_blueprint(",
                     "Flask(")
_HTTP_IMPORTS = ("flask_smorest", "werkzeug")
_REQUEST_STATE = ("flask.request", "flask.g", "flask.session", "flask.abort", "flask.make_response",
                  "flask.Response", "flask.url_for", "flask.jsonify", "flask.send_file")


# The package of the HTTP edge shared by every feature (auth, errors, idempotency, paging, ...).
_HTTP_PACKAGE = ROOT / "vmo" / "http"


def is_http_layer(path: pathlib.Path) -> bool:
    if _HTTP_PACKAGE in path.parents:
        return True
    source = path.read_text(encoding="utf-8")
    return any(mark in source for mark in _HTTP_LAYER_MARKS)


def domain_modules(package: str) -> list[pathlib.Path]:
    return [p for p in python_files(package) if "migrations" not in p.parts and not is_http_layer(p)]


@pytest.mark.parametrize("package", ["vmo", "schedules", "mobile_api"])
def test_domain_modules_know_nothing_of_http(package):
    bad = []
    for path in domain_modules(package):
        for name in imported_modules(path):
            if name.startswith(_HTTP_IMPORTS) or name in _REQUEST_STATE:
                bad.append(f"{path.relative_to(ROOT)} imports {name}")
    assert bad == []


def test_the_domain_check_covers_modules_of_every_name():
    """Rules live in ballot, eligibility, registrations, reports, ...: each must be checked."""
    checked = {str(p.relative_to(ROOT)) for pkg in ("vmo", "schedules", "mobile_api") for p in domain_modules(pkg)}
    named_by_kind = {p for p in checked if pathlib.Path(p).stem in ("models", "services", "schemas")}
    assert len(checked - named_by_kind) > 20, sorted(checked - named_by_kind)
    for path in ("schedules/exams/draw.py", "schedules/tours/routing.py", "vmo/validators.py", "vmo/booking/services.py",
                 # Named like app wiring, but command lines and packages that wire nothing: domain code.
                 "vmo/cli.py", "mobile_api/cli.py", "vmo/motorcycles/cli.py", "vmo/motorcycles/__init__.py",
                 "schedules/tours/__init__.py", "vmo/wsgi.py"):
        assert path in checked


def test_resources_are_recognised_as_http():
    resources = [p for pkg in ("vmo", "schedules", "mobile_api") for p in python_files(pkg)
                 if p.stem == "resources" and ".route(" in p.read_text(encoding="utf-8")]
    assert resources and all(is_http_layer(p) for p in resources)


# Modules outside the HTTP layer that may read the app config, and why: only the test clock, which tests
# and demos move while the app runs (it is no setting: read at each call, never at start). Every setting
# is a dataclass of vmo.settings, read once at start.
_READS_CONFIG = {
    "vmo/clock.py": "infrastructure: the clock adapter (FROZEN_NOW)",
}
# Modules outside the HTTP layer that fetch the app's settings themselves, and why. Everything else gets
# its settings as an argument (read by resources and commands).
_FETCHES_SETTINGS = {
    "vmo/clock.py": "infrastructure: the deployment's zone (TIMEZONE) for office days",
    "vmo/notify/texts.py": "infrastructure: the signature the outbox puts in front of every text (SMS_SIGNATURE)",
    "vmo/notify/quiet.py": "infrastructure: the quiet night hours the outbox holds every text to (SMS_QUIET_*)",
    "vmo/offices/settings.py": "the default office's code, for the resources and commands that fall back on it",
}


def _is_edge(path: pathlib.Path) -> bool:
    """Commands and the demo (like resources, they read settings and pass them on) and schemas (the wire,
    dumped inside a request)."""
    return path.name in ("cli.py", "demo.py", "schemas.py") or path.name.endswith("_cli.py")


_READS_APP_CONFIG = re.compile(r"current_app\s*\.\s*config")
_READS_SETTINGS = re.compile(r"\bsettings\.get\(")


def test_no_service_reads_the_app_config_or_fetches_its_settings():
    bad = []
    for package in ("vmo", "schedules", "mobile_api"):
        for path in domain_modules(package):
            rel = str(path.relative_to(ROOT))
            source = path.read_text(encoding="utf-8")
            if _READS_APP_CONFIG.search(source) and rel not in _READS_CONFIG and not path.name.endswith("cli.py"):
                bad.append(f"{rel} reads current_app.config")
            if _READS_SETTINGS.search(source) and not _is_edge(path) and rel not in _FETCHES_SETTINGS:
                bad.append(f"{rel} fetches its settings instead of taking them as an argument")
    assert bad == []
    # The allow-lists do not outlive their modules, nor what made them necessary.
    assert all(_READS_APP_CONFIG.search((ROOT / rel).read_text(encoding="utf-8")) for rel in _READS_CONFIG)
    assert all(_READS_SETTINGS.search((ROOT / rel).read_text(encoding="utf-8")) for rel in _FETCHES_SETTINGS)


def test_the_app_config_is_read_only_at_the_edge_the_factory_and_the_settings_reader():
    """Every setting is a dataclass read once at start: `current_app.config` appears only in the HTTP layer,
    the app factory, vmo.settings itself and the test clock."""
    readers = sorted(str(path.relative_to(ROOT)) for package in ("vmo", "schedules", "mobile_api")
                     for path in python_files(package)
                     if re.search(r"current_app\s*\.\s*config", path.read_text(encoding="utf-8")))
    allowed = {"vmo/__init__.py", "vmo/settings.py", *_READS_CONFIG}
    assert [rel for rel in readers if rel not in allowed and not is_http_layer(ROOT / rel)] == []


def test_the_config_check_sees_a_service_that_reads_the_config():
    source = "from flask import current_app\n\ndef f():\n    return current_app.config['FLEET_MAX_BATCH']\n"
    assert _READS_APP_CONFIG.search(source) and not _READS_SETTINGS.search(source)
    assert _READS_SETTINGS.search("limit = settings.get(FleetSettings).max_batch")


# ---- the import contracts (setup.cfg [importlinter]) ----------------------------------------------

def lint_imports(root: pathlib.Path) -> subprocess.CompletedProcess:
    lint = pathlib.Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(lint), "--config", str(root / "setup.cfg"), "--no-cache"], cwd=root,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
                          timeout=300)


def test_the_import_contracts_hold():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert re.search(r"Contracts: [1-9]\d* kept, 0 broken\.", result.stdout), result.stdout[-3000:]


def test_the_import_contracts_catch_each_kind_of_violation(tmp_path):
    """One forbidden import per contract, in a copy of the code: every contract must break (a new
    contract needs its own violation here)."""
    for name in ("vmo", "schedules", "mobile_api", "setup.cfg"):
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, tmp_path / name)
    added = {
        "vmo/offices/services.py": "from vmo.stats import services as _stats\n",  # core -> feature
        "vmo/motorcycles/models.py": "from vmo.fleet import models as _fleet\n",  # feature -> feature
        "vmo/fleet/services.py": "from vmo.fleet import resources as _edge\n",  # service -> its resources
        "vmo/validators.py": "import schedules.tours.routing as _routing\n",  # vmo -> schedules
    }
    for rel, line in added.items():
        with open(tmp_path / rel, "a", encoding="utf-8") as handle:
            handle.write(line)
    result = lint_imports(tmp_path)
    assert result.returncode == 1 and "Contracts: 0 kept, 4 broken." in result.stdout, result.stdout[-3000:]
    for expected in ("vmo.offices.services -> vmo.stats.services", "vmo.motorcycles.models -> vmo.fleet.models",
                     "vmo.fleet.services -> vmo.fleet.resources", "vmo.validators -> schedules.tours.routing"):
        assert expected in result.stdout
