"""The `vmo` command line: database, accounts, demo data, imports and the message outbox."""
import csv
import sys

import click
from flask.cli import FlaskGroup, with_appcontext

from vmo import clock, uow
from vmo import settings as app_settings
from vmo.accounts.models import STAFF_ROLES
from vmo.fleet.settings import FleetSettings
from vmo.plates.rules import PlateKind
from vmo.types import values
from vmo.notify.settings import SmsSettings
from vmo.offices.settings import OfficeSettings, default_office_code


def _create_app():
    from vmo import create_app
    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=True, add_version_option=False)
def main():
    """vmo: booking and field-inspection service for a vehicle management office."""


def _fail(exc) -> None:
    raise click.ClickException(getattr(exc, "message", str(exc)))


@click.command("init-db")
@with_appcontext
@uow.command
def init_db():
    """Create or upgrade the database schema and the default office (safe to run again)."""
    from vmo.errors import DomainError
    from vmo.migrations_util import upgrade_database
    from vmo.offices import services as offices

    from vmo.extensions import db

    upgrade_database()
    click.echo(f"database ready: {db.engine.url.render_as_string(hide_password=False).split('@')[-1]}")
    default = app_settings.get(OfficeSettings)
    try:
        office = offices.ensure_office(default.code, default.name, default.plate_prefix, default.timezone,
                                       region_code=default.region_code or None)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"default office {office.code}: {office.name} ({office.plate_prefix})")


@click.group("users")
def users():
    """Staff accounts."""


@users.command("create")
@click.option("--role", required=True, type=click.Choice([role.value for role in STAFF_ROLES]))
@click.option("--username", required=True)
@click.option("--password", required=True, prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--office", "office_code", default=None, help="Office code (default: the default office)")
@click.option("--name", "display_name", default=None, help="Display name")
@click.option("--badge", "badge_number", default=None, help="Badge number, named in follow-up texts")
@click.option("--supervisor", default=None, help="Username of this officer's supervisor")
@with_appcontext
@uow.command
def users_create(role, username, password, office_code, display_name, badge_number, supervisor):
    """Create a staff account."""
    from vmo.accounts import services as accounts
    from vmo.errors import DomainError
    from vmo.offices import services as offices

    try:
        office = offices.get_office(office_code or default_office_code())
        user = accounts.create_staff(office, username, password, role, app_settings.get(accounts.AuthSettings),
                                     display_name=display_name, badge_number=badge_number,
                                     supervisor_username=supervisor)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"created {user.role} {user.username} in {office.code}")


@users.command("set-password")
@click.option("--username", required=True)
@click.option("--password", required=True, prompt=True, hide_input=True, confirmation_prompt=True)
@with_appcontext
@uow.command
def users_set_password(username, password):
    """Reset a password (after checking the person another way): ends the account's sessions and lifts
    a sign-in lock-out."""
    from vmo import limits
    from vmo.accounts import services as accounts
    from vmo.errors import DomainError

    try:
        accounts.reset_password(username, password, app_settings.get(accounts.AuthSettings), clock.now(),
                                limits.lockout(address=""))
    except DomainError as exc:
        _fail(exc)
    click.echo(f"password of {username} reset; sessions ended, lock-out lifted")


@click.group("offices")
def offices_group():
    """Offices served by this deployment."""


@offices_group.command("create")
@click.option("--code", required=True)
@click.option("--name", required=True)
@click.option("--plate-prefix", required=True, help='e.g. "渝G"')
@click.option("--timezone", default="Asia/Shanghai")
@with_appcontext
@uow.command
def offices_create(code, name, plate_prefix, timezone):
    """Create an office."""
    from vmo.errors import DomainError
    from vmo.offices import services as offices

    try:
        office = offices.ensure_office(code, name, plate_prefix, timezone)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"office {office.code}: {office.name} ({office.plate_prefix})")


@click.command("demo")
@with_appcontext
@uow.command
def demo():
    """Load demo data: the Nanchuan office, staff, a company with a batch, and more (idempotent).

    One transaction: a step that fails leaves nothing of the others."""
    from vmo.demo import load_demo

    for line in load_demo():
        click.echo(line)


@click.group("fleet")
def fleet():
    """Fleet batches."""


@fleet.command("import")
@click.argument("csv_file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--company", "company_name", required=True, help="Company name, credit code or username")
@click.option("--note", default=None)
@with_appcontext
@uow.command
def fleet_import(csv_file, company_name, note):
    """Submit a batch from a CSV file (columns: vin, make, model, vehicle_type, fuel_type, color, invoice_number,
    and the papers certificate_number, purchase_tax_number, insurance_policy, use_character)."""
    from vmo.errors import DomainError
    from vmo.fleet.importer import import_batch

    rows = list(csv.DictReader(csv_file))
    try:
        with click.progressbar(length=len(rows), label="checking vehicles") as bar:
            batch = import_batch(company_name, rows, note, progress=bar.update,
                                 max_vehicles=app_settings.get(FleetSettings).max_batch)
    except DomainError as exc:
        for line in getattr(exc, "lines", []):
            click.echo(line, err=True)
        _fail(exc)
    click.echo(f"batch {batch.id} submitted with {len(batch.vehicles)} vehicles")


@click.group("plates")
def plates():
    """The office's plate pool."""


@plates.command("add")
@click.option("--count", type=click.IntRange(1, 100000), default=200)
@click.option("--kind", type=click.Choice(values(PlateKind)), default=None,
              help="ordinary (blue), new_energy (green, D/F first) or new_energy_large (buses and heavy trucks, D/F last)")
@click.option("--new-energy", is_flag=True, help="Same as --kind new_energy")
@click.option("--office", "office_code", default=None)
@with_appcontext
@uow.command
def plates_add(count, kind, new_energy, office_code):
    """Add fresh random plates to the pool."""
    from vmo import settings
    from vmo.errors import DomainError
    from vmo.fleet import plates as fleet_plates
    from vmo.fleet.settings import FleetSettings
    from vmo.offices import services as offices

    try:
        office = offices.get_office(office_code or default_office_code())
    except DomainError as exc:
        _fail(exc)
    kind = kind or (PlateKind.NEW_ENERGY if new_energy else PlateKind.ORDINARY)
    added = fleet_plates.add_plates(office, kind, count, kept_back=settings.get(FleetSettings).plate_reserved)
    click.echo(f"added {added} plates; pool now {fleet_plates.plate_pool_counts(office.id)}")


@click.group("sms")
def sms():
    """The outbound message outbox."""


@sms.command("send")
@click.option("--limit", type=click.IntRange(1, 100000), default=1000)
@with_appcontext
def sms_send(limit):
    """Send the messages waiting in the outbox (one pass)."""
    counts = _send_once(_sms_backend(), limit)
    click.echo(_sms_summary(counts))


def _sms_backend():
    from vmo.notify import services as notify

    try:
        return notify.make_backend(app_settings.get(SmsSettings))
    except ValueError as exc:
        _fail(exc)


def _send_once(backend, limit: int, quiet: bool = False) -> dict:
    from vmo.notify import services as notify

    sms = app_settings.get(SmsSettings)
    options = {"max_attempts": sms.max_attempts, "retry_base_seconds": sms.retry_base_seconds}
    due = min(notify.count_due(clock.now()), limit)
    if quiet or due == 0:
        return notify.send_pending(backend, limit=limit, clock=clock.now, **options)
    with click.progressbar(length=due, label=f"sending ({backend.name})", file=sys.stderr) as bar:
        return notify.send_pending(backend, limit=limit, progress=bar.update, clock=clock.now, **options)


def _sms_summary(counts: dict) -> str:
    return (f"sent {counts['sent']}, to retry {counts['retry']}, failed {counts['failed']}, "
            f"opted out {counts['opted_out']}, held for the morning {counts['held']}")


@sms.command("worker")
@click.option("--interval", type=click.FloatRange(0, 3600), default=5.0, show_default=True,
              help="Seconds to wait when nothing is due")
@click.option("--limit", type=click.IntRange(1, 100000), default=500, show_default=True, help="Messages per pass")
@click.option("--max-passes", type=click.IntRange(1), default=None, help="Stop after this many passes (tests)")
@with_appcontext
def sms_worker(interval, limit, max_passes):
    """Send the outbox continuously: one pass, then wait when nothing was due (Ctrl-C stops)."""
    import time

    from vmo.extensions import db

    backend = _sms_backend()
    passes = 0
    click.echo(f"sms worker: backend {backend.name}, every {interval:g}s when idle")
    try:
        while max_passes is None or passes < max_passes:
            counts = _send_once(backend, limit, quiet=True)
            passes += 1
            if any(counts[k] for k in ("sent", "retry", "failed", "opted_out")):
                click.echo(_sms_summary(counts))
            db.session.remove()  # a fresh session per pass: no stale objects in a long-running loop
            if counts["sent"] + counts["retry"] + counts["failed"] < limit and (
                    max_passes is None or passes < max_passes):
                time.sleep(interval)
    except KeyboardInterrupt:
        pass
    click.echo(f"sms worker stopped after {passes} passes")


@sms.command("phone")
@click.argument("number")
@click.option("--last", type=click.IntRange(1, 100), default=5, show_default=True, help="How many texts")
@with_appcontext
def sms_phone(number, last):
    """Show what a phone number was texted, in full (development: the log backend only).

    With the log backend no text reaches a phone; this is the phone, to read a sign-up code or a
    cancel code while trying vmo out. Staff lists and the log mask codes and numbers; a real
    gateway's texts are read on the phone itself, so this refuses to run with one.
    """
    from vmo import timefmt, validators
    from vmo.notify import services as notify

    if _sms_backend().name != "log":
        _fail("`vmo sms phone` shows texts only with the log backend (development): "
              "with a real SMS gateway, read them on the phone")
    try:
        number = validators.validate_mobile(number)
    except ValueError as exc:
        _fail(f"{number!r} is not a mobile number: {exc}")
    messages = notify.texts_to(number, last)
    if not messages:
        click.echo(f"no texts to {number}")
    for message in messages:
        click.echo(f"{timefmt.local_iso(message.created_at)[:16].replace('T', ' ')}  [{message.status}]  "
                   f"{message.body}")


@sms.command("retry-failed")
@click.option("--office", "office_code", default=None)
@with_appcontext
@uow.command
def sms_retry_failed(office_code):
    """Queue the office's failed messages again (not those with an invalid number)."""
    from vmo.notify import services as notify
    from vmo.offices import services as offices

    office = offices.get_office(office_code or default_office_code())
    click.echo(f"{notify.retry_failed(office.id)} failed messages queued again")


def register_commands(app) -> None:
    for command in (init_db, users, offices_group, demo, fleet, plates, sms):
        app.cli.add_command(command)
