"""One unit of work: where a transaction begins and ends.

A request (every view: `vmo.VmoFlask.dispatch_request`) and a CLI command that writes (`command`)
is one transaction: it commits once when it succeeds and rolls back when anything raises. Services
only add and `flush()`; so several services combine in one request, one command or the demo loader,
and either all of their work is kept or none.

A unique constraint refused at flush or at commit (a concurrent request got there first) becomes
the 409 named in `vmo.integrity`'s one table, in one place; any other integrity error is a bug and
goes on as it was (a logged 500 with the request id). A service that can *recover* from a refusal
(use the row the other request made) does so inside a SAVEPOINT (`db.session.begin_nested()`), so
the outer transaction survives.

The few commits elsewhere are deliberate and say why where they are; tests/test_unit_of_work.py
lists them and fails on any other.
"""
import contextlib
import functools

import click
from sqlalchemy.exc import IntegrityError

from vmo import integrity
from vmo.errors import DomainError
from vmo.extensions import db


@contextlib.contextmanager
def unit_of_work():
    """Commit what the block did when it ends normally; roll it all back when it raises."""
    try:
        yield
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        conflict = integrity.conflict_for(exc)
        if conflict is None:
            raise
        raise conflict from exc
    except BaseException:
        db.session.rollback()
        raise


def command(fn):
    """A CLI command as one unit of work; a refusal (a DomainError) is the command's error message.

    Put it below `@with_appcontext`."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            with unit_of_work():
                return fn(*args, **kwargs)
        except DomainError as exc:
            raise click.ClickException(exc.message) from None

    return wrapper


def flush() -> None:
    """Where a service's work is done: write it now (a refused unique constraint raises here, inside
    the service) and expire what the session holds, as a commit would, so that what the service
    answers is read back from the rows (those changed by an UPDATE statement included). The
    request's or command's unit of work commits it."""
    db.session.flush()
    db.session.expire_all()
