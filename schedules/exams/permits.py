"""Learner permits: issued by a subject 1 passed here, entered by staff, or imported; and finding candidates.

A permit is keyed by the person's ID number, so an imported record waits for a candidate who has
not signed up yet, and one person's permits over the years stay together.
"""
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, select

from schedules.exams import rules
from schedules.exams.eligibility import current_permit, office_candidate
from schedules.exams.models import LearnerPermit, PermitPass, PermitSource
from vmo import uow
from vmo.accounts.models import LICENSE_CLASSES, Candidate, User
from vmo.audit import services as audit
from vmo.errors import RuleViolation
from vmo.extensions import db


def search_candidates(staff: User, id_number: str | None = None, name: str | None = None) -> Select:
    """The office's candidates, by full ID number (exact) and/or part of the name."""
    stmt = select(Candidate).where(Candidate.office_id == staff.office_id)
    if id_number:
        stmt = stmt.where(Candidate.id_number == id_number.strip().upper())
    if name:
        stmt = stmt.where(Candidate.name.contains(name.strip(), autoescape=True))
    return stmt.order_by(Candidate.name, Candidate.id)


def _snapshot(permit: LearnerPermit | None) -> dict | None:
    if permit is None:
        return None
    return {"license_class": permit.license_class, "issued_on": permit.issued_on,
            "prior_bookings": {"2": permit.prior_bookings_2, "3": permit.prior_bookings_3},
            "passed": [{"subject": p.subject, "passed_on": p.passed_on, "score": p.score} for p in permit.passes]}


@dataclass
class PermitRecord:
    """A permit as staff enter it or a CSV row brings it: the checked, normalised fields."""

    license_class: str
    issued_on: date
    passed: list[dict]
    prior_bookings: dict[int, int]


def check_record(data: dict, today: date) -> tuple[PermitRecord | None, dict]:
    """Check an entered permit; returns (record, errors by field)."""
    errors: dict = {}
    license_class, issued_on = data.get("license_class"), data.get("issued_on")
    if license_class not in LICENSE_CLASSES:
        errors["license_class"] = [f"must be one of {', '.join(LICENSE_CLASSES)}"]
    if issued_on is None:
        errors["issued_on"] = ["required"]
    elif issued_on > today:
        errors["issued_on"] = ["must not be in the future"]
    passed = sorted(data.get("passed") or [], key=lambda p: p["subject"])
    seen = set()
    for index, item in enumerate(data.get("passed") or []):
        problems = []
        if item["subject"] in seen:
            problems.append("subject listed twice")
        seen.add(item["subject"])
        if issued_on is not None and item["passed_on"] > today:
            problems.append("passed_on must not be in the future")
        elif issued_on is not None and item["subject"] == 1 and item["passed_on"] > issued_on:
            problems.append("subject 1 is passed before (or on) the day the permit is issued")
        elif issued_on is not None and item["subject"] != 1 and item["passed_on"] < issued_on:
            problems.append("subjects 2 to 4 are passed under the permit, on or after issued_on")
        if license_class in LICENSE_CLASSES and item["subject"] not in rules.subjects_for(license_class):
            problems.append(f"class {license_class} does not sit subject {item['subject']}")
        score = item.get("score")
        if score is not None and license_class in LICENSE_CLASSES \
                and score < rules.pass_mark(item["subject"], license_class):
            problems.append(f"{score} is below the pass mark of subject {item['subject']} "
                            f"({rules.pass_mark(item['subject'], license_class)})")
        if problems:
            errors.setdefault("passed", {})[str(index)] = problems
    subjects = {p["subject"] for p in passed}
    if license_class in LICENSE_CLASSES:
        for subject in sorted(subjects):
            missing = [n for n in rules.needed_before(subject, license_class) if n not in subjects]
            if missing:
                errors.setdefault("passed", {}).setdefault("_schema", []).append(
                    f"subject {subject} is passed after subject {' and '.join(map(str, missing))}")
    prior = {2: int(data.get("bookings_used", {}).get("2", 0) or 0),
             3: int(data.get("bookings_used", {}).get("3", 0) or 0)}
    for subject, used in prior.items():
        if not 0 <= used <= rules.max_bookings(subject):
            errors.setdefault("bookings_used", {})[str(subject)] = [
                f"must be 0 to {rules.max_bookings(subject)}"]
    if errors:
        return None, errors
    if 1 not in subjects and 1 in rules.subjects_for(license_class):
        # A permit is issued on passing subject 1 (article 41): the pass is implied. A class added
        # without subject 1 (C6) has its permit from the acceptance, and no subject 1 at all.
        passed.insert(0, {"subject": 1, "passed_on": issued_on, "score": None})
    return PermitRecord(license_class, issued_on, passed, prior), {}


def store(record: PermitRecord, *, office_id: int, id_number: str, name: str, source: str, now: datetime
          ) -> tuple[LearnerPermit, bool]:
    """Create or correct the person's permit of that day; returns (permit, changed). Does not commit."""
    permit = db.session.scalar(select(LearnerPermit).where(LearnerPermit.id_number == id_number,
                                                           LearnerPermit.issued_on == record.issued_on))
    before = _snapshot(permit)
    if permit is None:
        latest = current_permit(id_number)
        if latest is not None and latest.issued_on > record.issued_on:
            raise RuleViolation(f"this person already has a later permit (issued {latest.issued_on.isoformat()})",
                                fields={"issued_on": ["older than the person's current permit"]})
        permit = LearnerPermit(office_id=office_id, id_number=id_number, name=name, issued_on=record.issued_on,
                               source=source, created_at=now, prior_bookings_2=0, prior_bookings_3=0)
        db.session.add(permit)
    permit.license_class = record.license_class
    permit.expires_on = rules.permit_expires_on(record.issued_on)
    permit.prior_bookings_2, permit.prior_bookings_3 = record.prior_bookings[2], record.prior_bookings[3]
    wanted = {p["subject"]: p for p in record.passed}
    for existing in list(permit.passes):
        if existing.subject not in wanted and existing.booking_id is None:
            permit.passes.remove(existing)
    have = {p.subject: p for p in permit.passes}
    for subject, item in wanted.items():
        row = have.get(subject)
        if row is None:
            permit.passes.append(PermitPass(subject=subject, passed_on=item["passed_on"], score=item.get("score")))
        elif row.booking_id is None:  # a pass recorded here from an outcome is not overwritten by hand
            row.passed_on, row.score = item["passed_on"], item.get("score")
    changed = before != _snapshot(permit)
    if changed:
        permit.updated_at = now
        db.session.flush()
    return permit, changed


def enter_permit(officer: User, candidate_id: int, data: dict, now: datetime, today: date) -> Candidate:
    """Staff enter or correct a candidate's learner permit (e.g. subject 1 passed at another centre)."""
    candidate = office_candidate(officer, candidate_id)
    record, errors = check_record(data, today)
    if errors:
        raise RuleViolation("the learner permit is not valid", fields=errors)
    before = _snapshot(current_permit(candidate.id_number))
    permit, changed = store(record, office_id=candidate.office_id, id_number=candidate.id_number,
                            name=candidate.name, source=PermitSource.ENTERED, now=now)
    if changed:
        audit.record("learner_permit.enter", "learner_permit", permit.id, actor=officer,
                     before=before, after=_snapshot(permit))
    uow.flush()
    return candidate


def issue_for_subject_1(candidate: Candidate, booking_id: int, passed_on: date, score: int | None,
                        now: datetime) -> LearnerPermit:
    """Article 41: subject 1 passed here issues the learner permit that day. Does not commit."""
    permit = db.session.scalar(select(LearnerPermit).where(LearnerPermit.id_number == candidate.id_number,
                                                           LearnerPermit.issued_on == passed_on))
    if permit is None:
        permit = LearnerPermit(office_id=candidate.office_id, id_number=candidate.id_number, name=candidate.name,
                               license_class=candidate.license_class, issued_on=passed_on,
                               expires_on=rules.permit_expires_on(passed_on), prior_bookings_2=0,
                               prior_bookings_3=0, source=PermitSource.EXAM, created_at=now, updated_at=now)
        db.session.add(permit)
    if not any(p.subject == 1 for p in permit.passes):
        permit.passes.append(PermitPass(subject=1, passed_on=passed_on, score=score, booking_id=booking_id))
    db.session.flush()
    audit.record("learner_permit.issue", "learner_permit", permit.id, office_id=candidate.office_id,
                 after={"id_number": candidate.id_number[:6] + "********" + candidate.id_number[-4:],
                        "issued_on": passed_on, "expires_on": permit.expires_on, "booking_id": booking_id})
    return permit


def add_pass(permit: LearnerPermit, subject: int, booking_id: int, passed_on: date, score: int | None) -> None:
    if not any(p.subject == subject for p in permit.passes):
        permit.passes.append(PermitPass(subject=subject, passed_on=passed_on, score=score, booking_id=booking_id))
        db.session.flush()


def void(permit: LearnerPermit, day: date, reason: str, now: datetime) -> None:
    """Article 47: the fifth failed booking voids what was passed under the permit."""
    permit.voided_on, permit.void_reason, permit.updated_at = day, reason, now
    audit.record("learner_permit.void", "learner_permit", permit.id, office_id=permit.office_id,
                 after={"voided_on": day, "reason": reason})


# ---- `vmo candidates import FILE.csv` ------------------------------------------------------

IMPORT_COLUMNS = ("id_number", "name", "license_class", "permit_issued_on")
OPTIONAL_COLUMNS = tuple(f"subject{n}_{what}" for n in (1, 2, 3, 4) for what in ("passed_on", "score")) + (
    "bookings_used_2", "bookings_used_3")


def _parse_row(row: dict, line: int, today: date) -> tuple[str, str, dict]:
    """(id_number, name, permit fields) from one CSV row, or RuleViolation naming the line and the fields."""
    from vmo.validators import validate_resident_id

    problems: list[str] = []

    def cell(name: str) -> str:
        return (row.get(name) or "").strip()

    def day(name: str) -> date | None:
        if not cell(name):
            return None
        try:
            return date.fromisoformat(cell(name))
        except ValueError:
            problems.append(f"{name} {cell(name)!r} is not a date (YYYY-MM-DD)")
            return None

    def number(name: str) -> int | None:
        if not cell(name):
            return None
        if not cell(name).isdigit() or int(cell(name)) > 100:
            problems.append(f"{name} {cell(name)!r} is not a whole number from 0 to 100")
            return None
        return int(cell(name))

    id_number = cell("id_number").upper()
    try:
        validate_resident_id(id_number, today)
    except (ValueError, TypeError) as exc:
        problems.append(f"id_number: {exc}")
    if not cell("name"):
        problems.append("name is empty")
    data = {"license_class": cell("license_class").upper(), "issued_on": day("permit_issued_on"), "passed": [],
            "bookings_used": {"2": number("bookings_used_2") or 0, "3": number("bookings_used_3") or 0}}
    if data["issued_on"] is None and not any("permit_issued_on" in p for p in problems):
        problems.append("permit_issued_on is empty")
    for subject in (1, 2, 3, 4):
        passed_on, score = day(f"subject{subject}_passed_on"), number(f"subject{subject}_score")
        if passed_on is not None:
            data["passed"].append({"subject": subject, "passed_on": passed_on, "score": score})
    if not problems:
        _, errors = check_record(data, today)
        problems += [f"{field}: {_flatten(messages)}" for field, messages in errors.items()]
    if problems:
        raise RuleViolation(f"line {line}: " + "; ".join(problems))
    return id_number, cell("name"), data


def _flatten(messages) -> str:
    if isinstance(messages, dict):
        return "; ".join(f"{key}: {_flatten(value)}" for key, value in messages.items())
    return ", ".join(messages)


def import_rows(office_id: int, rows: list[dict], now: datetime, today: date, progress=None
                ) -> tuple[dict[str, int], list[str]]:
    """Bring permits in from a CSV's rows (first line: the header). Good rows are kept, bad ones reported.

    Returns (counts of created / updated / unchanged, one error sentence per bad row). Running the
    same file again creates and changes nothing.
    """
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    problems: list[str] = []
    missing = [c for c in IMPORT_COLUMNS if rows and c not in rows[0]]
    if missing:
        raise RuleViolation(f"the file lacks the column(s) {', '.join(missing)}; expected "
                            f"{', '.join(IMPORT_COLUMNS)} and optionally {', '.join(OPTIONAL_COLUMNS)}")
    for line, row in enumerate(rows, start=2):
        try:
            id_number, name, data = _parse_row(row, line, today)
            record, _ = check_record(data, today)
            existed = db.session.scalar(select(LearnerPermit.id).where(
                LearnerPermit.id_number == id_number, LearnerPermit.issued_on == record.issued_on))
            with db.session.begin_nested():
                permit, changed = store(record, office_id=office_id, id_number=id_number, name=name,
                                        source=PermitSource.IMPORT, now=now)
                if changed:
                    audit.record("learner_permit.import", "learner_permit", permit.id, office_id=office_id,
                                 after=_snapshot(permit))
            counts["unchanged" if not changed else "updated" if existed else "created"] += 1
        except RuleViolation as exc:
            message = exc.message if exc.message.startswith("line ") else f"line {line}: {exc.message}"
            problems.append(message)
        if progress is not None:
            progress(1)
    uow.flush()
    return counts, problems
