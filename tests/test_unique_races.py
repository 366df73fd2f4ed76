"""Two concurrent requests racing for one unique value: one succeeds, the other is a 409 in the error
shape, never a 500. On PostgreSQL, where writers really run at once.

Each race makes both requests pass their duplicate checks before either writes: the first write
statement of each waits for the other's (a barrier in the engine), so the database's unique
constraint is what refuses the second, through vmo.integrity's table.
"""
import contextlib
import threading

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine

from tests.conftest import PASSWORD, PG_URL, make_credit_code, make_id_number
from tests.helpers_fleet import company, open_day, submit
from tests.helpers_tours import create_tour, publish
from vmo import integrity
from vmo.extensions import db

WRITES = ("INSERT", "UPDATE", "DELETE")


@pytest.fixture(params=["postgresql"] if PG_URL else [])
def backend(request):
    return request.param


@contextlib.contextmanager
def first_writes_meet(parties: int = 2):
    """The first write statement of each of `parties` requests waits until all have reached theirs."""
    barrier = threading.Barrier(parties, timeout=20)
    state = {"left": parties, "seen": set()}
    lock = threading.Lock()

    def before(conn, cursor, statement, params, context, executemany):
        if not statement.lstrip().upper().startswith(WRITES):
            return
        me = threading.get_ident()
        with lock:
            if me in state["seen"] or state["left"] == 0:
                return
            state["seen"].add(me)
            state["left"] -= 1
        barrier.wait()

    event.listen(Engine, "before_cursor_execute", before)
    try:
        yield
    finally:
        event.remove(Engine, "before_cursor_execute", before)


def race(app, *calls):
    """Run each call (given a fresh test client) in its own thread, their first writes meeting."""
    answers = [None] * len(calls)

    def run(i, call):
        answers[i] = call(app.test_client())

    with first_writes_meet(len(calls)):
        threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    return answers


def one_won(answers, created=201):
    codes = sorted(a.status_code for a in answers)
    assert codes == sorted([created, 409]), [a.get_json() for a in answers]
    loser = next(a for a in answers if a.status_code == 409).get_json()
    assert loser["code"] == 409 and loser["status"] == "Conflict" and loser["request_id"]
    return loser


def count(app, column, value):
    with app.app_context():
        return db.session.scalar(select(func.count()).where(column == value))


def _company(factory, **overrides):
    return {"name": "南川区丰昌汽车服务有限公司", "credit_code": make_credit_code(factory.rng), "contact_name": "李明",
            "contact_phone": "13800138000", "username": "co-race", "password": PASSWORD, **overrides}


def _candidate(factory, **overrides):
    return {"name": "王芳", "id_number": make_id_number(factory.rng), "phone": "13900139000",
            "license_class": "C1", "username": "cand-race", "password": PASSWORD, **overrides}


def test_two_sign_ups_for_one_username(app, factory):
    from vmo.accounts.models import User

    factory.office  # noqa: B018
    loser = one_won(race(app, *[lambda c, body=_company(factory): c.post("/api/v1/companies", json=body)
                                for _ in range(2)]))
    assert loser["errors"] == {"json": {"username": ["already taken"]}}
    assert count(app, User.username, "co-race") == 1


def test_two_companies_with_one_credit_code(app, factory):
    from vmo.accounts.models import Company

    factory.office  # noqa: B018
    code = make_credit_code(factory.rng)
    loser = one_won(race(app, *[lambda c, n=n: c.post("/api/v1/companies",
                                                      json=_company(factory, credit_code=code, username=f"co-{n}"))
                                for n in range(2)]))
    assert loser["errors"] == {"json": {"credit_code": ["already registered"]}}
    assert count(app, Company.credit_code, code) == 1


def test_two_candidates_with_one_id_number(app, factory):
    """Both sign-ups are accepted alike (nothing confirms a number to a stranger); one opens."""
    from vmo.accounts.models import Candidate

    factory.office  # noqa: B018
    number = make_id_number(factory.rng)
    factory.application(number)  # accepted (受理): each sign-up gets a code, texted to the accepted phone
    signed_up = race(app, *[lambda c, n=n: c.post("/api/v1/candidates",
                                                  json=_candidate(factory, id_number=number, username=f"ca-{n}"))
                            for n in range(2)])
    assert [a.status_code for a in signed_up] == [201, 201], [a.get_json() for a in signed_up]
    assert count(app, Candidate.id_number, number) == 0  # nothing opens before its code
    codes = [factory.texted_code(f"ca-{n}") for n in range(2)]
    verified = race(app, *[lambda c, n=n: c.post("/api/v1/candidates/verify", json={
        "username": f"ca-{n}", "password": PASSWORD, "code": codes[n]}) for n in range(2)])
    statuses = sorted(a.status_code for a in verified)
    assert statuses[0] == 200 and statuses[1] in (409, 422), [a.get_json() for a in verified]
    loser = next(a for a in verified if a.status_code != 200).get_json()
    # The loser hears "try again" or "wrong code", never that the number is registered.
    assert loser["message"] == integrity.RACE or loser["reason"] == "wrong_code"
    assert count(app, Candidate.id_number, number) == 1


def test_two_staff_accounts_with_one_username(app, factory):
    admin = factory.headers(factory.staff("admin"))
    body = {"username": "officer-race", "password": PASSWORD, "role": "officer"}
    loser = one_won(race(app, *[lambda c: c.post("/api/v1/staff", json=body, headers=admin) for _ in range(2)]))
    assert loser["errors"] == {"json": {"username": ["already taken"]}}


def test_two_batches_with_one_vin(app, factory):
    from vmo.fleet.models import FleetVehicle

    owner = company(factory)
    vehicles = factory.vehicles(1)
    answers = race(app, *[lambda c: submit(c, owner.headers, vehicles) for _ in range(2)])
    assert sorted(a.status_code for a in answers)[0] == 201
    assert sorted(a.status_code for a in answers)[1] in (409, 422), [a.get_json() for a in answers]
    assert count(app, FleetVehicle.vin, vehicles[0]["vin"]) == 1


def test_two_priority_confirmations_for_one_person(app, client, factory):
    """One ID number asking twice with two phones and confirming both at once: one place, one booking."""
    from tests.test_priority import URL, person, texted_code
    from vmo.priority.models import PriorityBooking

    factory.office  # noqa: B018
    phones = ["13983000031", "13983000032"]
    for phone in phones:
        assert client.post(URL, json=person(phone=phone)).status_code == 202
    codes = [texted_code(app, phone) for phone in phones]
    answers = race(app, *[lambda c, p=p, code=code: c.post(f"{URL}/confirm", json={"phone": p, "code": code})
                          for p, code in zip(phones, codes)])
    assert sorted(a.status_code for a in answers) == [201, 409], [a.get_json() for a in answers]
    with app.app_context():
        assert db.session.scalar(select(func.count(PriorityBooking.id))
                                 .where(PriorityBooking.active_id_number == person()["id_number"])) == 1


def test_two_registrations_of_one_plate_on_a_tour(app, client, factory):
    from schedules.tours.models import StopRegistration

    officer = factory.staff("officer")
    headers = factory.headers(officer)
    tour = create_tour(client, headers, [officer])
    publish(client, headers, tour["id"])
    urls = [f"/api/v1/tours/{tour['id']}/stops/{tour['stops'][i]['id']}/registrations" for i in (0, 1)]
    body = {"plate": "渝G54321", "owner_name": "王德明", "phone": "13900000001"}
    answers = race(app, *[lambda c, url=url: c.post(url, json=body) for url in urls])
    one_won(answers)
    with app.app_context():
        assert db.session.scalar(select(func.count(StopRegistration.id))
                                 .where(StopRegistration.active_plate == "渝G54321")) == 1


def test_the_core_table_names_core_constraints_and_each_feature_adds_its_own(app):
    core_modules = ("vmo.accounts.", "vmo.offices.", "vmo.notify.", "vmo.idempotency.")
    module_of = {m.local_table.name: m.class_.__module__ for m in db.Model.registry.mappers}
    table_of = {c.name: t.name for t in db.metadata.tables.values() for c in [*t.constraints, *t.indexes] if c.name}
    assert all(module_of[table_of[name]].startswith(core_modules) for name in integrity.CONFLICTS)
    with app.app_context():
        table = integrity.conflicts()
        # The features' constraints are there (tours, exams and the tablets' photos among them).
        assert {"tour_active_plate", "uq_exam_bookings_active_key", "tour_inspection_photo",
                "office_vin"} <= table.keys() and integrity.CONFLICTS.keys() <= table.keys()
    with pytest.raises(ValueError, match="tour_officer"):
        integrity.register(app, {"tour_officer": integrity.Unique("twice")})
