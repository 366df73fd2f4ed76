"""The package layering holds: vmo <- schedules <- mobile_api, and domain code stays free of HTTP."""
import ast
import pathlib

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


def _offending(package: str, forbidden: tuple[str, ...], allow: tuple[str, ...] = ()) -> list[str]:
    bad = []
    for path in python_files(package):
        rel = str(path.relative_to(ROOT))
        if rel in allow:
            continue
        for name in imported_modules(path):
            if name.split(".")[0] in forbidden or name in forbidden:
                bad.append(f"{rel} imports {name}")
    return bad


def test_vmo_never_imports_the_feature_packages_except_in_the_app_factory():
    assert _offending("vmo", ("schedules", "mobile_api"), allow=("vmo/__init__.py",)) == []


def test_schedules_never_imports_mobile_api():
    assert _offending("schedules", ("mobile_api",)) == []


@pytest.mark.parametrize("package", ["vmo", "schedules", "mobile_api"])
def test_models_and_services_know_nothing_of_http(package):
    bad = []
    for path in python_files(package):
        if path.stem not in ("models", "services") and path.parent.name not in ("services",):
            continue
        for name in imported_modules(path):
            if name.startswith(("flask_smorest", "flask.request", "werkzeug")) or name in ("flask.request", "flask.g"):
                bad.append(f"{path.relative_to(ROOT)} imports {name}")
    assert bad == []
