"""HTTP resources: sign-in, sign-up, the current user, staff accounts and offices."""
from functools import partial
from types import SimpleNamespace

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from vmo import clock, hooks, limits, settings
from vmo.accounts import companies, services, signup
from vmo.accounts.codes import Codes
from vmo.accounts.models import STAFF_ROLES, Role
from vmo.accounts.schemas import (
    CandidateCreateSchema, CandidateSignupSchema, CandidateVerifySchema, CompanyApproveSchema, CompanyCreateSchema,
    CompanyDeclineSchema, CompanyQueryArgsSchema, CompanySchema, MeSchema, OfficeSchema, PasswordResetConfirmSchema,
    PasswordResetRequestSchema, PasswordResetSchema, StaffCompanySchema, StaffCreateSchema,
    TokenRequestSchema, TokenSchema, UserSchema,
)
from vmo.audit import phones
from vmo.http.auth import auth, bearer_token, current_user
from vmo.http.caching import public_page
from vmo.http.idempotency import idempotent
from vmo.http.paging import SelectPage
from vmo.offices import services as offices
from vmo.schemas_common import ErrorSchema
from vmo.offices.settings import default_office_code

blp = Blueprint("accounts", __name__, url_prefix="/api/v1", description="Sign-in, sign-up and accounts")


def _auth() -> services.AuthSettings:
    return settings.get(services.AuthSettings)


def _codes() -> Codes:
    """The key of the codes' hashes (the app's secret) and the features' acceptance look-ups."""
    return Codes(key=str(current_app.config["SECRET_KEY"]).encode(),
                 lookups=tuple(hooks.registered(hooks.CANDIDATE_ACCEPTANCE)))


def _signed_in(issued: services.IssuedToken) -> dict:
    return {"token": issued.token, "expires_at": issued.expires_at, "role": issued.user.role,
            "username": issued.user.username}


def _signup_office(code: str | None):
    return offices.get_office(code or default_office_code())


@blp.route("/auth/token")
class TokenResource(MethodView):
    @limits.login(blp)
    @blp.arguments(TokenRequestSchema)
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="wrong username or password")
    @blp.alt_response(403, schema=ErrorSchema, description="the right password, but the sign-up's code has not "
                                                           "been entered yet (`reason`: `phone_unverified`)")
    def post(self, data):
        """Sign in and get a bearer token"""
        issued = services.login(data["username"], data["password"], _auth(), clock.now(), limits.lockout(),
                                pending=partial(signup.at_sign_in, codes=_codes()))
        return {"token": issued.token, "expires_at": issued.expires_at, "role": issued.user.role}


@blp.route("/auth/logout")
class LogoutResource(MethodView):
    @auth(blp)
    @blp.response(204)
    def post(self):
        """Revoke the token this request was sent with"""
        services.logout(bearer_token(), clock.now())


@blp.route("/me")
class MeResource(MethodView):
    @auth(blp)
    @blp.response(200, MeSchema)
    def get(self):
        """The signed-in account, with its company or candidate profile"""
        user = current_user()
        profile = {"company": None, "candidate": None}
        if user.role == Role.COMPANY:
            profile["company"] = services.company_of(user)
        elif user.role == Role.CANDIDATE:
            profile["candidate"] = services.candidate_of(user)
        fields = ("id", "username", "role", "display_name", "badge_number", "office", "supervisor", "created_at")
        return SimpleNamespace(**{name: getattr(user, name) for name in fields}, **profile)


@blp.route("/companies")
class CompaniesResource(MethodView):
    @limits.signups(blp)
    @idempotent(blp)
    @blp.arguments(CompanyCreateSchema)
    @blp.response(201, CompanySchema)
    @blp.alt_response(409, schema=ErrorSchema, description="username or credit code already registered")
    def post(self, data):
        """Sign up a company (public): it is `pending` until an officer has checked its business licence"""
        return services.register_company(_signup_office(data.pop("office")), data, _auth())

    @auth(blp, *STAFF_ROLES)
    @blp.arguments(CompanyQueryArgsSchema, location="query")
    @blp.response(200, StaffCompanySchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, args):
        """The office's companies, oldest sign-up first (`?status=pending`: those waiting for a decision)"""
        return companies.list_companies(current_user().office_id, args["status"])


@blp.route("/companies/<int:company_id>")
class CompanyResource(MethodView):
    @auth(blp, *STAFF_ROLES)
    @blp.response(200, StaffCompanySchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such company in this office")
    def get(self, company_id):
        """One company of the office"""
        return companies.get_company(current_user(), company_id)


@blp.route("/companies/<int:company_id>/approve")
class CompanyApproveResource(MethodView):
    @auth(blp, Role.OFFICER, Role.SUPERVISOR)
    @blp.arguments(CompanyApproveSchema)
    @blp.response(200, StaffCompanySchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such company in this office")
    @blp.alt_response(409, schema=ErrorSchema, description="already approved (`reason`: `already_approved`)")
    @blp.alt_response(422, schema=ErrorSchema, description="the licence's credit code is another "
                                                            "(`reason`: `credit_code_mismatch`), or a declined "
                                                            "company without it (`licence_required`)")
    def post(self, data, company_id):
        """Approve a company after checking its business licence against the credit code (the contact is texted)"""
        return companies.approve_company(current_user(), company_id, data["licence_credit_code"], clock.now())


@blp.route("/companies/<int:company_id>/decline")
class CompanyDeclineResource(MethodView):
    @auth(blp, Role.OFFICER, Role.SUPERVISOR)
    @blp.arguments(CompanyDeclineSchema)
    @blp.response(200, StaffCompanySchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such company in this office")
    @blp.alt_response(409, schema=ErrorSchema, description="already decided (`reason`: `already_approved` or "
                                                            "`already_declined`)")
    def post(self, data, company_id):
        """Decline a pending company with a reason, texted to its contact"""
        return companies.decline_company(current_user(), company_id, data["reason"], clock.now())


@blp.route("/candidates")
class CandidatesResource(MethodView):
    @limits.signups(blp)
    @idempotent(blp)
    @blp.arguments(CandidateCreateSchema)
    @blp.response(201, CandidateSignupSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="username taken (any ID number answers 201 alike: "
                                                            "accepted or not, with an account or not)")
    def post(self, data):
        """Sign up a driving-test candidate (public); the account opens once the code texted to the phone
        recorded at acceptance (受理) is entered"""
        office = _signup_office(data.pop("office"))
        return signup.sign_up(office, data, _auth(), clock.local_today(office.timezone), clock.now(), _codes())


@blp.route("/candidates/verify")
class CandidateVerifyResource(MethodView):
    @limits.login(blp)
    @blp.arguments(CandidateVerifySchema)
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="wrong username or password")
    @blp.alt_response(422, schema=ErrorSchema, description="wrong or expired code (`reason`: `wrong_code`)")
    def post(self, data):
        """Enter the code texted at sign-up: the account opens and is signed in"""
        issued = signup.verify(data["username"], data["password"], data["code"], _auth(), clock.now(), _codes(),
                               limits.lockout())
        return {"token": issued.token, "expires_at": issued.expires_at, "role": issued.user.role}


@blp.route("/candidates/password-reset")
class PasswordResetResource(MethodView):
    @limits.signups(blp)
    @blp.arguments(PasswordResetRequestSchema)
    @blp.response(202, PasswordResetSchema)
    def post(self, data):
        """A candidate who lost their password asks for a code (public): it goes to the phone recorded at
        acceptance, and the answer is the same whether or not the ID number has an account"""
        return signup.request_password_reset(data["id_number"], clock.local_today(), clock.now(), _codes())


@blp.route("/candidates/password-reset/confirm")
class PasswordResetConfirmResource(MethodView):
    @limits.login(blp)
    @blp.arguments(PasswordResetConfirmSchema)
    @blp.response(200, TokenSchema)
    @blp.alt_response(422, schema=ErrorSchema, description="wrong or expired code, or no such account: the same "
                                                           "answer (`reason`: `wrong_code`)")
    def post(self, data):
        """Set a new password with the texted code: every other session ends, and this one is signed in
        (the answer names the username, which a person may have forgotten too)"""
        issued = signup.confirm_password_reset(data["id_number"], data["code"], data["password"], _auth(),
                                               clock.now(), _codes())
        return _signed_in(issued)


@blp.route("/staff")
class StaffResource(MethodView):
    @auth(blp, Role.ADMIN, Role.SUPERVISOR, Role.OFFICER)
    @blp.response(200, UserSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self):
        """Staff accounts of the signed-in user's office"""
        return services.list_staff(current_user().office_id)

    @auth(blp, Role.ADMIN)
    @idempotent(blp)
    @blp.arguments(StaffCreateSchema)
    @blp.response(201, UserSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="username taken")
    def post(self, data):
        """Create a staff account in the admin's office"""
        admin = current_user()
        return services.create_staff(admin.office, data["username"], data["password"], data["role"], _auth(),
                                     display_name=data["display_name"], badge_number=data["badge_number"],
                                     supervisor_username=data["supervisor"], actor=admin)


@blp.route("/offices")
class OfficesResource(MethodView):
    @public_page
    @blp.response(200, OfficeSchema(many=True))
    def get(self):
        """Offices served by this deployment (public)"""
        return offices.list_offices()


def register(app, api) -> None:
    settings.install(app, services.AuthSettings)
    phones.provide(app, "company", companies.reveal_phone)
    api.register_blueprint(blp)
