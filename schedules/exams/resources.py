"""HTTP resources for weekend driving tests: sessions, bookings, outcomes, the draw and calendars."""
from flask import Response, current_app, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from schedules import ical
from schedules.exams import (
    applications, ballot, bookings, calendars, eligibility, outcomes, permits, services, testday,
)
from schedules.exams.models import BookingStatus
from schedules.exams.schemas import (
    ApplicationCreateSchema, ApplicationQueryArgsSchema, ApplicationRefusedErrorSchema, ApplicationSchema,
    CandidateQueryArgsSchema, CandidateRowSchema, ExamBookingChangeSchema, ExamBookingCreateSchema,
    ExamBookingQueryArgsSchema, ExamBookingSchema, ExamCalendarSecretSchema, ExamDrawSchema, ExamFeedQueryArgsSchema,
    ExamIneligibleErrorSchema, ExamNoSeatErrorSchema, ExamOutcomeSchema, ExamOutcomesResultSchema,
    ExamOutcomesSchema, ExamProgressSchema, ExamSessionCancelSchema, ExamSessionCreateSchema,
    ExamSessionQueryArgsSchema, ExamSessionSchema, ExamSessionStaffSchema, ExamSessionUpdateSchema, LearnerPermitSchema,
    RosterQueryArgsSchema, RosterSchema, booking_answer,
)
from schedules.exams.settings import ExamSettings
from vmo import clock, csvout, limits, settings
from vmo.accounts.models import STAFF_ROLES, Role
from vmo.http.app import fast_json
from vmo.http.auth import auth, current_user
from vmo.http.caching import etag_response, public_page
from vmo.http.idempotency import idempotent
from vmo.http.paging import SelectPage
from vmo.offices import services as offices
from vmo.schemas_common import ErrorSchema
from vmo.offices.settings import default_office_code

blp = Blueprint("exams", __name__, url_prefix="/api/v1",
                description="Weekend driving tests: sessions, bookings, the ballot, waiting lists and calendars")
STAFF = STAFF_ROLES
CALENDAR = {"type": "string", "description": "An iCalendar (RFC 5545) document"}
CSV_ROSTER = ("booking_id", "name", "id_number", "phone", "license_class", "status", "outcome")
NOT_MODIFIED = "not modified since the ETag (If-None-Match) or date (If-Modified-Since) sent"


def _settings() -> ExamSettings:
    return settings.get(ExamSettings)


def _office_for(code: str | None):
    """The named office, else the signed-in user's, else the deployment's default office."""
    if code:
        return offices.get_office(code)
    user = current_user(optional=True)
    if user is not None:
        return user.office
    return offices.get_office(default_office_code())


def _calendar(body: bytes, last_modified):
    return etag_response(body, ical.CONTENT_TYPE, last_modified=last_modified)


@blp.route("/test-sessions")
class SessionsResource(MethodView):
    @public_page
    @auth(blp, optional=True)
    @blp.arguments(ExamSessionQueryArgsSchema, location="query")
    @blp.response(200, ExamSessionSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, args):
        """Test sessions from today on, with seats left (public)"""
        office = _office_for(args["office"])
        return services.list_sessions(
            office.id, clock.local_today(office.timezone), subject=args["subject"],
            license_class=args["license_class"], start=args["from_"], end=args["to"], weekend=args["weekend"],
            kind=args["kind"], allocation=args["allocation"])

    @auth(blp, *STAFF)
    @idempotent(blp)
    @blp.arguments(ExamSessionCreateSchema)
    @blp.response(201, ExamSessionSchema)
    def post(self, data):
        """Open a test session (regular or extra; first come or ballot)"""
        return services.create_session(current_user(), data, clock.now())


@blp.route("/test-sessions/<int:session_id>")
class SessionResource(MethodView):
    @blp.response(200, ExamSessionSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such session")
    def get(self, session_id):
        """One test session with its seats left (public)"""
        return services.get_session(session_id)

    @auth(blp, *STAFF)
    @blp.arguments(ExamSessionUpdateSchema)
    @blp.response(200, ExamSessionStaffSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such session in your office")
    @blp.alt_response(409, schema=ErrorSchema, description="capacity below the seats booked, or session cancelled")
    @blp.alt_response(422, schema=ExamIneligibleErrorSchema, description="bad times, or the session has started")
    def patch(self, data, session_id):
        """Change a session's time, venue, capacity or examiners; its booked candidates get a text"""
        return testday.update_session(current_user(), session_id, data, clock.now())


@blp.route("/test-sessions/<int:session_id>/cancel")
class SessionCancelResource(MethodView):
    @auth(blp, *STAFF)
    @idempotent(blp)
    @blp.arguments(ExamSessionCancelSchema)
    @blp.response(200, ExamSessionSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such session in your office")
    @blp.alt_response(409, schema=ErrorSchema, description="the session already has results")
    def post(self, data, session_id):
        """Cancel a session (bad weather): every booking cancelled by the office, each candidate told"""
        return testday.cancel_session(current_user(), session_id, data["reason"], clock.now())


@blp.route("/test-sessions/<int:session_id>/roster")
class RosterResource(MethodView):
    @auth(blp, *STAFF)
    @blp.arguments(RosterQueryArgsSchema, location="query")
    @blp.response(200, RosterSchema)
    @blp.alt_response(200, content_type="text/csv", description="with ?format=csv",
                      schema={"type": "string", "description": "CSV: booking_id, name, id_number, phone, "
                                                               "license_class, status, outcome"})
    @blp.alt_response(404, schema=ErrorSchema, description="no such session in your office")
    def get(self, args, session_id):
        """The door roster: confirmed (and waiting) candidates with masked ID numbers and phones"""
        session, lines = testday.roster(current_user(), session_id)
        if args["format"] == "csv":
            body = csvout.render(CSV_ROSTER, ([line.booking_id, line.name, line.id_number, line.phone,
                                               line.license_class, line.status, line.outcome or ""]
                                              for line in lines), bom=True)
            return Response(body, mimetype="text/csv", headers={
                "Content-Disposition": f"attachment; filename=session-{session.id}-roster.csv"})
        return {"session": session, "candidates": lines}


@blp.route("/test-sessions/<int:session_id>/outcomes")
class SessionOutcomesResource(MethodView):
    @auth(blp, *STAFF)
    @idempotent(blp)
    @blp.arguments(ExamOutcomesSchema)
    @blp.response(200, ExamOutcomesResultSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such session in your office")
    @blp.alt_response(409, schema=ErrorSchema, description="the session was cancelled")
    @blp.alt_response(422, schema=ExamIneligibleErrorSchema,
                      description="bad rows, named by index under errors.json.results; nothing was recorded")
    def post(self, data, session_id):
        """Record a whole session's results at once (all or nothing)"""
        results = outcomes.record_session(current_user(), session_id, data["results"], clock.now(),
                                          clock.local_today())
        return {"session_id": session_id, "results": results}


def _booking_caller(token: str, now):
    # The booking reads its caller with everything else it needs, in one statement.
    return bookings.read_caller(token, request.view_args["session_id"], now)


@blp.route("/test-sessions/<int:session_id>/bookings")
class SessionBookingsResource(MethodView):
    @auth(blp, Role.CANDIDATE, *STAFF, load=_booking_caller)
    @limits.candidate_bookings(blp)
    @idempotent(blp)
    @blp.arguments(ExamBookingCreateSchema(), required=False)  # one instance per process, not per request
    @blp.response(201, ExamBookingSchema, description="confirmed (first come, or a ballot after its draw) "
                                                  "or waitlisted (with waitlist_if_full)")
    @blp.alt_response(202, schema=ExamBookingSchema, description="applied: a ballot session, until its draw")
    @blp.alt_response(404, schema=ErrorSchema, description="no such session in your office")
    @blp.alt_response(409, schema=ExamNoSeatErrorSchema,
                      description="no seat left (seats_left: 0), another active booking of this subject, "
                                  "or the session was cancelled (reason: session_cancelled)")
    @blp.alt_response(422, schema=ExamIneligibleErrorSchema, description="not eligible; `reason` says why")
    def post(self, data, session_id):
        """Book a seat, apply for a ballot, or join the waiting list (staff: for a candidate at the counter)"""
        exam_settings, now, caller = _settings(), clock.now(), current_user()
        booked = services.book(caller, session_id, exam_settings, now, clock.local_today(),
                               waitlist_if_full=data.get("waitlist_if_full", False),
                               candidate_id=data.get("candidate_id"), facts=getattr(caller, "facts", None))
        # The answer from the values in hand, written by orjson (the schemas above document it).
        answer = booking_answer(booked, max(exam_settings.max_changes, 0), now)
        return fast_json(answer, 202 if booked.status == BookingStatus.APPLIED else 201)


@blp.route("/test-sessions/<int:session_id>/draw")
class DrawResource(MethodView):
    @blp.response(200, ExamDrawSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such session, or not drawn yet")
    def get(self, session_id):
        """The stored draw: seed, inputs and result, to recompute it (public)"""
        return ballot.get_draw(session_id)

    @auth(blp, *STAFF)
    @blp.response(201, ExamDrawSchema, description="the draw was run now")
    @blp.alt_response(200, schema=ExamDrawSchema, description="already drawn: the stored draw, unchanged")
    @blp.alt_response(404, schema=ErrorSchema, description="no such session in your office")
    @blp.alt_response(422, schema=ExamIneligibleErrorSchema,
                      description="not a ballot, or applications still open (reason)")
    def post(self, session_id):
        """Run the ballot after applications close (running it again returns the same draw)"""
        key = current_app.secret_key
        record, created = ballot.run_draw(session_id, _settings(), clock.now(),
                                          key.encode() if isinstance(key, str) else key, actor=current_user())
        return record, 201 if created else 200


@blp.route("/bookings")
class BookingsResource(MethodView):
    @auth(blp, Role.CANDIDATE, *STAFF)
    @blp.arguments(ExamBookingQueryArgsSchema, location="query")
    @blp.response(200, ExamBookingSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, args):
        """Bookings: a candidate's own, or (staff) the office's, e.g. one session's"""
        return services.list_bookings(current_user(), args["session_id"], args["status"])


@blp.route("/bookings/<int:booking_id>")
class BookingResource(MethodView):
    @auth(blp, Role.CANDIDATE, *STAFF)
    @blp.response(200, ExamBookingSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such booking, or not yours")
    def get(self, booking_id):
        """One booking"""
        return services.get_booking(current_user(), booking_id)

    @auth(blp, Role.CANDIDATE, *STAFF)
    @limits.candidate_bookings(blp)
    @blp.response(200, ExamBookingSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such booking, or not yours")
    @blp.alt_response(409, schema=ErrorSchema, description="already cancelled, or the test was taken")
    @blp.alt_response(422, schema=ExamIneligibleErrorSchema, description="inside the cut-off before the start")
    def delete(self, booking_id):
        """Cancel a booking: the seat goes to the first on the waiting list, or back to the pool"""
        return services.cancel(current_user(), booking_id, _settings(), clock.now())


@blp.route("/bookings/<int:booking_id>/change")
class BookingChangeResource(MethodView):
    @auth(blp, Role.CANDIDATE)
    @limits.candidate_bookings(blp)
    @idempotent(blp)
    @blp.arguments(ExamBookingChangeSchema)
    @blp.response(200, ExamBookingSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such booking or session, or not yours")
    @blp.alt_response(409, schema=ExamNoSeatErrorSchema, description="the new session is full, or the booking is "
                                                                 "no longer active")
    @blp.alt_response(422, schema=ExamIneligibleErrorSchema,
                      description="too many changes, inside the cut-off, another subject, or not eligible")
    def post(self, data, booking_id):
        """Move a booking to another session of the same subject"""
        return services.change(current_user(), booking_id, data["session_id"], _settings(), clock.now(),
                               clock.local_today(), waitlist_if_full=data["waitlist_if_full"])


@blp.route("/bookings/<int:booking_id>/outcome")
class OutcomeResource(MethodView):
    @auth(blp, *STAFF)
    @idempotent(blp)
    @blp.arguments(ExamOutcomeSchema)
    @blp.response(200, ExamBookingSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such booking in your office")
    @blp.alt_response(409, schema=ErrorSchema, description="not confirmed, or another outcome already recorded")
    @blp.alt_response(422, schema=ExamIneligibleErrorSchema,
                      description="the test has not started yet, or the scores do not fit the outcome")
    def post(self, data, booking_id):
        """Record the outcome of a test: passed, failed or no_show, with the scores"""
        return outcomes.record_outcome(current_user(), booking_id, data, clock.now(), clock.local_today())


@blp.route("/bookings/<int:booking_id>/calendar.ics")
class BookingCalendarResource(MethodView):
    @auth(blp, Role.CANDIDATE, *STAFF)
    @blp.response(200, CALENDAR, content_type="text/calendar",
                  description="The booking as one VEVENT; METHOD:CANCEL and STATUS:CANCELLED once cancelled")
    @blp.alt_response(304, description=NOT_MODIFIED)
    @blp.alt_response(404, schema=ErrorSchema, description="no such booking, or not yours")
    def get(self, booking_id):
        """The booking as an iCalendar event"""
        return _calendar(*calendars.booking_calendar(current_user(), booking_id, _settings()))


@blp.route("/calendars/test-sessions.ics")
class SessionsFeedResource(MethodView):
    @blp.arguments(ExamFeedQueryArgsSchema, location="query")
    @blp.response(200, CALENDAR, content_type="text/calendar", description="Sessions that have not ended yet")
    @blp.alt_response(304, description=NOT_MODIFIED)
    @blp.alt_response(404, schema=ErrorSchema, description="no such office")
    def get(self, args):
        """Public feed of upcoming test sessions"""
        office = offices.get_office(args["office"] or default_office_code())
        return _calendar(*calendars.sessions_feed(office, clock.now()))


@blp.route("/calendars/candidates/<string:secret>.ics")
class CandidateFeedResource(MethodView):
    @blp.response(200, CALENDAR, content_type="text/calendar",
                  description="Every booking of the candidate; cancelled ones as STATUS:CANCELLED")
    @blp.alt_response(304, description=NOT_MODIFIED)
    @blp.alt_response(404, schema=ErrorSchema, description="unknown or rotated secret")
    def get(self, secret):
        """A candidate's personal feed at a secret address (no token, for phone calendars)"""
        return _calendar(*calendars.candidate_feed(secret, _settings()))


@blp.route("/me/calendar-secret")
class CalendarSecretResource(MethodView):
    @auth(blp, Role.CANDIDATE)
    @blp.response(201, ExamCalendarSecretSchema)
    def post(self):
        """Create or rotate the secret address of your personal calendar feed"""
        feed, secret = calendars.rotate_calendar_secret(current_user(), clock.now())
        return {"url": url_for("exams.CandidateFeedResource", secret=secret, _external=True), "secret": secret,
                "rotated_at": feed.rotated_at}


@blp.route("/me/exam-progress")
class MyProgressResource(MethodView):
    @auth(blp, Role.CANDIDATE)
    @blp.response(200, ExamProgressSchema)
    def get(self):
        """Your progress per subject, whether you may book it now, and your seniority date"""
        return eligibility.my_progress(current_user(), _settings(), clock.local_today())


@blp.route("/candidates/<int:candidate_id>/exam-progress")
class CandidateProgressResource(MethodView):
    @auth(blp, *STAFF)
    @blp.response(200, ExamProgressSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such candidate in your office")
    def get(self, candidate_id):
        """A candidate's progress per subject (staff of the candidate's office)"""
        return eligibility.candidate_progress(current_user(), candidate_id, _settings(), clock.local_today())


@blp.route("/candidates")
class CandidatesResource(MethodView):
    @auth(blp, *STAFF)
    @blp.arguments(CandidateQueryArgsSchema, location="query")
    @blp.response(200, CandidateRowSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, args):
        """Find the office's candidates by ID number or name (staff)"""
        return permits.search_candidates(current_user(), args["id_number"], args["name"])


@blp.route("/applications")
class ApplicationsResource(MethodView):
    @auth(blp, *STAFF)
    @idempotent(blp)
    @blp.arguments(ApplicationCreateSchema)
    @blp.response(201, ApplicationSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="an application for this class is already accepted "
                                                           "for the ID number (`reason`: `already_accepted`)")
    @blp.alt_response(422, schema=ApplicationRefusedErrorSchema,
                      description="refused: `age` (outside the class's limits on the acceptance day), "
                                  "`medical_expired` (certificate older than six months), `class_not_initial` "
                                  "(a class only added to a licence held)")
    def post(self, data):
        """Accept an application (受理) at the counter, or a driving school's submission keyed in"""
        officer = current_user()
        return applications.accept(officer.office, data, clock.now(), clock.local_today(officer.office.timezone),
                                   actor=officer)

    @auth(blp, *STAFF)
    @blp.arguments(ApplicationQueryArgsSchema, location="query")
    @blp.response(200, ApplicationSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, args):
        """The office's accepted applications, newest first; by ID number (staff)"""
        return applications.search(current_user(), args["id_number"])


@blp.route("/candidates/<int:candidate_id>/learner-permit")
class LearnerPermitResource(MethodView):
    @auth(blp, *STAFF)
    @idempotent(blp)
    @blp.arguments(LearnerPermitSchema)
    @blp.response(200, ExamProgressSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such candidate in your office")
    @blp.alt_response(422, schema=ErrorSchema, description="the record is not valid (fields named)")
    def put(self, data, candidate_id):
        """Enter or correct a candidate's learner permit and subjects passed (e.g. at another centre)"""
        candidate = permits.enter_permit(current_user(), candidate_id, data, clock.now(), clock.local_today())
        return eligibility.progress(candidate, _settings(), clock.local_today())
