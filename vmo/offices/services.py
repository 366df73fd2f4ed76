"""Finding and creating offices."""
from sqlalchemy import select

from vmo.errors import NotFound, RuleViolation
from vmo.extensions import db
from vmo.offices.models import Office
from vmo.validators import validate_plate_prefix


def get_office(code: str) -> Office:
    office = db.session.scalar(select(Office).where(Office.code == code))
    if office is None:
        raise NotFound(f"no office {code!r}")
    return office


def list_offices() -> list[Office]:
    return list(db.session.scalars(select(Office).order_by(Office.code)))


def ensure_office(code: str, name: str, plate_prefix: str, timezone: str = "Asia/Shanghai", **extra) -> Office:
    """Create the office if it does not exist yet (for the CLI and the demo); returns it."""
    office = db.session.scalar(select(Office).where(Office.code == code))
    if office is not None:
        return office
    try:
        plate_prefix = validate_plate_prefix(plate_prefix)
    except ValueError as exc:
        raise RuleViolation(str(exc), fields={"plate_prefix": [str(exc)]}) from None
    office = Office(code=code, name=name, plate_prefix=plate_prefix, timezone=timezone, **extra)
    db.session.add(office)
    db.session.flush()
    return office
