"""The yardstick for vmo's booking: a booking in plain Flask-SQLAlchemy on vmo's own tables.

Token look-up, the conditional UPDATE of the seats, the INSERT of the booking, the commit; no
rules, no audit, no schema: what the atomic work alone costs on the same server and database.
"""
import hashlib
import os
import threading
from datetime import datetime, timezone

from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, Table, select, text

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
db = SQLAlchemy(app)
metadata = MetaData()
tables = {}
reflecting = threading.Lock()  # gthread workers: two first requests must not reflect into one MetaData at once


def table(name):
    if name not in tables:  # reflected once per worker, on first use
        with reflecting:
            if name not in tables:
                tables[name] = Table(name, metadata, autoload_with=db.engine)
    return tables[name]


@app.post("/api/v1/test-sessions/<int:session_id>/bookings")
def book(session_id):
    tokens, candidates, bookings = table("tokens"), table("candidates"), table("exam_bookings")
    digest = hashlib.sha256(request.headers.get("Authorization", "").removeprefix("Bearer ").encode()).hexdigest()
    now = datetime.now(timezone.utc)
    candidate_id = db.session.scalar(
        select(candidates.c.id).join(tokens, tokens.c.user_id == candidates.c.user_id)
        .where(tokens.c.token_hash == digest, tokens.c.revoked_at.is_(None), tokens.c.expires_at > now))
    if candidate_id is None:
        return {"error": "unauthorized"}, 401
    seat = db.session.execute(text(
        "UPDATE slots SET booked = booked + 1 FROM test_sessions WHERE test_sessions.id = :id"
        " AND slots.id = test_sessions.slot_id AND slots.booked < slots.capacity"
        " RETURNING test_sessions.office_id, test_sessions.subject"), {"id": session_id}).first()
    if seat is None:
        db.session.rollback()
        return {"error": "full"}, 409
    booking_id = db.session.execute(bookings.insert().returning(bookings.c.id).values(
        office_id=seat.office_id, session_id=session_id, candidate_id=candidate_id, subject=seat.subject,
        status="confirmed", active_key=f"{candidate_id}:{seat.subject}", changes=0, sequence=0,
        created_at=now, updated_at=now)).scalar_one()
    db.session.commit()
    return {"id": booking_id, "session_id": session_id, "status": "confirmed"}, 201
