"""The extension points features fill at start, created in one place: demo steps, statistics
providers, SMS reply handlers, case look-ups and acceptance look-ups (vmo calls them; the packages that add
them may be ones vmo never imports)."""
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app

DEMO_STEPS = "vmo.demo_steps"  # step(office) -> list of lines, run by `vmo demo` after vmo's own data
STATS_PROVIDERS = "vmo.stats_providers"  # provider(office_id, start, end) -> dict merged into GET /stats
# handler(phone, text, now) -> bool, tried on each inbound text before the follow-up matching, e.g.
# schedules' `取消 <code>` (vmo.followup).
SMS_REPLY_HANDLERS = "vmo.sms_reply_handlers"
# lookup(office_id, id_number) -> vmo.accounts.codes.Acceptance | None: whether the office accepted (受理)
# the person's application, and the phone it recorded then, e.g. schedules' exams. A candidate account
# opens only for an accepted ID number, with a code texted to that phone.
CANDIDATE_ACCEPTANCE = "vmo.candidate_acceptance"
ALL = (DEMO_STEPS, STATS_PROVIDERS, SMS_REPLY_HANDLERS, CANDIDATE_ACCEPTANCE)
# Case type -> lookup(case_id) -> Case | None, filled by the feature that owns the case (the fleet its
# batches, tours their inspections), so another feature (mailings) can act on a case it never imports.
CASES = "vmo.cases"


@dataclass(frozen=True)
class Case:
    """A case as the feature that owns it describes it to others."""

    type: str
    id: int
    office_id: int
    finished: bool  # its business is done (a batch completed, an inspection passed): its papers may go out
    owner_user_id: int | None = None  # the account that acts for it (a company's), if any
    label: str = ""  # how staff name it, e.g. "车队批次 12"


def init_app(app) -> None:
    for key in ALL:
        app.extensions[key] = []
    app.extensions[CASES] = {}


def add(app, key: str, *functions) -> None:
    """Add to one of the lists in ALL (create_app made them before any feature registers)."""
    app.extensions[key].extend(functions)


def registered(key: str) -> list:
    return current_app.extensions[key]


def add_case(app, case_type: str, lookup: Callable[[int], Case | None]) -> None:
    """Say how to look up cases of this type (one feature owns each type)."""
    cases = app.extensions[CASES]
    if case_type in cases:
        raise ValueError(f"case type {case_type!r} is looked up twice")
    cases[case_type] = lookup


def case_types() -> list[str]:
    return sorted(current_app.extensions[CASES])


def find_case(case_type: str, case_id: int) -> Case | None:
    """The case, if its type is known and it exists (in any office: the caller checks the office)."""
    lookup = current_app.extensions[CASES].get(case_type)
    return lookup(case_id) if lookup is not None else None
