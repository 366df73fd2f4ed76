"""`vmo motorcycles import FILE.csv`: load the office's motorcycle register."""
import csv

import click
from flask.cli import with_appcontext

from vmo import clock, settings, uow
from vmo.offices.settings import default_office_code


@click.group("motorcycles")
def motorcycles():
    """The motorcycle register."""


@motorcycles.command("import")
@click.argument("csv_file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--office", "office_code", default=None, help="Office code (default: the default office)")
@click.option("--show", "show_bad", type=click.IntRange(0), default=50, help="How many bad rows to list")
@with_appcontext
@uow.command
def import_command(csv_file, office_code, show_bad):
    """Insert or update motorcycles by plate from a CSV file (columns: plate, vin, owner_name, phone,
    township, registered_on, last_inspected_on; the Chinese headers of the register export work too)."""
    from vmo.errors import DomainError
    from vmo.motorcycles import services
    from vmo.motorcycles.settings import MotorcycleSettings
    from vmo.offices import services as offices

    rows = list(csv.DictReader(csv_file))
    config = settings.get(MotorcycleSettings)
    try:
        office = offices.get_office(office_code or default_office_code())
        with click.progressbar(length=len(rows), label="importing motorcycles") as bar:
            report = services.import_rows(
                office, rows, rules=config.rules,
                today=clock.local_today(office.timezone), now=clock.now(),
                chunk_size=config.import_chunk, progress=bar.update)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"{report.rows} rows: {report.inserted} new, {report.updated} updated, "
               f"{report.unchanged} unchanged, {len(report.bad_rows)} bad")
    for number, message in report.bad_rows[:show_bad]:
        click.echo(f"row {number}: {message}", err=True)
    if len(report.bad_rows) > show_bad:
        click.echo(f"... and {len(report.bad_rows) - show_bad} more bad rows", err=True)
