"""The booking core: conditional take/release/resize on a slot, and the CHECK constraints behind them."""
import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from vmo.booking import services as booking
from vmo.booking.models import Slot
from vmo.errors import Conflict, RuleViolation
from vmo.extensions import db
from vmo.offices.services import get_office


@pytest.fixture
def slot_id(app, factory):
    with app.app_context():
        slot = booking.create_slot(get_office(factory.office).id, "test", 5)
        db.session.commit()
        return slot.id


def state(slot_id):
    slot = db.session.get(Slot, slot_id)
    db.session.refresh(slot)
    return slot.capacity, slot.booked, slot.available


def test_take_until_full(app, slot_id):
    with app.app_context():
        assert booking.try_take(slot_id, 3) is True
        assert booking.try_take(slot_id, 3) is False
        assert booking.try_take(slot_id, 2) is True
        db.session.commit()
        assert state(slot_id) == (5, 5, 0)
        with pytest.raises(Conflict) as caught:
            booking.take(slot_id, 1, message="full")
        assert (caught.value.message, caught.value.extra) == ("full", {"available": 0})


def test_release_and_resize(app, slot_id):
    with app.app_context():
        booking.take(slot_id, 4)
        booking.release(slot_id, 1)
        db.session.commit()
        assert state(slot_id) == (5, 3, 2)
        with pytest.raises(RuntimeError):
            booking.release(slot_id, 4)
        with pytest.raises(Conflict) as caught:
            booking.resize(slot_id, 2)
        assert caught.value.extra == {"booked": 3}
        booking.resize(slot_id, 3)
        db.session.commit()
        assert state(slot_id) == (3, 3, 0)


def test_bad_arguments(app, slot_id):
    with app.app_context():
        for call in (lambda: booking.try_take(slot_id, 0), lambda: booking.release(slot_id, -1)):
            with pytest.raises(ValueError):
                call()
        with pytest.raises(RuleViolation):
            booking.resize(slot_id, -1)
        with pytest.raises(RuleViolation):
            booking.create_slot(1, "test", -1)


def test_nothing_is_held_until_the_caller_commits(app, slot_id):
    with app.app_context():
        booking.take(slot_id, 2)
        db.session.rollback()
        assert state(slot_id) == (5, 0, 5)


def test_the_database_refuses_an_overbooked_slot(app, slot_id):
    with app.app_context():
        with pytest.raises(IntegrityError):
            db.session.execute(update(Slot).where(Slot.id == slot_id).values(booked=6))
            db.session.commit()
        db.session.rollback()
        with pytest.raises(IntegrityError):
            db.session.execute(update(Slot).where(Slot.id == slot_id).values(booked=-1))
            db.session.commit()
        db.session.rollback()
