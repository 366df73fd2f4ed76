"""HTTP resources: sign-in, sign-up, the current user, staff accounts and offices."""
from types import SimpleNamespace

from flask.views import MethodView
from flask_smorest import Blueprint

from vmo import clock, limits, settings
from vmo.accounts import companies, services
from vmo.accounts.models import STAFF_ROLES, Role
from vmo.accounts.schemas import (
    CandidateCreateSchema, CandidateSignupSchema, CandidateVerifySchema, CompanyApproveSchema, CompanyCreateSchema,
    CompanyDeclineSchema, CompanyQueryArgsSchema, CompanySchema, MeSchema, OfficeSchema, StaffCreateSchema,
    TokenRequestSchema, TokenSchema, UserSchema,
)
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


def _signup_office(code: str | None):
    return offices.get_office(code or default_office_code())


@blp.route("/auth/token")
class TokenResource(MethodView):
    @limits.login(blp)
    @blp.arguments(TokenRequestSchema)
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="wrong username or password")
    @blp.alt_response(403, schema=ErrorSchema, description="the right password, but the phone given at sign-up "
                                                           "is not verified yet (`reason`: `phone_unverified`)")
    def post(self, data):
        """Sign in and get a bearer token"""
        issued = services.login(data["username"], data["password"], _auth(), clock.now(), limits.lockout())
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
    @blp.response(200, CompanySchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, args):
        """The office's companies, oldest sign-up first (`?status=pending`: those waiting for a decision)"""
        return companies.list_companies(current_user().office_id, args["status"])


@blp.route("/companies/<int:company_id>")
class CompanyResource(MethodView):
    @auth(blp, *STAFF_ROLES)
    @blp.response(200, CompanySchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such company in this office")
    def get(self, company_id):
        """One company of the office"""
        return companies.get_company(current_user(), company_id)


@blp.route("/companies/<int:company_id>/approve")
class CompanyApproveResource(MethodView):
    @auth(blp, Role.OFFICER, Role.SUPERVISOR)
    @blp.arguments(CompanyApproveSchema)
    @blp.response(200, CompanySchema)
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
    @blp.response(200, CompanySchema)
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
    @blp.alt_response(409, schema=ErrorSchema, description="username taken (an ID number with an account "
                                                            "answers 201 like any other: its owner is told by text)")
    def post(self, data):
        """Sign up a driving-test candidate (public); the account opens once the texted code is entered"""
        return services.sign_up_candidate(_signup_office(data.pop("office")), data, _auth(),
                                          clock.local_today(), clock.now())


@blp.route("/candidates/verify")
class CandidateVerifyResource(MethodView):
    @limits.login(blp)
    @blp.arguments(CandidateVerifySchema)
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="wrong username or password")
    @blp.alt_response(422, schema=ErrorSchema, description="wrong or expired code (`reason`: `wrong_code`)")
    def post(self, data):
        """Enter the code texted at sign-up: the account opens and is signed in"""
        issued = services.verify_candidate(data["username"], data["password"], data["code"], _auth(),
                                           clock.now(), limits.lockout())
        return {"token": issued.token, "expires_at": issued.expires_at, "role": issued.user.role}


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
    api.register_blueprint(blp)
