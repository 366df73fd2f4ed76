"""HTTP resources of the mobile endpoint: assignments, inspection sync, inspections and their photos."""
import json

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint

from mobile_api import services
from mobile_api.schemas import (
    AssignmentsSchema, MobileInspectionSchema, PhotoMismatchErrorSchema, PhotoQueryArgsSchema, PhotoSchema,
    PhotoTooLargeErrorSchema, SyncAnswerSchema, SyncSchema,
)
from mobile_api.storage import make_storage
from vmo import clock, settings
from vmo.accounts.models import Role
from vmo.bounds import checks_own_text
from vmo.errors import TooLarge
from vmo.http.auth import auth, current_user
from vmo.http.caching import etag_response
from vmo.schemas_common import ErrorSchema

blp = Blueprint("mobile", __name__, url_prefix="/api/v1/mobile",
                description="The field officers' tablets: assignments, offline inspection sync, photos")
PHOTO_READERS = (Role.OFFICER, Role.SUPERVISOR, Role.ADMIN)
NOT_MODIFIED = "Not modified: the ETag sent in If-None-Match is still current"


def _settings() -> services.MobileSettings:
    return settings.get(services.MobileSettings)


def photo_storage():
    """The configured photo storage, made once per app (PHOTO_STORAGE, PHOTO_DIR)."""
    store = current_app.extensions.get("mobile_api.photo_storage")
    if store is None:
        config = _settings()
        store = make_storage(config.photo_storage, config.photo_dir, current_app.instance_path)
        current_app.extensions["mobile_api.photo_storage"] = store
    return store


@blp.route("/assignments")
class AssignmentsResource(MethodView):
    @auth(blp, Role.OFFICER)
    @blp.response(200, AssignmentsSchema, description="Strong ETag from the content")
    @blp.alt_response(304, description=NOT_MODIFIED)
    def get(self):
        """The signed-in officer's tours and home visits from today, with stops, registrations and the checklist"""
        data = services.assignments(current_user(), clock.local_today(), _settings())
        # A stable serialisation (sorted keys) so the same content always has the same ETag.
        body = json.dumps(AssignmentsSchema().dump(data), sort_keys=True, ensure_ascii=False).encode()
        return etag_response(body, "application/json")


@blp.route("/inspections/sync")
class SyncResource(MethodView):
    @checks_own_text  # a NUL in one record rejects that record, not the batch (see InspectionRecordSchema)
    @auth(blp, Role.OFFICER)
    @blp.arguments(SyncSchema)
    @blp.response(200, SyncAnswerSchema, description="One answer per record, in the order sent")
    @blp.alt_response(403, schema=ErrorSchema, description="not assigned to any stop named in the batch")
    @blp.alt_response(422, schema=ErrorSchema, description="a malformed envelope, or too many records")
    def post(self, data):
        """Sync a batch of inspections logged on a tablet (exactly once, whatever is resent)"""
        return services.sync_inspections(current_user(), data["device_id"], data["sent_at"], data["records"],
                                         clock.now(), _settings())


@blp.route("/inspections/<string:client_id>")
class InspectionResource(MethodView):
    @auth(blp, *PHOTO_READERS)
    @blp.response(200, MobileInspectionSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such inspection, or not yours")
    def get(self, client_id):
        """A synced inspection with its photos (the officer who logged it, or a supervisor)"""
        return services.describe_inspection(current_user(), client_id)


@blp.route("/inspections/<string:client_id>/photos/<string:sha256>")
class PhotoResource(MethodView):
    @auth(blp, *PHOTO_READERS)
    @blp.doc(requestBody={"required": True, "description": "The raw bytes of one JPEG or PNG, at most PHOTO_MAX_BYTES",
                          "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                                      "image/png": {"schema": {"type": "string", "format": "binary"}},
                                      "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}})
    @blp.arguments(PhotoQueryArgsSchema, location="query")
    @blp.response(201, PhotoSchema, description="The photo was added")
    @blp.alt_response(200, schema=PhotoSchema, description="The photo was already there: nothing changed")
    @blp.alt_response(404, schema=ErrorSchema, description="no such inspection, or not yours")
    @blp.alt_response(413, schema=PhotoTooLargeErrorSchema, description="larger than PHOTO_MAX_BYTES")
    @blp.alt_response(415, schema=ErrorSchema, description="neither a JPEG nor a PNG")
    @blp.alt_response(422, schema=PhotoMismatchErrorSchema, description="the bytes do not match the SHA-256 in the address")
    def put(self, args, client_id, sha256):
        """Add a photo to an inspection; the address names its SHA-256, so sending it again is harmless"""
        config = _settings()
        # Refuse a declared oversize body before reading it; a chunked one is measured after reading.
        if request.content_length is not None and request.content_length > config.photo_max_bytes:
            raise TooLarge(
                f"a photo may be at most {config.photo_max_bytes} bytes, this one has {request.content_length}",
                max_bytes=config.photo_max_bytes)
        photo, created = services.add_photo(current_user(), client_id, sha256, request.get_data(cache=False),
                                            photo_storage(), clock.now(), config,
                                            kind=args["kind"])
        return photo, 201 if created else 200

    @auth(blp, *PHOTO_READERS)
    @blp.response(200, description="The photo's bytes (image/jpeg or image/png)")
    @blp.doc(responses={"200": {"content": {kind: {"schema": {"type": "string", "format": "binary"}}
                                            for kind in ("image/jpeg", "image/png")}}})
    @blp.alt_response(304, description=NOT_MODIFIED)
    @blp.alt_response(404, schema=ErrorSchema, description="no such photo, or not yours")
    def get(self, client_id, sha256):
        """A photo's bytes (the officer who logged the inspection, or a supervisor)"""
        photo, data = services.get_photo(current_user(), client_id, sha256, photo_storage())
        response = etag_response(data, photo.content_type)
        response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
        return response


BLUEPRINTS: list = [blp]
