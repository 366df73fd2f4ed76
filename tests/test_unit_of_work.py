"""One unit of work (vmo.uow): services only flush; the edge commits once or rolls everything back."""
import ast
import pathlib

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tests.conftest import PASSWORD
from vmo import integrity
from vmo.accounts.models import User
from vmo.errors import Conflict
from vmo.extensions import db
from vmo.offices.models import Office
from vmo.uow import unit_of_work

ROOT = pathlib.Path(__file__).resolve().parent.parent

# The only `.commit()` calls allowed outside vmo/uow.py, each with the reason it must commit on its own,
# whatever the request's outcome: (module, function) -> why.
DELIBERATE_COMMITS = {
    ("vmo/accounts/services.py", "authenticate"):
        "a sign-in that locks the account answers 401 (rolled back), but the lock-out's audit record must stay",
    ("vmo/accounts/signup.py", "at_sign_in"):
        "a sign-in before the code is entered answers 403 (rolled back), but a new code must be kept and sent",
    ("vmo/accounts/signup.py", "verify"):
        "a wrong code answers 422 (rolled back), but the try must count and the ID number's owner be told",
    ("vmo/accounts/signup.py", "confirm_password_reset"):
        "a wrong reset code answers 422 (rolled back), but the try must count",
    ("vmo/priority/services.py", "confirm"):
        "a wrong priority code answers 422 (rolled back), but its try must count: counted and committed first",
    ("vmo/priority/services.py", "_book"):
        "a second booking of one ID number answers 409 (rolled back), but the booking's own phone must be told",
    ("vmo/idempotency/services.py", "claim"):
        "the key is claimed before the write runs, so two retries at once cannot both run it",
    ("vmo/idempotency/services.py", "purge"): "part of the claim's own transaction",
    ("vmo/idempotency/services.py", "_take_over"): "part of the claim's own transaction",
    ("vmo/idempotency/services.py", "release"):
        "a failed request forgets its claim after its work is rolled back, so a retry runs afresh",
    ("vmo/notify/services.py", "_claim"):
        "the outbox lease must be seen by a second sender before this one talks to the gateway",
    ("vmo/notify/services.py", "send_pending"):
        "a message handed to the gateway is recorded as sent before the next one, so a crash never sends twice",
    ("schedules/exams/services.py", "_place"):
        "releases the waiting-list SAVEPOINT only (the soak's deadlock); the request still commits once",
}


def _commits(path: pathlib.Path) -> list[tuple[str, int]]:
    """(enclosing function, line) of every `<anything>.commit()` call in a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []

    def visit(node, function):
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else function
            if (isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute)
                    and child.func.attr == "commit"):
                found.append((function, child.lineno))
            visit(child, name)

    visit(tree, "<module>")
    return found


def test_only_the_unit_of_work_and_the_listed_exceptions_commit():
    seen, unexpected = set(), []
    for package in ("vmo", "schedules", "mobile_api"):
        for path in sorted((ROOT / package).rglob("*.py")):
            module = path.relative_to(ROOT).as_posix()
            if module == "vmo/uow.py" or module.startswith("vmo/migrations/"):
                continue
            for function, line in _commits(path):
                if (module, function) in DELIBERATE_COMMITS:
                    seen.add((module, function))
                else:
                    unexpected.append(f"{module}:{line} in {function}()")
    assert not unexpected, ("services flush; the request's or command's unit of work commits (vmo.uow). "
                            f"Commits outside it: {unexpected}")
    # An entry whose commit is gone leaves the list too, so the list stays the truth.
    assert seen == set(DELIBERATE_COMMITS)


def test_the_lint_sees_a_commit(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f(db):\n    db.session.commit()\n", encoding="utf-8")
    assert _commits(module) == [("f", 2)]


def _staff_count(username: str) -> int:
    return db.session.scalar(select(func.count(User.id)).where(User.username == username))


def test_two_services_in_one_unit_of_work_roll_back_together(app):
    from vmo.accounts import services as accounts
    from vmo import settings
    from vmo.accounts.services import AuthSettings
    from vmo.offices import services as offices

    with app.app_context():
        with pytest.raises(Conflict):
            with unit_of_work():
                office = offices.ensure_office("uow-test", "合川区车管所", "渝H")
                accounts.create_staff(office, "uow-first", PASSWORD, "officer", settings.get(AuthSettings))
                # The second service fails: nothing of the first may remain.
                accounts.create_staff(office, "uow-first", PASSWORD, "officer", settings.get(AuthSettings))
        db.session.remove()
        assert db.session.scalar(select(func.count(Office.id)).where(Office.code == "uow-test")) == 0
        assert _staff_count("uow-first") == 0

        with unit_of_work():
            office = offices.ensure_office("uow-test", "合川区车管所", "渝H")
            accounts.create_staff(office, "uow-second", PASSWORD, "officer", settings.get(AuthSettings))
        db.session.remove()
        assert _staff_count("uow-second") == 1


def test_a_unique_constraint_at_flush_is_the_tables_conflict_and_rolls_back(app):
    with app.app_context():
        with pytest.raises(Conflict) as refused:
            with unit_of_work():
                db.session.add(Office(code="uow-dup", name="甲", plate_prefix="渝G", timezone="Asia/Shanghai"))
                db.session.flush()
                # Past any service's duplicate check: only the unique constraint refuses it.
                db.session.add(Office(code="uow-dup", name="乙", plate_prefix="渝G", timezone="Asia/Shanghai"))
        assert refused.value.message == integrity.CONFLICTS["uq_offices_code"].message
        assert refused.value.fields == {"code": ["already exists"]}
        db.session.remove()
        assert db.session.scalar(select(func.count(Office.id)).where(Office.code == "uow-dup")) == 0


def test_an_integrity_error_outside_the_table_is_not_a_conflict(app):
    with app.app_context():
        with pytest.raises(IntegrityError):
            with unit_of_work():
                db.session.add(Office(code="uow-null", name=None, plate_prefix="渝G", timezone="Asia/Shanghai"))
        db.session.remove()
        assert db.session.scalar(select(func.count(Office.id)).where(Office.code == "uow-null")) == 0



def test_an_idempotent_answer_is_stored_with_its_work_or_not_at_all(app, client, factory, monkeypatch):
    """The work and its stored answer commit together: when that commit fails, neither stays, and
    the retry with the same key runs the work afresh (no replay of an answer whose work is gone)."""
    from vmo.accounts.models import Company
    from vmo.idempotency import services as idempotency
    from vmo.idempotency.models import IdempotencyRecord

    factory.office  # noqa: B018
    body = {"name": "南川区丰昌汽车服务有限公司", "credit_code": "91500119MA5YQ12347", "contact_name": "李明",
            "contact_phone": "13800138000", "username": "co-uow", "password": PASSWORD}
    stored = idempotency.complete

    def complete_then_fail(*args, **kwargs):
        stored(*args, **kwargs)
        raise RuntimeError("the commit of the work and its answer failed")

    monkeypatch.setattr(idempotency, "complete", complete_then_fail)
    failed = client.post("/api/v1/companies", json=body, headers={"Idempotency-Key": "signup-1"})
    assert failed.status_code == 500
    with app.app_context():
        assert db.session.scalar(select(func.count(Company.id))) == 0
        assert db.session.scalar(select(func.count(IdempotencyRecord.id))) == 0

    monkeypatch.setattr(idempotency, "complete", stored)
    retried = client.post("/api/v1/companies", json=body, headers={"Idempotency-Key": "signup-1"})
    assert retried.status_code == 201, retried.get_json()
    assert "Idempotent-Replayed" not in retried.headers
    replayed = client.post("/api/v1/companies", json=body, headers={"Idempotency-Key": "signup-1"})
    assert replayed.headers["Idempotent-Replayed"] == "true" and replayed.get_json() == retried.get_json()
