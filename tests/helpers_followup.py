"""Helpers for the follow-up, escalation and statistics tests: queued follow-ups and signed webhooks."""
import hashlib
import hmac
import json
from datetime import datetime

from tests.conftest import FROZEN_NOW

SECRET = "test-sms-secret"
NOW_TS = int(datetime.fromisoformat(FROZEN_NOW).timestamp())


def signature(body: bytes, timestamp: str, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def post_inbound(client, payload: dict, *, timestamp: int | None = None, secret: str = SECRET,
                 sign: bool = True):
    body = json.dumps(payload, ensure_ascii=False).encode()
    ts = str(NOW_TS if timestamp is None else timestamp)
    headers = {"Content-Type": "application/json"}
    if sign:
        headers.update({"X-Timestamp": ts, "X-Signature": signature(body, ts, secret)})
    return client.post("/api/v1/sms/inbound", data=body, headers=headers)


def queue_follow_up(app, phone: str, officer_id: int | None, subject_id: int, *, office: str = "nanchuan",
                    subject_type: str = "fleet_vehicle", sent_at: datetime | None = None, body: str | None = None,
                    created_at: datetime | None = None):
    """Queue a follow-up as a finished case does; with `sent_at`, mark it sent then. Returns its id."""
    from vmo.extensions import db
    from vmo.notify import services as notify
    from vmo.offices.services import get_office

    with app.app_context():
        message = notify.queue(get_office(office).id, phone, body or f"case {subject_type} {subject_id}: reply 1 or 2",
                               kind="follow_up", key=f"follow_up:{subject_type}:{subject_id}",
                               subject_type=subject_type, subject_id=subject_id, officer_id=officer_id)
        if created_at or sent_at:
            message.created_at = created_at or sent_at
        if sent_at is not None:
            message.status, message.sent_at, message.attempts = "sent", sent_at, 1
        db.session.commit()
        return message.id
