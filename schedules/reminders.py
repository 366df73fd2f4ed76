"""Reminder texts the day before a driving test or a tour stop, queued once each through the outbox.

Who gets one: every confirmed booking (no outcome yet) of a test session on the day, and every
standing registration at a scheduled stop of a published tour on the day. Waiting-list places and
undrawn ballot applications hold no seat and get none; cancelled bookings, registrations, stops and
tours get none. The outbox key is unique, so running this again queues nothing new: no column is
needed to remember who was reminded. A booking moved to another session is reminded again for it
(the key names the session).
"""
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from schedules.exams import notifications as exam_texts
from schedules.exams.models import BookingStatus, ExamBooking, ExamSession
from schedules.exams.services import sitting
from schedules.exams.settings import ExamSettings, cancel_deadline
from schedules.tours import notifications as tour_texts
from schedules.tours.models import RegistrationStatus, StopRegistration, StopStatus, Tour, TourStatus, TourStop
from schedules.tours.services import local_hm, place_name
from vmo import uow
from vmo.accounts.models import Candidate
from vmo.errors import RuleViolation
from vmo.extensions import db
from vmo.notify import services as notify
from vmo.offices.models import Office
from vmo.offices.services import get_office, list_offices


@dataclass(frozen=True)
class Queued:
    """What one office's run queued: texts to candidates and to motorcycle owners, for `day`."""

    office: str
    day: date
    exam_bookings: int
    tour_registrations: int

    @property
    def total(self) -> int:
        return self.exam_bookings + self.tour_registrations


def _contact(office: Office) -> str:
    return f"车管所（电话{office.phone}）" if office.phone else "车管所"


def _exam_texts(office: Office, day: date, now: datetime, settings: ExamSettings) -> list[dict]:
    rows = db.session.execute(
        select(ExamBooking.id, Candidate.phone, ExamSession)
        .join(ExamSession, ExamSession.id == ExamBooking.session_id)
        .join(Candidate, Candidate.id == ExamBooking.candidate_id)
        .where(ExamSession.office_id == office.id, ExamSession.local_date == day, ExamSession.starts_at > now,
               ExamBooking.status == BookingStatus.CONFIRMED, ExamBooking.outcome.is_(None))
        .order_by(ExamBooking.id)
    ).all()
    zone = office.zone
    texts = []
    for booking_id, phone, session in rows:
        # Candidates cancel online until the cut-off before the start; after it only the office can.
        deadline = cancel_deadline(session, settings)
        cancel = (exam_texts.REMINDER_CANCEL_ONLINE.render(deadline=f"{deadline.astimezone(zone):%m月%d日 %H:%M}",
                                                           contact=_contact(office))
                  if now < deadline else exam_texts.REMINDER_CANCEL_OFFICE.render(contact=_contact(office)))
        texts.append({
            "office_id": office.id, "phone": phone, "kind": "exam_reminder",
            "key": f"reminder:exam-booking:{booking_id}:{session.id}",
            "body": exam_texts.REMINDER.render(**sitting(session), booking=booking_id, cancel=cancel),
            "subject_type": "exam_booking", "subject_id": booking_id, "created_at": now,
        })
    return texts


def _tour_texts(office: Office, day: date, now: datetime) -> list[dict]:
    rows = db.session.execute(
        select(StopRegistration.id, StopRegistration.phone, StopRegistration.plate, TourStop.township,
               TourStop.venue, TourStop.arrives_at, TourStop.departs_at)
        .join(TourStop, TourStop.id == StopRegistration.stop_id)
        .join(Tour, Tour.id == StopRegistration.tour_id)
        .where(Tour.office_id == office.id, Tour.date == day, Tour.status == TourStatus.PUBLISHED,
               TourStop.status == StopStatus.SCHEDULED, TourStop.arrives_at > now, StopRegistration.status == RegistrationStatus.REGISTERED)
        .order_by(StopRegistration.id)
    ).all()
    zone = office.zone
    return [{
        "office_id": office.id, "phone": phone, "kind": "tour_reminder", "key": f"reminder:tour-registration:{reg_id}",
        "body": tour_texts.REMINDER.render(date=f"{day:%m月%d日}", start=local_hm(arrives, zone),
                                           end=local_hm(departs, zone), place=place_name(township, venue),
                                           plate=plate, contact=_contact(office)),
        "subject_type": "tour_registration", "subject_id": reg_id, "created_at": now,
    } for reg_id, phone, plate, township, venue, arrives, departs in rows]


def queue_reminders(now: datetime, settings: ExamSettings, day: date | None = None,
                    office_code: str | None = None) -> list[Queued]:
    """Queue the reminders for tests and tour stops on `day` (default: each office's local tomorrow).

    One unit of work: one commit for every office; the texts go out with `vmo sms send`. A day
    before the office's local today is refused. Counts are of texts new to the outbox.
    """
    offices = [get_office(office_code)] if office_code else list_offices()
    plan = []
    for office in offices:
        today = now.astimezone(office.zone).date()
        target = day or today + timedelta(days=1)
        if target < today:
            raise RuleViolation(f"{target.isoformat()} is in the past for office {office.code} "
                                f"(today is {today.isoformat()} there)", fields={"date": ["in the past"]})
        plan.append((office, target))
    results = []
    for office, target in plan:
        # Keys already in the outbox are skipped by its unique index: the counts are of new texts only.
        exams = notify.queue_many(_exam_texts(office, target, now, settings))
        tours = notify.queue_many(_tour_texts(office, target, now))
        results.append(Queued(office.code, target, exams, tours))
    uow.flush()
    return results
