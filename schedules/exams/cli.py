"""`vmo draw SESSION_ID`: run a ballot from the command line (for a scheduled job)."""
import click
from flask import current_app
from flask.cli import with_appcontext

from schedules.exams import ballot
from schedules.exams.settings import settings_from
from vmo import clock
from vmo.errors import DomainError


@click.command("draw")
@click.argument("session_id", type=int)
@with_appcontext
def draw(session_id):
    """Draw the ballot of SESSION_ID once its applications have closed (safe to run again)."""
    try:
        record, created = ballot.run_draw(session_id, settings_from(current_app.config), clock.now())
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
