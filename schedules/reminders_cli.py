"""`vmo reminders send [--date YYYY-MM-DD]`: queue the day-before reminders (run it daily, e.g. from cron)."""
import click
from flask.cli import with_appcontext

from schedules import reminders as service
from schedules.exams.settings import ExamSettings
from vmo import clock, settings, uow
from vmo.errors import DomainError


@click.group("reminders")
def reminders():
    """Reminder texts the day before a driving test or a tour stop."""


@reminders.command("send")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Day of the tests and tour stops to remind of (default: tomorrow in each office's zone)")
@click.option("--office", "office_code", default=None, help="Only this office (default: every office)")
@with_appcontext
@uow.command
def send(day, office_code):
    """Queue one text per confirmed test booking and tour registration of the day (safe to run again)."""
    try:
        results = service.queue_reminders(clock.now(), settings.get(ExamSettings),
                                          day=day.date() if day else None, office_code=office_code)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    for result in results:
        click.echo(f"{result.office} {result.day.isoformat()}: {result.exam_bookings} test, "
                   f"{result.tour_registrations} tour reminders queued")
    click.echo(f"queued {sum(r.total for r in results)} reminders; `vmo sms send` sends them")
