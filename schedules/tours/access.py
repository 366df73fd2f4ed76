"""Who may act on a tour: the one rule, used by the tours endpoints and the tablets' sync alike.

- Anyone outside the tour's office: the tour does not exist for them (404, in `services.get_tour`).
- Record an inspection (tours endpoint or sync): only an officer assigned to the tour. A supervisor
  or admin is not at the stop, and a follow-up text names the officer who inspected, so they do
  not record inspections in anyone's name; they change the tour's officers instead.
- Change the tour (PATCH, route, publish, cancel): the officers assigned to it and the officer who
  planned it; supervisors and admins of the office, who plan and reassign the office's tours.
- Read the tour, its registrations and its report: all staff of the office (the office's business).
"""
from sqlalchemy import exists, select

from schedules.tours.models import Tour, TourOfficer
from vmo.accounts.models import Role, User
from vmo.errors import Forbidden
from vmo.extensions import db

MANAGERS = (Role.SUPERVISOR, Role.ADMIN)


def may_inspect(user: User, assigned: bool) -> bool:
    """`assigned`: the user is one of the tour's officers (the bulk path finds it with a join)."""
    return user.role == Role.OFFICER and assigned


def is_assigned(user: User, tour: Tour) -> bool:
    return db.session.scalar(select(exists().where(TourOfficer.tour_id == tour.id,
                                                   TourOfficer.user_id == user.id))) or False


def may_change(user: User, tour: Tour) -> bool:
    if user.office_id != tour.office_id:
        return False
    if user.role in MANAGERS:
        return True
    return user.role == Role.OFFICER and (tour.created_by_id == user.id or is_assigned(user, tour))


def check_change(user: User, tour: Tour) -> None:
    """Raise Forbidden unless the user may change this tour (of their office)."""
    if not may_change(user, tour):
        raise Forbidden(f"only the officers of tour {tour.id}, the officer who planned it, or a supervisor "
                        "may change it")
