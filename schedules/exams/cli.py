"""Driving-test commands: `vmo draw`, `vmo exams outcomes FILE.csv --session N`, `vmo candidates import FILE.csv`,
`vmo applications import FILE.csv`."""
import csv

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from schedules.exams import applications as acceptance, ballot, outcomes, permits
from schedules.exams.settings import ExamSettings
from vmo import clock, settings, uow
from vmo.accounts.models import Role
from vmo.errors import DomainError
from vmo.offices.settings import default_office_code


@click.command("draw")
@click.argument("session_id", type=int)
@with_appcontext
@uow.command
def draw(session_id):
    """Draw the ballot of SESSION_ID once its applications have closed (safe to run again)."""
    try:
        record, created = ballot.run_draw(session_id, settings.get(ExamSettings), clock.now(), _secret())
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    result = record.record
    click.echo(f"session {session_id}: {'drawn now' if created else 'already drawn'} at "
               f"{record.drawn_at.isoformat()}")
    click.echo(f"seed {record.seed}")
    click.echo(f"{len(result['applicants'])} applicants for {result['capacity']} seats: "
               f"{len(result['winners'])} confirmed, {len(result['waitlist'])} waitlisted")
    click.echo("winners (booking ids): " + (" ".join(map(str, result["winners"])) or "-"))
    click.echo("waiting list in order: " + (" ".join(map(str, result["waitlist"])) or "-"))


@click.group("exams")
def exams():
    """Driving tests."""


def _staff(username: str | None, session_id: int):
    from schedules.exams.models import ExamSession
    from vmo.accounts.models import User
    from vmo.extensions import db

    if username:
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None or user.role not in (Role.ADMIN, Role.SUPERVISOR, Role.OFFICER):
            raise click.ClickException(f"no staff account {username!r}")
        return user
    session = db.session.get(ExamSession, session_id)
    if session is None or session.created_by_id is None:
        raise click.ClickException(f"no test session {session_id}; or name the officer with --officer")
    return db.session.get(User, session.created_by_id)


def _int_or_none(value: str | None):
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise ValueError(f"{value!r} is not a whole number")
    return int(value)


@exams.command("outcomes")
@click.argument("csv_file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--session", "session_id", type=int, required=True, help="The test session the results are for")
@click.option("--officer", default=None, help="Who records them (default: the officer who opened the session)")
@with_appcontext
@uow.command
def exam_outcomes(csv_file, session_id, officer):
    """Record a session's results from the exam system's export (columns: booking_id, outcome, score, retake_score).

    All or nothing: one bad row and nothing is recorded; each bad row is named by its line.
    """
    reader = csv.DictReader(csv_file)
    results, bad = [], []
    for line, row in enumerate(reader, start=2):
        try:
            results.append({"booking_id": int((row.get("booking_id") or "").strip()),
                            "outcome": (row.get("outcome") or "").strip(),
                            "score": _int_or_none(row.get("score")),
                            "retake_score": _int_or_none(row.get("retake_score"))})
        except ValueError as exc:
            bad.append(f"line {line}: {exc}")
    if bad:
        for message in bad:
            click.echo(message, err=True)
        raise click.ClickException(f"{len(bad)} bad rows; nothing was recorded")
    user = _staff(officer, session_id)
    try:
        answer = outcomes.record_session(user, session_id, results, clock.now(), clock.local_today())
    except DomainError as exc:
        for index, fields in sorted(((exc.fields or {}).get("results", {})).items(),
                                    key=lambda item: int(item[0])):
            messages = "; ".join(m for ms in fields.values() for m in ms)
            click.echo(f"line {int(index) + 2}: {messages}", err=True)
        raise click.ClickException(exc.message) from None
    recorded = sum(r.changed for r in answer)
    click.echo(f"session {session_id}: {recorded} results recorded, {len(answer) - recorded} already recorded")


@click.group("candidates")
def candidates():
    """Candidates' learner permits."""


@candidates.command("import")
@click.argument("csv_file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--office", "office_code", default=None, help="Office code (default: the default office)")
@with_appcontext
def candidates_import(csv_file, office_code):
    """Bring learner permits in (id_number, name, license_class, permit_issued_on, subjectN_passed_on, ...).

    Good rows are kept and bad ones named by line; running the same file again changes nothing.
    """
    if _import_permits(csv_file, office_code):
        raise SystemExit(1)  # some rows were refused: said after the good ones are committed


def _import(csv_file, office_code, label: str, run) -> tuple[dict, list[str]]:
    """Read the file and run `run(office, rows, now, today, progress)` under a progress bar; the refused
    rows' sentences are printed. Shared by the imports, whose unit of work is the caller's."""
    from vmo.offices.services import get_office

    try:
        office = get_office(office_code or default_office_code())
        rows = list(csv.DictReader(csv_file))
        with click.progressbar(length=len(rows), label=label) as bar:
            counts, problems = run(office, rows, clock.now(), clock.local_today(office.timezone), bar.update)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    for message in problems:
        click.echo(message, err=True)
    return counts, problems


@uow.command
def _import_permits(csv_file, office_code) -> list[str]:
    """The import as one unit of work; returns the refused rows' sentences (also printed)."""
    counts, problems = _import(csv_file, office_code, "importing permits",
                               lambda office, *args: permits.import_rows(office.id, *args))
    click.echo(f"{counts['created']} created, {counts['updated']} updated, {counts['unchanged']} unchanged, "
               f"{len(problems)} refused")
    return problems


@click.group("applications")
def applications():
    """Accepted applications (受理) for a driving licence."""


@applications.command("import")
@click.argument("csv_file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--office", "office_code", default=None, help="Office code (default: the default office)")
@with_appcontext
def applications_import(csv_file, office_code):
    """Accept a driving school's submissions (id_number, name, phone, license_class, medical_on, school?, accepted_at?).

    Each row passes the counter's checks (age for the class, medical certificate, first-licence class);
    good rows are accepted, bad ones named by line; running the same file again changes nothing.
    """
    if _import_applications(csv_file, office_code):
        raise SystemExit(1)  # some rows were refused: said after the good ones are committed


@uow.command
def _import_applications(csv_file, office_code) -> list[str]:
    counts, problems = _import(csv_file, office_code, "accepting applications", acceptance.import_rows)
    click.echo(f"{counts['accepted']} accepted, {counts['unchanged']} already accepted, {len(problems)} refused")
    return problems


def init_app(app) -> None:
    for command in (draw, exams, candidates, applications):
        app.cli.add_command(command)


def _secret() -> bytes:
    """The app's secret key, which keys the draw's pseudonyms (as the API's draw does)."""
    key = current_app.secret_key
    return key.encode() if isinstance(key, str) else key
