"""Submitting a batch from a company's CSV export, with one clear error per bad row."""
from marshmallow import ValidationError
from sqlalchemy import or_, select

from vmo.accounts.models import Company, User
from vmo.errors import DomainError, NotFound, RuleViolation
from vmo.extensions import db
from vmo.fleet import services
from vmo.fleet.papers import PAPER_FIELDS
from vmo.fleet.schemas import VehicleCreateSchema, vin_or_none

COLUMNS = ("vin", "make", "model", "vehicle_type", "fuel_type", "color", "invoice_number", *PAPER_FIELDS)


def find_company(identifier: str) -> Company:
    company = db.session.scalar(
        select(Company).join(User, User.id == Company.user_id)
        .where(or_(Company.name == identifier, Company.credit_code == identifier, User.username == identifier))
    )
    if company is None:
        raise NotFound(f"no company named {identifier!r} (give its name, credit code or username)")
    return company


def import_batch(company_identifier: str, rows: list[dict], note: str | None, progress=None, *,
                 max_vehicles: int):
    """Validate every row first; submit only if all are good. Row numbers count the header as row 1."""
    company = find_company(company_identifier)
    schema = VehicleCreateSchema()
    vehicles, lines = [], []
    for number, row in enumerate(rows, start=2):
        cleaned = {k: (v or "").strip() for k, v in row.items() if k in COLUMNS and (v or "").strip()}
        try:
            vehicles.append(schema.load(cleaned))
        except ValidationError as exc:
            lines.extend(f"row {number}: {field}: {'; '.join(map(str, msgs))}"
                         for field, msgs in sorted(exc.messages.items()))
        if progress:
            progress(1)
    if lines:
        # Also name the rows whose VIN repeats or is already known, so one run lists every bad row.
        problems, _ = services.vin_problems([vin_or_none((row.get("vin") or "")) for row in rows],
                                             company.office_id)
        lines.extend(f"row {index + 2}: {field}: {'; '.join(msgs)}"
                     for index, fields in problems.items() for field, msgs in fields.items())
        lines.sort(key=lambda line: int(line.split(":")[0].split()[1]))
        raise _with_lines(RuleViolation(f"{len(lines)} problem(s) in the file; nothing was submitted"), lines)
    try:
        return services.submit_batch(company, vehicles, note, company.user, max_vehicles)
    except RuleViolation as exc:
        per_index = (exc.fields or {}).get("vehicles", {})
        if isinstance(per_index, dict):
            lines = [f"row {index + 2}: {field}: {'; '.join(msgs)}"
                     for index, fields in per_index.items() for field, msgs in fields.items()]
        raise _with_lines(exc, lines) from None


def _with_lines(exc: DomainError, lines: list[str]) -> DomainError:
    exc.lines = lines
    return exc
