"""The motorcycle register: bulk import (idempotent by plate), due dates and township counts."""
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, case, func, or_, select, update

from vmo import validators
from vmo.accounts.models import User
from vmo.audit import services as audit
from vmo.dbutil import insert_ignoring_conflicts, upsert
from vmo.errors import NotFound, RuleViolation
from vmo.extensions import db
from vmo.motorcycles import notifications as texts
from vmo.motorcycles.models import Motorcycle, MotorcycleStatus
from vmo.notify import services as notify
from vmo.motorcycles.rules import DueRules
from vmo.offices.models import Office
from vmo.plates import registers

# Accepted header names per field: the office's own export uses the Chinese ones.
COLUMNS = {
    "plate": ("plate", "号牌号码", "号牌", "车牌号"),
    "vin": ("vin", "frame_number", "车架号", "车辆识别代号"),
    "engine_number": ("engine_number", "发动机号", "发动机号码"),
    "owner_name": ("owner_name", "owner", "所有人", "车主"),
    "phone": ("phone", "联系电话", "手机号码", "手机"),
    "township": ("township", "乡镇", "乡镇街道", "所在乡镇"),
    "registered_on": ("registered_on", "初次登记日期", "登记日期"),
    "last_inspected_on": ("last_inspected_on", "最近检验日期", "检验日期"),
    # 车辆类型 as the register writes it: 普通正三轮摩托车 is three-wheeled, 普通二轮摩托车 is not.
    "three_wheeled": ("three_wheeled", "车辆类型", "车型"),
}
REQUIRED = ("plate", "owner_name", "township", "registered_on")
_FRAME_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")


@dataclass
class ImportReport:
    """What an import did; `bad_rows` are (row number, message), the header being row 1."""

    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    bad_rows: list[tuple[int, str]] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.inserted + self.updated + self.unchanged


def _header_map(keys: Iterable[str]) -> dict[str, str]:
    """Field name -> the file's column name; a missing required column fails the whole import."""
    present = {(k or "").strip().lstrip("\ufeff").lower(): k for k in keys}
    mapping = {}
    for name, aliases in COLUMNS.items():
        for alias in aliases:
            if alias.lower() in present:
                mapping[name] = present[alias.lower()]
                break
    missing = [name for name in REQUIRED if name not in mapping]
    if missing:
        accepted = "; ".join(f"{name}: {' / '.join(COLUMNS[name])}" for name in missing)
        raise RuleViolation(f"the file has no column for {', '.join(missing)} (accepted headers: {accepted}); "
                            "nothing was imported")
    return mapping


def _parse_date(text: str) -> date:
    value = text.strip().replace("/", "-").replace(".", "-")
    if len(value) == 8 and value.isdigit():
        value = f"{value[:4]}-{value[4:6]}-{value[6:]}"
    try:
        year, month, day = (int(part) for part in value.split("-"))
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _frame_number(text: str) -> str | None:
    value = text.strip().upper()
    if not value:
        return None
    if len(value) == 17:
        return validators.validate_vin(value)
    if not 6 <= len(value) <= 25 or not _FRAME_CHARS.issuperset(value):
        raise ValueError("must be a 17-character VIN or a frame number of 6 to 25 letters and digits")
    return value


def engine_number(text: str) -> str | None:
    """An engine number as stamped (letters, digits and hyphens, 4 to 30), upper case; empty is None."""
    value = text.strip().upper()
    if not value:
        return None
    if not 4 <= len(value) <= 30 or not (_FRAME_CHARS | {"-"}).issuperset(value):
        raise ValueError("must be 4 to 30 letters, digits or hyphens")
    return value


def clean_row(raw: dict, mapping: dict[str, str], today: date) -> tuple[dict, list[str]]:
    """One file row as column values, or the list of what is wrong with it."""
    text = {name: (raw.get(column) or "").strip() for name, column in mapping.items()}
    problems, row = [], {}

    def check(name: str, fn: Callable[[str], object]):
        try:
            row[name] = fn(text.get(name, ""))
        except (ValueError, TypeError) as exc:
            problems.append(f"{name}: {exc}")

    for name in REQUIRED:
        if not text.get(name):
            problems.append(f"{name}: missing")
    if problems:
        return {}, problems
    check("plate", validators.validate_plate)
    check("vin", _frame_number)
    check("engine_number", engine_number)
    check("owner_name", lambda v: v if len(v) <= 120 else _raise("at most 120 characters"))
    check("phone", lambda v: validators.validate_mobile(v) if v else None)
    check("township", lambda v: v if len(v) <= 40 else _raise("at most 40 characters"))
    check("registered_on", _parse_date)
    check("last_inspected_on", lambda v: _parse_date(v) if v else None)
    check("three_wheeled", _three_wheeled)
    registered, last = row.get("registered_on"), row.get("last_inspected_on")
    if registered and registered > today:
        problems.append(f"registered_on: {registered.isoformat()} is in the future")
    if last and last > today:
        problems.append(f"last_inspected_on: {last.isoformat()} is in the future")
    if registered and last and last < registered:
        problems.append("last_inspected_on: before registered_on")
    return row, problems


def _three_wheeled(text: str) -> bool:
    """正三轮 / 三轮 in the vehicle type (or true, 1, 是) is a three-wheeled motorcycle; empty is not."""
    value = text.strip().lower()
    return "三轮" in value or value in ("1", "true", "yes", "是")


def _raise(message: str):
    raise ValueError(message)


def _update_values(excluded, table) -> dict:
    # A later inspection already on record (e.g. from a tour) beats an older date in the file; the
    # due date of such a row is then marked stale and recomputed at the end of the import.
    keep_last = and_(table.c.last_inspected_on.is_not(None),
                     or_(excluded.last_inspected_on.is_(None),
                         table.c.last_inspected_on > excluded.last_inspected_on))
    return {
        "vin": excluded.vin, "engine_number": excluded.engine_number, "owner_name": excluded.owner_name,
        "phone": excluded.phone, "from_walk_in": excluded.from_walk_in,
        "township": excluded.township, "registered_on": excluded.registered_on,
        "last_inspected_on": case((keep_last, table.c.last_inspected_on), else_=excluded.last_inspected_on),
        "next_due_on": case((keep_last, table.c.next_due_on), else_=excluded.next_due_on),
        "three_wheeled": excluded.three_wheeled,
        "scrap_on": case((keep_last, table.c.scrap_on), else_=excluded.scrap_on),
        "due_rules": case((keep_last, ""), else_=excluded.due_rules),
        "updated_at": excluded.updated_at,
    }


def _changed(excluded, table):
    # Only rows of the same office that really change are written, so a re-import reports 0 updated.
    return and_(
        table.c.office_id == excluded.office_id,
        or_(*(table.c[name].is_distinct_from(excluded[name])
              for name in ("vin", "engine_number", "owner_name", "phone", "township", "registered_on",
                           "from_walk_in", "three_wheeled")),
            and_(excluded.last_inspected_on.is_not(None),
                 or_(table.c.last_inspected_on.is_(None), excluded.last_inspected_on > table.c.last_inspected_on)),
            table.c.due_rules != excluded.due_rules),
    )


def import_rows(office: Office, rows: list[dict], *, rules: DueRules, today: date, now: datetime,
                actor: User | None = None, chunk_size: int = 1000,
                progress: Callable[[int], None] | None = None) -> ImportReport:
    """Insert or update motorcycles by plate; bad rows are reported by number and skipped.

    Rows are checked in Python and written with one INSERT ... ON CONFLICT (plate) DO UPDATE per
    chunk, so tens of thousands of rows take seconds. Importing the same file again changes nothing.
    """
    report = ImportReport(rows=len(rows))
    if not rows:
        return report
    mapping = _header_map(rows[0].keys())
    seen: dict[str, int] = {}
    for start in range(0, len(rows), chunk_size):
        good: list[tuple[int, dict]] = []
        for number, raw in enumerate(rows[start:start + chunk_size], start=start + 2):
            row, problems = clean_row(raw, mapping, today)
            if not problems and row["plate"] in seen:
                problems = [f"plate: {row['plate']} already on row {seen[row['plate']]}"]
            if problems:
                report.bad_rows.append((number, "; ".join(problems)))
                continue
            seen[row["plate"]] = number
            good.append((number, row))
        _write_chunk(office, good, rules, now, report)
        if progress is not None:
            progress(min(chunk_size, len(rows) - start))
    refresh_due_dates(rules, office.id)
    # A person's import is always on record; an unattended one (the demo, re-run) only when it changed rows.
    if actor is not None or report.inserted or report.updated:
        audit.record("motorcycles.import", "motorcycle_register", office.code, actor=actor, office_id=office.id,
                     after={"rows": report.rows, "inserted": report.inserted, "updated": report.updated,
                            "unchanged": report.unchanged, "bad_rows": len(report.bad_rows)})
    db.session.flush()
    return report


def _write_chunk(office: Office, good: list[tuple[int, dict]], rules: DueRules, now: datetime,
                 report: ImportReport) -> None:
    if not good:
        return
    owners = dict(db.session.execute(
        select(Motorcycle.plate, Motorcycle.office_id).where(Motorcycle.plate.in_([r["plate"] for _, r in good]))
    ).all())
    values = []
    for number, row in good:
        owner = owners.get(row["plate"])
        if owner is not None and owner != office.id:
            report.bad_rows.append((number, f"plate: {row['plate']} is on another office's register"))
            continue
        values.append({
            "engine_number": None, "three_wheeled": False, **row, "office_id": office.id, "from_walk_in": False,
            "created_at": now, "updated_at": now, **_derived(rules, row),
        })
    existing = sum(1 for v in values if v["plate"] in owners)
    written = upsert(Motorcycle, values, ["plate"], _update_values, where=_changed)
    inserted = len(values) - existing
    report.inserted += inserted
    report.updated += written - inserted
    report.unchanged += existing - (written - inserted)
    report.bad_rows.sort()


def _derived(rules: DueRules, row) -> dict:
    """The stored columns the rules derive from a row's dates (a dict or a result row)."""
    get = row.get if isinstance(row, dict) else (lambda name: getattr(row, name))
    scrap_on, _ = rules.scrap(get("registered_on"), get("last_inspected_on"), bool(get("three_wheeled")))
    return {"next_due_on": rules.next_due(get("registered_on"), get("last_inspected_on")), "scrap_on": scrap_on,
            "due_rules": rules.fingerprint}


def refresh_due_dates(rules: DueRules, office_id: int | None = None, chunk_size: int = 2000) -> int:
    """Recompute due and scrapping dates computed under other rules (or marked stale); does not commit."""
    done = 0
    while True:
        stmt = select(Motorcycle.id, Motorcycle.registered_on, Motorcycle.last_inspected_on,
                      Motorcycle.three_wheeled).where(Motorcycle.due_rules != rules.fingerprint)
        if office_id is not None:
            stmt = stmt.where(Motorcycle.office_id == office_id)
        batch = db.session.execute(stmt.limit(chunk_size)).all()
        if not batch:
            return done
        db.session.execute(update(Motorcycle), [{"id": row.id, **_derived(rules, row)} for row in batch])
        done += len(batch)


def scrap_due(day: date):
    """The condition of a motorcycle due for compulsory scrapping on `day` (never invited nor counted as due)."""
    return and_(Motorcycle.scrap_on.is_not(None), Motorcycle.scrap_on <= day)


def not_scrap_due(day: date):
    return or_(Motorcycle.scrap_on.is_(None), Motorcycle.scrap_on > day)


def township_counts(office_id: int, rules: DueRules, today: date) -> list[dict]:
    """Per township: motorcycles on the register, how many are due soon, how many overdue, and how many
    are due for scrapping instead (counted in neither)."""
    refresh_due_dates(rules, office_id)  # kept by the request's unit of work
    due_by = rules.due_by(today)
    live = not_scrap_due(today)
    overdue = func.sum(case((and_(live, Motorcycle.next_due_on < today), 1), else_=0))
    due = func.sum(case((and_(live, Motorcycle.next_due_on >= today, Motorcycle.next_due_on <= due_by), 1), else_=0))
    scrap = func.sum(case((scrap_due(today), 1), else_=0))
    rows = db.session.execute(
        select(Motorcycle.township, func.count(Motorcycle.id), due, overdue, scrap)
        .where(Motorcycle.office_id == office_id)
        .group_by(Motorcycle.township).order_by(Motorcycle.township)
    ).all()
    return [{"township": t, "motorcycles": n, "due": int(d or 0), "overdue": int(o or 0),
             "due_or_overdue": int(d or 0) + int(o or 0), "scrap_due": int(x or 0)} for t, n, d, o, x in rows]


def get_motorcycle(office_id: int, plate: str) -> Motorcycle:
    try:
        plate = validators.validate_plate(plate)
    except (ValueError, TypeError):
        raise NotFound(f"no motorcycle with plate {plate}") from None
    moto = db.session.scalar(select(Motorcycle).where(Motorcycle.plate == plate, Motorcycle.office_id == office_id))
    if moto is None:
        raise NotFound(f"no motorcycle with plate {plate}")
    return moto


def reveal_phone(office_id: int, case_id: str) -> str | None:
    """The owner's phone of a motorcycle on this office's register (by id or plate), for POST /phones/reveal."""
    if case_id.isascii() and case_id.isdigit():
        phone = db.session.execute(select(Motorcycle.phone).where(Motorcycle.id == int(case_id),
                                                                  Motorcycle.office_id == office_id)).first()
        if phone is None:
            raise NotFound(f"no motorcycle {case_id} on this office's register")
        return phone[0]
    return get_motorcycle(office_id, case_id).phone


def describe(office_id: int, plate: str, rules: DueRules, today: date) -> dict:
    """The motorcycle's record with its due date under the current rules and its status on `today`."""
    moto = get_motorcycle(office_id, plate)
    next_due = rules.next_due(moto.registered_on, moto.last_inspected_on)
    scrap_on, why = rules.scrap(moto.registered_on, moto.last_inspected_on, moto.three_wheeled)
    status = rules.status(next_due, today, scrap_on)
    return {**{name: getattr(moto, name) for name in ("plate", "vin", "engine_number", "owner_name", "phone",
                                                      "township", "registered_on", "last_inspected_on",
                                                      "from_walk_in", "three_wheeled")},
            "next_due_on": next_due, "status": status, "scrap_on": scrap_on,
            "scrap_reason": why if status == MotorcycleStatus.SCRAP_DUE else None}


def due_in_townships(office_id: int, townships: Iterable[str], day: date, rules: DueRules) -> list[Motorcycle]:
    """Motorcycles with a phone in these townships that are due or overdue on `day` (not those due for
    scrapping by then: they are told to deregister instead, `tell_scrap_due`)."""
    refresh_due_dates(rules, office_id)
    return list(db.session.scalars(
        select(Motorcycle).where(Motorcycle.office_id == office_id, Motorcycle.township.in_(list(townships)),
                                 Motorcycle.phone.is_not(None), Motorcycle.next_due_on <= rules.due_by(day),
                                 not_scrap_due(day))
        .order_by(Motorcycle.id)
    ))


def scrap_due_in_townships(office_id: int, townships: Iterable[str], day: date, rules: DueRules) -> list[Motorcycle]:
    """Motorcycles in these townships due for compulsory scrapping on `day`."""
    refresh_due_dates(rules, office_id)
    return list(db.session.scalars(
        select(Motorcycle).where(Motorcycle.office_id == office_id, Motorcycle.township.in_(list(townships)),
                                 scrap_due(day)).order_by(Motorcycle.id)))


def scrap_due_plates(office_id: int, plates: Iterable[str], day: date, rules: DueRules) -> set[str]:
    """Which of these plates are due for compulsory scrapping on `day`."""
    plates = sorted(set(plates))
    if not plates:
        return set()
    refresh_due_dates(rules, office_id)
    return set(db.session.scalars(select(Motorcycle.plate).where(
        Motorcycle.office_id == office_id, Motorcycle.plate.in_(plates), scrap_due(day))))


def tell_scrap_due(office_id: int, townships: Iterable[str], day: date, rules: DueRules,
                   office_phone: str | None) -> int:
    """Text each owner of a motorcycle due for scrapping in these townships, once per motorcycle ever,
    that it is to be deregistered (注销登记) rather than inspected. Returns how many were queued."""
    queued = 0
    for moto in scrap_due_in_townships(office_id, townships, day, rules):
        if not moto.phone:
            continue
        message = notify.queue(office_id, moto.phone,
                               texts.SCRAP_DUE.render(plate=moto.plate, phone=office_phone or "车管所窗口"),
                               kind="motorcycle_scrap_due", key=f"motorcycle_scrap_due:{moto.id}",
                               subject_type="motorcycle", subject_id=moto.id)
        queued += message is not None
    return queued


def record_passes(office_id: int, passes: Iterable[tuple[str, date]], rules: DueRules) -> None:
    """Passed inspections (plate, day) on the register, in bulk: the later date wins. Does not commit.

    Plates not on the office's register are left alone; due dates of the rows moved are recomputed.
    """
    by_day: dict[date, set[str]] = {}
    for plate, day in passes:
        by_day.setdefault(day, set()).add(plate)
    for day, plates in sorted(by_day.items()):
        db.session.execute(
            update(Motorcycle)
            .where(Motorcycle.office_id == office_id, Motorcycle.plate.in_(sorted(plates)),
                   or_(Motorcycle.last_inspected_on.is_(None), Motorcycle.last_inspected_on < day))
            # An empty due_rules marks the due date stale; refresh_due_dates recomputes just those rows.
            .values(last_inspected_on=day, due_rules="").execution_options(synchronize_session=False))
    if by_day:
        refresh_due_dates(rules, office_id)


def on_register(office_id: int, plates: Iterable[str]) -> dict[str, dict]:
    """Plate -> {"vin", "engine_number", "phone"} of the office's register, for the plates on it."""
    plates = sorted(set(plates))
    if not plates:
        return {}
    return {plate: {"vin": vin, "engine_number": engine, "phone": phone}
            for plate, vin, engine, phone in db.session.execute(
                select(Motorcycle.plate, Motorcycle.vin, Motorcycle.engine_number, Motorcycle.phone)
                .where(Motorcycle.office_id == office_id, Motorcycle.plate.in_(plates))).all()}


def add_walk_ins(office_id: int, rows: list[dict], rules: DueRules, now: datetime) -> int:
    """Put motorcycles first seen at a tour stop on the register, flagged, with what the officer entered.

    Each row: plate, township, and optionally vin, engine_number, owner_name, phone. Without a
    registration date they have no due date until the office completes them (an import does).
    A plate already on a register is left alone. Does not commit; returns how many were added.
    """
    values = [{"office_id": office_id, "plate": row["plate"], "vin": row.get("vin"),
               "engine_number": row.get("engine_number"), "owner_name": row.get("owner_name") or "",
               "phone": row.get("phone"), "township": row["township"], "registered_on": None,
               "last_inspected_on": None, "next_due_on": None, "three_wheeled": False, "scrap_on": None,
               "due_rules": rules.fingerprint,
               "from_walk_in": True, "created_at": now, "updated_at": now} for row in rows]
    return insert_ignoring_conflicts(Motorcycle, values, index_elements=["plate"])


def phones(office_id: int, plates: Iterable[str]) -> dict[str, str]:
    """Plate -> the owner's phone on the office's register, for the plates that have one."""
    plates = sorted(set(plates))
    if not plates:
        return {}
    return dict(db.session.execute(select(Motorcycle.plate, Motorcycle.phone).where(
        Motorcycle.office_id == office_id, Motorcycle.plate.in_(plates), Motorcycle.phone.is_not(None))).all())


MOTORCYCLE_REGISTER = "motorcycle_register"


def _on_motorcycle_register(office_id: int, plates) -> set[str]:
    """Plates on a motorcycle register (any office's: the plate column is unique across the deployment)."""
    return set(db.session.scalars(select(Motorcycle.plate).where(Motorcycle.plate.in_(plates))))


registers.provide(MOTORCYCLE_REGISTER, _on_motorcycle_register)
