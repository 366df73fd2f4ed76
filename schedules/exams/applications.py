"""Acceptance (受理): the office accepts a person's application for a class before anything scarce.

The checks are those of the counter: the ID number (its birth date gives the age on the acceptance
day), the age limits of the class (article 14 (一), in the text in force that day), a class that a
first licence may be for (article 15) and a medical certificate still valid (six months). Their figures
live in `rules`; this module applies them. Only accepted applications are stored.
"""
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, select

from schedules.exams import rules
from schedules.exams.models import Application, ApplicationSource
from vmo import redact, uow, validators
from vmo.accounts.codes import Acceptance
from vmo.accounts.models import LICENSE_CLASSES, User
from vmo.audit import services as audit
from vmo.clock import zone_named
from vmo.errors import Conflict, RuleViolation, field_error, valid_field
from vmo.extensions import db
from vmo.offices.models import Office

CSV_COLUMNS = ("id_number", "name", "phone", "license_class", "medical_on")
CSV_OPTIONAL = ("school", "accepted_at")


@dataclass(frozen=True)
class Refusal:
    reason: str
    message: str


def refusal(license_class: str, birth_date: date, medical_on: date, accepted_on: date) -> Refusal | None:
    """Why an application for `license_class` cannot be accepted on `accepted_on`, or None."""
    if license_class not in rules.INITIAL_CLASSES:
        return Refusal("class_not_initial", (
            f"class {license_class} cannot be applied for as a first licence (article 15); it is only added to "
            f"a licence held (增驾). First licences: {', '.join(rules.INITIAL_CLASSES)}"))
    text = rules.age_limits(accepted_on)
    limit = text.of(license_class)
    age = validators.age_on(birth_date, accepted_on) if accepted_on >= birth_date else -1
    if limit is not None and (age < limit.low or (limit.high is not None and age > limit.high)):
        span = f"{limit.low} or older" if limit.high is None else f"{limit.low} to {limit.high}"
        return Refusal("age", (f"class {license_class} needs an age of {span} on the day of acceptance "
                               f"({text.source}); the applicant is {max(age, 0)} on {accepted_on.isoformat()}"))
    valid_until = rules.medical_valid_until(medical_on)
    if accepted_on > valid_until:
        return Refusal("medical_expired", (
            f"the medical certificate of {medical_on.isoformat()} was valid until {valid_until.isoformat()} "
            f"(article 85: six months); a new one is needed"))
    return None


def _checked(data: dict, today: date, zone) -> tuple[validators.ResidentId, str, datetime]:
    """The ID number (read), the phone (normalised) and the acceptance time, or a 422 naming the field."""
    rid = valid_field("id_number", validators.validate_resident_id, data["id_number"], today=today)
    phone = valid_field("phone", validators.validate_mobile, data["phone"])
    if data["license_class"] not in LICENSE_CLASSES:
        raise field_error("license_class", f"must be one of {', '.join(LICENSE_CLASSES)}")
    if data["medical_on"] > today:
        raise field_error("medical_on", "must not be in the future")
    accepted_at = data["accepted_at"]
    if accepted_at.astimezone(zone).date() > today:
        raise field_error("accepted_at", "must not be in the future")
    if data["medical_on"] < rid.birth_date:
        raise field_error("medical_on", "is before the birth date in the ID number")
    return rid, phone, accepted_at.replace(microsecond=0)  # to the second, as 12123 ranks it


def accept(office: Office, data: dict, now: datetime, today: date, *, actor: User | None = None,
           source: str = ApplicationSource.COUNTER) -> Application:
    """Accept an application (422 with the reason when a rule refuses it; 409 when one for the class exists)."""
    data = {"accepted_at": now, "school": None, **{k: v for k, v in data.items() if v is not None}}
    zone = zone_named(office.timezone)
    rid, phone, accepted_at = _checked(data, today, zone)
    license_class = data["license_class"]
    refused = refusal(license_class, rid.birth_date, data["medical_on"], accepted_at.astimezone(zone).date())
    if refused is not None:
        raise RuleViolation(refused.message, reason=refused.reason)
    if db.session.scalar(select(Application.id).where(Application.id_number == rid.number,
                                                      Application.license_class == license_class)) is not None:
        raise Conflict(f"an application for class {license_class} is already accepted for this ID number",
                       fields={"license_class": ["already accepted"]}, reason="already_accepted")
    row = Application(office_id=office.id, id_number=rid.number, name=data["name"].strip(), phone=phone,
                      license_class=license_class, birth_date=rid.birth_date, medical_on=data["medical_on"],
                      school=(data["school"] or "").strip() or None, accepted_at=accepted_at,
                      accepted_by_id=getattr(actor, "id", None), source=source, created_at=now)
    db.session.add(row)
    db.session.flush()
    audit.record("application.accept", "application", row.id, actor=actor, office_id=office.id,
                 after={"id_number": redact.mask_id_number(row.id_number), "license_class": license_class,
                        "medical_on": row.medical_on, "accepted_at": accepted_at, "source": source})
    uow.flush()  # a concurrent duplicate is a 409 too (vmo.integrity)
    return row


def search(staff: User, id_number: str | None = None) -> Select:
    """The office's accepted applications, newest first; by full ID number (exact) if given."""
    stmt = select(Application).where(Application.office_id == staff.office_id)
    if id_number:
        stmt = stmt.where(Application.id_number == id_number.strip().upper())
    return stmt.order_by(Application.accepted_at.desc(), Application.id.desc())


def acceptance(office_id: int, id_number: str) -> Acceptance | None:
    """What the office recorded when it last accepted the person's application (vmo's candidate sign-up asks
    through vmo.hooks.CANDIDATE_ACCEPTANCE: the code goes to this phone), or None."""
    row = db.session.scalar(select(Application).where(Application.office_id == office_id,
                                                      Application.id_number == id_number)
                            .order_by(Application.accepted_at.desc(), Application.id.desc()).limit(1))
    return Acceptance(row.name, row.phone, row.license_class) if row is not None else None


# ---- the driving school's export ---------------------------------------------------------------

def _row_data(row: dict, zone) -> dict:
    """A CSV row as `accept` takes it; ValueError names the column that is wrong."""
    def text(column):
        return (row.get(column) or "").strip()

    missing = [c for c in CSV_COLUMNS if not text(c)]
    if missing:
        raise ValueError(f"{', '.join(missing)}: required")
    try:
        medical_on = date.fromisoformat(text("medical_on"))
    except ValueError:
        raise ValueError(f"medical_on: {text('medical_on')!r} is not a date (YYYY-MM-DD)") from None
    accepted_at = None
    if text("accepted_at"):
        try:
            accepted_at = datetime.fromisoformat(text("accepted_at"))
        except ValueError:
            raise ValueError(f"accepted_at: {text('accepted_at')!r} is not a date-time "
                             "(YYYY-MM-DD HH:MM:SS, office time unless it has an offset)") from None
        if accepted_at.tzinfo is None:
            accepted_at = accepted_at.replace(tzinfo=zone)
    return {"id_number": text("id_number"), "name": text("name"), "phone": text("phone"),
            "license_class": text("license_class").upper(), "medical_on": medical_on,
            "school": text("school") or None, "accepted_at": accepted_at}


def _sentence(exc: Exception) -> str:
    if isinstance(exc, (RuleViolation, Conflict)):
        if exc.fields:
            return "; ".join(f"{name}: {' '.join(messages)}" for name, messages in exc.fields.items())
        return f"{exc.reason}: {exc.message}" if exc.reason else exc.message
    return str(exc)


def import_rows(office: Office, rows: list[dict], now: datetime, today: date, progress=None
                ) -> tuple[dict[str, int], list[str]]:
    """Accept the rows of a school's export (first line: the header). Good rows are kept, bad ones
    named by line; a row whose ID number and class are already accepted is left as it is, so running
    the same file again changes nothing. Returns ({"accepted", "unchanged"}, one sentence per bad row)."""
    missing = [c for c in CSV_COLUMNS if rows and c not in rows[0]]
    if missing:
        raise RuleViolation(f"the file lacks the column(s) {', '.join(missing)}; expected "
                            f"{', '.join(CSV_COLUMNS)} and optionally {', '.join(CSV_OPTIONAL)}")
    zone = zone_named(office.timezone)
    counts = {"accepted": 0, "unchanged": 0}
    problems: list[str] = []
    for line, row in enumerate(rows, start=2):
        try:
            data = _row_data(row, zone)
            try:
                number = validators.validate_resident_id(data["id_number"], today=today).number
            except ValueError as exc:
                raise ValueError(f"id_number: {exc}") from None
            if db.session.scalar(select(Application.id).where(
                    Application.id_number == number, Application.license_class == data["license_class"])):
                counts["unchanged"] += 1
            else:
                with db.session.begin_nested():
                    accept(office, data, now, today, source=ApplicationSource.IMPORT)
                counts["accepted"] += 1
        except (ValueError, RuleViolation, Conflict) as exc:
            problems.append(f"line {line}: {_sentence(exc)}")
        if progress is not None:
            progress(1)
    uow.flush()
    return counts, problems

