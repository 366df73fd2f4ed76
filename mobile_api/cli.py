"""`vmo-tablet`: the reference tablet client on the command line (login, pull, log, sync, status)."""
import json
import os
import sys

import click

from mobile_api.client import ClientError, TabletClient, Unreachable

DEFAULT_QUEUE = os.path.join(os.path.expanduser("~"), ".vmo-tablet", "queue.sqlite3")


def _client(ctx) -> TabletClient:
    opts = ctx.obj
    return TabletClient(opts["server"], opts["queue"], batch_size=opts["batch_size"],
                        max_attempts=opts["attempts"], backoff=opts["backoff"], timeout=(5.0, opts["timeout"]))


def _print(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True))


@click.group()
@click.option("--server", envvar="VMO_TABLET_SERVER", default=None,
              help="Server base URL, e.g. http://127.0.0.1:5000 (remembered in the queue file).")
@click.option("--queue", envvar="VMO_TABLET_QUEUE", default=DEFAULT_QUEUE, show_default=True,
              type=click.Path(dir_okay=False), help="The tablet's offline queue (an SQLite file).")
@click.option("--batch-size", default=200, show_default=True, type=click.IntRange(1, 500),
              help="Records per sync request.")
@click.option("--attempts", default=6, show_default=True, type=click.IntRange(1, 100),
              help="Tries per request before giving up for now (records stay queued).")
@click.option("--backoff", default=0.5, show_default=True, type=click.FloatRange(0),
              help="Wait before the third try in seconds (the second is immediate); doubles each time.")
@click.option("--timeout", default=60.0, show_default=True, type=click.FloatRange(1),
              help="Seconds to wait for an answer.")
@click.pass_context
def main(ctx, server, queue, batch_size, attempts, backoff, timeout):
    """vmo-tablet: log inspections offline and sync them to vmo without loss or duplicates."""
    ctx.obj = {"server": server, "queue": queue, "batch_size": batch_size, "attempts": attempts,
               "backoff": backoff, "timeout": timeout}


def _run(fn):
    try:
        return fn()
    except Unreachable as exc:
        raise click.ClickException(f"server unreachable, nothing lost, try again later: {exc}") from None
    except ClientError as exc:
        raise click.ClickException(str(exc)) from None


@main.command()
@click.option("--username", prompt=True)
@click.option("--password", prompt=True, hide_input=True)
@click.pass_context
def login(ctx, username, password):
    """Sign in and keep the token in the queue file."""
    body = _run(lambda: _client(ctx).login(username, password))
    click.echo(f"signed in as {username} ({body.get('role')}) until {body.get('expires_at')}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the whole assignments document.")
@click.pass_context
def pull(ctx, as_json):
    """Fetch today's and the coming days' tours (cached for offline work)."""
    data, changed = _run(lambda: _client(ctx).pull())
    if as_json:
        _print(data)
        return
    click.echo("assignments updated" if changed else "assignments unchanged (cached copy)")
    for tour in data.get("tours", []):
        click.echo(f"{tour['date']} tour {tour['id']} {tour['name']}: {len(tour['stops'])} stops")
        for stop in tour["stops"]:
            click.echo(f"  stop {stop['id']} {stop['township']} {stop['venue']} "
                       f"{stop['arrives_at']}..{stop['departs_at']} registered {len(stop['registrations'])}")


@main.command()
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.pass_context
def log(ctx, file):
    """Queue inspections from a JSON file (one object or a list); each gets a client_id."""
    try:
        data = json.load(file)
    except ValueError as exc:
        raise click.ClickException(f"{file.name} is not JSON: {exc}") from None
    records = data if isinstance(data, list) else [data]
    try:
        ids = _client(ctx).log(records)
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    for client_id in ids:
        click.echo(client_id)
    click.echo(f"{len(ids)} record(s) queued", err=True)


@main.command()
@click.pass_context
def sync(ctx):
    """Send the queue; records leave it only once the server has answered for them."""
    client = _client(ctx)
    report = _run(lambda: client.sync(progress=lambda r: click.echo(
        f"batch {r.batches}: created {r.created}, duplicate {r.duplicate}, "
        f"conflict {r.conflict}, rejected {r.rejected}", err=True)))
    click.echo(f"created {report.created}, duplicate {report.duplicate}, conflict {report.conflict}, "
               f"rejected {report.rejected}; photos sent {report.photos_sent}; still queued {report.left}")
    for problem in report.problems:
        click.echo(f"needs attention: {json.dumps(problem, ensure_ascii=False)}")
    if report.conflict or report.rejected or report.photos_attention:
        sys.exit(2)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print as JSON, with the records needing attention.")
@click.pass_context
def status(ctx, as_json):
    """What is queued, synced and needs attention."""
    client = _client(ctx)
    info = client.status()
    if as_json:
        _print({**info, "needs_attention": client.attention()})
        return
    for key in ("server", "username", "device_id", "token_expires_at", "assignments_pulled_at", "pending",
                "attention", "synced", "photos_pending", "photos_attention"):
        click.echo(f"{key}: {info.get(key)}")
    for item in client.attention():
        click.echo(f"needs attention {item['client_id']}: {json.dumps(item['reason'], ensure_ascii=False)}")


@main.command()
@click.argument("client_ids", nargs=-1)
@click.pass_context
def requeue(ctx, client_ids):
    """Send records that need attention again (all, or the given client_ids)."""
    count = _client(ctx).requeue(list(client_ids) or None)
    click.echo(f"{count} record(s) back in the queue")
