"""Whose phone an officer may see in full: staff answers mask phones (138****5678), and an officer who
must call someone asks for one number, for one case, and the audit log records who asked for which.

Each feature that masks phones provides a case type in its `register(app, api)`: a name and a lookup
(office_id, case id) -> the phone, raising NotFound for a case not in that office. This module names no
feature.
"""
from collections.abc import Callable

from vmo.accounts.models import User
from vmo.audit import services as audit
from vmo.errors import field_error
from vmo.redact import mask_phone

Lookup = Callable[[int, str], str | None]
EXTENSION = "vmo.phone_cases"


def provide(app, case_type: str, lookup: Lookup) -> None:
    """Add (or replace) the case type `case_type` to the app's cases whose phone can be revealed."""
    app.extensions.setdefault(EXTENSION, {})[case_type] = lookup


def case_types(app) -> list[str]:
    return sorted(app.extensions.get(EXTENSION, {}))


def reveal(cases: dict[str, Lookup], officer: User, case_type: str, case_id: str) -> dict:
    """The phone of one case of the officer's office, written to the audit log (who, which case)."""
    lookup = cases.get(case_type)
    if lookup is None:
        raise field_error("case", f"type is one of {', '.join(sorted(cases))}")
    phone = lookup(officer.office_id, str(case_id))
    audit.record("phone.reveal", case_type, case_id, actor=officer, after={"phone": mask_phone(phone)})
    return {"case": {"type": case_type, "id": str(case_id)}, "phone": phone}
