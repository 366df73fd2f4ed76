"""Wire formats for sign-up, sign-in and accounts."""
from marshmallow import Schema, fields, validate

from vmo.accounts.models import LICENSE_CLASSES, STAFF_ROLES, CompanyStatus
from vmo.fields import CreditCode, Mobile, ResidentId
from vmo.redact import mask_phone
from vmo.types import values

USERNAME = validate.Regexp(r"^[A-Za-z0-9_.@-]{3,64}$", error="3-64 letters, digits or _ . @ -")


class TokenRequestSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(1, 64), metadata={"example": "fengchang"})
    password = fields.String(required=True, validate=validate.Length(1, 256), load_only=True,
                             metadata={"example": "demo-pass-2026"})


class TokenSchema(Schema):
    token = fields.String(required=True, metadata={"description": "Send as `Authorization: Bearer <token>`"})
    expires_at = fields.AwareDateTime(required=True)
    role = fields.String(required=True)
    username = fields.String(metadata={"description": "After a password reset: the account's username"})


class SignUpBase(Schema):
    username = fields.String(required=True, validate=USERNAME, metadata={"example": "nc-lanxin"})
    password = fields.String(required=True, load_only=True, validate=validate.Length(8, 256),
                             metadata={"description": "At least 8 characters", "example": "correct-horse-battery"})
    office = fields.String(load_default=None, validate=validate.Length(1, 40),
                           metadata={"description": "Office code; the deployment's default office if omitted"})


class CompanyCreateSchema(SignUpBase):
    name = fields.String(required=True, validate=validate.Length(1, 200), metadata={"example": "南川区丰昌汽车服务有限公司"})
    credit_code = CreditCode(required=True,
                                metadata={"description": "18-character unified social credit code (GB 32100)",
                                          "example": "91500119MA5U3L6W6W"})
    contact_name = fields.String(required=True, validate=validate.Length(1, 120), metadata={"example": "李明"})
    contact_phone = Mobile(required=True, metadata={"example": "13800138000"})


class CompanySchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    credit_code = fields.String(required=True)
    contact_name = fields.String(required=True)
    contact_phone = fields.String(required=True)
    username = fields.Function(lambda c: c.user.username, required=True)
    office = fields.Function(lambda c: c.user.office.code, required=True)
    created_at = fields.AwareDateTime(required=True)
    status = fields.String(required=True, metadata={
        "description": "pending (signed up, not checked yet: it may submit batches but book nothing scarce), "
                       "approved (an officer checked the business licence) or declined (see `decline_reason`)",
        "enum": values(CompanyStatus)})
    decided_at = fields.AwareDateTime(allow_none=True, metadata={"description": "When it was approved or declined"})
    decided_by = fields.Function(lambda c: c.decided_by and (c.decided_by.badge_number or c.decided_by.username),
                                 allow_none=True, metadata={"description": "Badge number (or username) of the "
                                                                           "officer who decided"})
    decline_reason = fields.String(allow_none=True)


class StaffCompanySchema(CompanySchema):
    """A company as staff see it: the contact's phone masked like every staff answer (the full number
    through POST /phones/reveal with case type `company`, written to the audit log)."""

    contact_phone = fields.Function(lambda c: mask_phone(c.contact_phone), required=True,
                                    metadata={"description": "Masked (138****5678)"})


class CompanyQueryArgsSchema(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(values(CompanyStatus)))


class CompanyApproveSchema(Schema):
    licence_credit_code = fields.String(load_default=None, validate=validate.Length(1, 18), metadata={
        "description": "The credit code as read off the original business licence (营业执照); when given it must "
                       "be the one the company signed up with (422 `reason`: `credit_code_mismatch`); required "
                       "to approve a declined company (422 `reason`: `licence_required`)",
        "example": "91500119MA5U3L6W6W"})


class CompanyDeclineSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 200), metadata={
        "description": "Texted to the company's contact", "example": "营业执照上的统一社会信用代码与注册填写的不一致"})


class CandidateCreateSchema(SignUpBase):
    name = fields.String(required=True, validate=validate.Length(1, 120), metadata={"example": "王芳"})
    id_number = ResidentId(required=True,
                              metadata={"description": "18-digit resident ID (GB 11643)", "example": "500119199001011233"})
    phone = Mobile(required=True, metadata={"example": "13900139000"})
    license_class = fields.String(required=True, validate=validate.OneOf(LICENSE_CLASSES), metadata={"example": "C1"})


class CandidateSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    id_number = fields.Method("_masked_id", required=True,
                              metadata={"description": "Masked: region code and last four characters"})
    phone = fields.String(required=True)
    license_class = fields.String(required=True)
    username = fields.Function(lambda c: c.user.username, required=True)
    office = fields.Function(lambda c: c.user.office.code, required=True)
    created_at = fields.AwareDateTime(required=True)

    def _masked_id(self, candidate):
        # The full number is personal data; the owner knows it and staff can look it up.
        return candidate.id_number[:6] + "********" + candidate.id_number[-4:]


class CandidateSignupSchema(Schema):
    """The answer to a public sign-up: the same whether or not the ID number already has an account."""
    status = fields.String(required=True, metadata={
        "description": "`pending`: the account opens when the code texted to the phone recorded at acceptance "
                       "(受理) is entered at `POST /api/v1/candidates/verify`; without an accepted application no "
                       "code is sent and it never opens"})
    username = fields.String(required=True)
    name = fields.String(required=True)
    id_number = fields.String(required=True, metadata={"description": "Masked: region code and last four characters"})
    phone = fields.String(required=True, metadata={
        "description": "Masked: the phone typed (the code goes to the phone recorded at acceptance, never to it)"})
    license_class = fields.String(required=True)
    office = fields.String(required=True)
    message = fields.String(required=True)


class CandidateVerifySchema(Schema):
    username = fields.String(required=True, validate=validate.Length(1, 64), metadata={"example": "nc-wangfang"})
    password = fields.String(required=True, validate=validate.Length(1, 256), load_only=True,
                             metadata={"example": "correct-horse-battery"})
    code = fields.String(required=True, validate=validate.Regexp(r"^\s*\d{6}\s*$", error="6 digits"),
                         metadata={"description": "The 6-digit code texted to the phone given at sign-up",
                                   "example": "123456"})


class PasswordResetRequestSchema(Schema):
    id_number = ResidentId(required=True, metadata={"description": "The candidate's 18-digit resident ID",
                                                    "example": "500119199001011233"})


class PasswordResetSchema(Schema):
    """The same answer whether or not the ID number has an account."""
    status = fields.String(required=True, metadata={"description": "`pending`: enter the code at "
                                                                   "`POST /api/v1/candidates/password-reset/confirm`"})
    message = fields.String(required=True)


class PasswordResetConfirmSchema(Schema):
    id_number = fields.String(required=True, validate=validate.Length(18, 18), metadata={"example": "500119199001011233"})
    code = fields.String(required=True, validate=validate.Regexp(r"^\s*\d{6}\s*$", error="6 digits"),
                         metadata={"description": "The 6-digit code texted to the phone recorded at acceptance",
                                   "example": "123456"})
    password = fields.String(required=True, load_only=True, validate=validate.Length(8, 256),
                             metadata={"description": "The new password, at least 8 characters",
                                       "example": "correct-horse-battery"})


class StaffCreateSchema(Schema):
    username = fields.String(required=True, validate=USERNAME, metadata={"example": "officer3"})
    password = fields.String(required=True, load_only=True, validate=validate.Length(8, 256),
                             metadata={"example": "correct-horse-battery"})
    role = fields.String(required=True, validate=validate.OneOf(STAFF_ROLES))
    display_name = fields.String(load_default=None, validate=validate.Length(1, 120))
    badge_number = fields.String(load_default=None, validate=validate.Length(1, 32))
    supervisor = fields.String(load_default=None, metadata={"description": "Username of the officer's supervisor"})


class UserSchema(Schema):
    id = fields.Integer(required=True)
    username = fields.String(required=True)
    role = fields.String(required=True)
    display_name = fields.String(allow_none=True)
    badge_number = fields.String(allow_none=True)
    office = fields.Function(lambda u: u.office.code, required=True)
    supervisor = fields.Function(lambda u: u.supervisor.username if u.supervisor else None, allow_none=True)
    created_at = fields.AwareDateTime(required=True)


class MeSchema(UserSchema):
    company = fields.Nested(CompanySchema, allow_none=True)
    candidate = fields.Nested(CandidateSchema, allow_none=True)


class OfficeSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    timezone = fields.String(required=True)
    plate_prefix = fields.String(required=True)
    address = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
