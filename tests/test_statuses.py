"""Domain code names statuses and roles by their StrEnum members, never by string literals: a typo in
a literal is a silent bug, a typo in a member name fails at import.

Every status-like column (and `User.role`) has a `StrEnum` next to its model holding the stored values.
This reads the domain packages' source (not tests, which check the wire, and not migrations, which are
history) and flags a string literal equal to one of those values wherever it is compared with, assigned
to, filtered on or written into a status or a role: `x.status == "booked"`, `status="booked"`
(constructors, `filter_by`, `.values()`), `x.status in ("a", "b")`, `X.status.in_(...)`,
`{"status": "booked"}`, a column's `default="booked"`, `user.role == "officer"` and the roles an
endpoint allows, `@auth(blp, "officer")`.
"""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("vmo", "schedules", "mobile_api")


def _is_status_name(name: str) -> bool:
    return name in ("status", "outcome", "answer", "role") or name.endswith("_status")


def _is_status(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute):
        return _is_status_name(node.attr)
    if isinstance(node, ast.Name):
        return _is_status_name(node.id)
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        return isinstance(node.slice.value, str) and _is_status_name(node.slice.value)
    return False


def _literals(node: ast.AST | None) -> list[str]:
    """The string constants `node` is, or holds as a tuple, list or set (also in an if-else)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [value for element in node.elts for value in _literals(element)]
    if isinstance(node, ast.IfExp):
        return _literals(node.body) + _literals(node.orelse)
    return []


def status_literals(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, literal) for every string literal put in a status position in `tree`."""
    found = []
    for node in ast.walk(tree):
        values: list[str] = []
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(_is_status(side) for side in sides):
                values = [value for side in sides for value in _literals(side)]
        elif isinstance(node, ast.keyword) and node.arg and _is_status_name(node.arg):
            values = _literals(node.value)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in ("in_", "not_in", "notin_") and _is_status(node.func.value):
                values = [value for arg in node.args for value in _literals(arg)]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "auth":
            values = [value for arg in node.args for value in _literals(arg)]  # @auth(blp, Role.OFFICER)
        elif isinstance(node, ast.Dict):
            values = [value for key, item in zip(node.keys, node.values)
                      if isinstance(key, ast.Constant) and isinstance(key.value, str) and _is_status_name(key.value)
                      for value in _literals(item)]
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                    values += [value for element, item in zip(target.elts, node.value.elts)
                               if _is_status(element) for value in _literals(item)]
                elif _is_status(target):
                    values += _literals(node.value)
                    if isinstance(node.value, ast.Call):  # a column: status = mapped_column(..., default="x")
                        values += [value for keyword in node.value.keywords
                                   if keyword.arg in ("default", "server_default")
                                   for value in _literals(keyword.value)]
        found += [(node.lineno, value) for value in values]
    return found


def _domain_files() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py")
                  if "migrations" not in path.relative_to(ROOT).parts)


def _trees() -> dict[Path, ast.AST]:
    return {path: ast.parse(path.read_text(encoding="utf-8"), str(path)) for path in _domain_files()}


def enum_values(trees) -> dict[str, str]:
    """Each value of the domain's StrEnums, with the enum that holds it (the first, when several do)."""
    values = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and any(isinstance(b, ast.Name) and b.id == "StrEnum"
                                                      for b in node.bases):
                for item in node.body:
                    if isinstance(item, ast.Assign) and isinstance(item.value, ast.Constant):
                        values.setdefault(item.value.value, f"{node.name}.{item.targets[0].id}")
    return values


def test_every_status_column_has_its_enum():
    trees = _trees().values()
    known = enum_values(trees)
    # The stored values of the columns named in the issue: each one is an enum member somewhere.
    for value in ("submitted", "in_progress", "failed_inspection", "booked", "requested", "granted", "declined",
                  "pending", "sent", "opted_out", "unmatched", "handled", "open", "resolved", "still_dissatisfied",
                  "applied", "confirmed", "waitlisted", "no_show", "draft", "published", "registered",
                  "inspected", "created", "duplicate", "conflict", "rejected", "new_energy_large",
                  "admin", "supervisor", "officer", "company", "candidate"):
        assert value in known, value


def test_domain_code_uses_status_members_not_literals():
    trees = _trees()
    known = enum_values(trees.values())
    problems = [f"{path.relative_to(ROOT)}:{line}: {value!r} (use {known[value]})"
                for path, tree in trees.items() for line, value in status_literals(tree) if value in known]
    assert problems == []


def test_the_check_finds_each_pattern():
    source = '''
if batch.status == "submitted": pass
if vehicle.status not in ("scheduled", "failed_inspection"): pass
FleetBatch(status="completed")
query.filter_by(status="booked")
stmt.where(Tour.status.in_(["draft", "published"]))
escalation.status = "open"
tour.status, tour.cancelled_at = "cancelled", now
audit(before={"status": "inspected"})
class Row:
    status = mapped_column(String(16), default="pending")
kind = "ordinary" if x else "new_energy"
if user.role not in ("supervisor", "admin"): pass
@auth(blp, "company", *STAFF)
def get(): pass
audit.record("company.signup", "company", company.id)
'''
    assert sorted(value for _, value in status_literals(ast.parse(source))) == sorted([
        "submitted", "scheduled", "failed_inspection", "completed", "booked", "draft", "published", "open",
        "cancelled", "inspected", "pending", "supervisor", "admin", "company"])
