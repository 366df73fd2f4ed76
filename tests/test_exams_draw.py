"""The ballot through the API and the CLI: applications, seniority tiers, a stored seed, replay and waiting lists."""
import hashlib
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from schedules.exams.draw import replay, verify_record
from tests.helpers_exams import SATURDAY, SUNDAY, candidate, create_session, history, local, set_accepted_at
from vmo.extensions import db

CLOSE = local(date(2026, 11, 26), 20)
AFTER_CLOSE = "2026-11-26T20:00:01+08:00"
SEED = hashlib.sha256(b"fixed seed for the tests").hexdigest()


@pytest.fixture
def app_config(request):
    return {"TOKEN_TTL_HOURS": 24 * 30, **getattr(request, "param", {})}


@pytest.fixture
def officer_headers(factory):
    return factory.headers(factory.staff("officer"))


@pytest.fixture
def ballot(client, officer_headers):
    return create_session(client, officer_headers, allocation="ballot", applications_close_at=CLOSE, capacity=2)


def apply(client, session_id, headers):
    return client.post(f"/api/v1/test-sessions/{session_id}/bookings", headers=headers)


def applicants(app, factory, n, created=None):
    out = []
    for i in range(n):
        cand, headers = candidate(factory)
        set_accepted_at(app, cand["id"], created[i] if created else datetime(2026, 8, 1, 2, tzinfo=timezone.utc))
        out.append((cand, headers))
    return out


def test_applying_to_a_ballot_is_202_applied_and_holds_no_seat(client, factory, ballot):
    _, headers = candidate(factory)
    response = apply(client, ballot["id"], headers)
    assert response.status_code == 202
    assert response.get_json()["status"] == "applied"
    session = client.get(f"/api/v1/test-sessions/{ballot['id']}").get_json()
    assert session["seats_left"] == 2 and session["state"] == "open"


def test_after_the_close_no_application_and_before_it_no_draw(app, client, factory, ballot, officer_headers):
    _, headers = candidate(factory)
    early = client.post(f"/api/v1/test-sessions/{ballot['id']}/draw", headers=officer_headers)
    assert early.status_code == 422 and early.get_json()["reason"] == "applications_open"
    assert early.get_json()["applications_close_at"] == "2026-11-26T20:00:00+08:00"
    assert client.get(f"/api/v1/test-sessions/{ballot['id']}/draw").status_code == 404
    app.config["FROZEN_NOW"] = AFTER_CLOSE
    late = apply(client, ballot["id"], headers)
    assert late.status_code == 422 and late.get_json()["reason"] == "applications_closed"
    assert client.get(f"/api/v1/test-sessions/{ballot['id']}").get_json()["state"] == "applications_closed"


def test_draw_roles_and_kinds(app, client, factory, officer_headers, ballot):
    first_come = create_session(client, officer_headers)
    app.config["FROZEN_NOW"] = AFTER_CLOSE
    assert client.post(f"/api/v1/test-sessions/{ballot['id']}/draw").status_code == 401
    _, headers = candidate(factory)
    assert client.post(f"/api/v1/test-sessions/{ballot['id']}/draw", headers=headers).status_code == 403
    response = client.post(f"/api/v1/test-sessions/{first_come['id']}/draw", headers=officer_headers)
    assert response.status_code == 422 and response.get_json()["reason"] == "not_a_ballot"
    assert client.post("/api/v1/test-sessions/777/draw", headers=officer_headers).status_code == 404
    factory.other_office()
    stranger = factory.headers(factory.staff("officer", office="fuling"))
    assert client.post(f"/api/v1/test-sessions/{ballot['id']}/draw", headers=stranger).status_code == 404
    assert client.get(f"/api/v1/test-sessions/{ballot['id']}/draw").status_code == 404


def test_the_draw_allocates_seats_waitlists_the_rest_and_can_be_replayed(app, client, factory, ballot,
                                                                        officer_headers):
    people = applicants(app, factory, 5)
    applied = [apply(client, ballot["id"], h).get_json() for _, h in people]
    app.config["FROZEN_NOW"] = AFTER_CLOSE
    response = client.post(f"/api/v1/test-sessions/{ballot['id']}/draw", headers=officer_headers)
    assert response.status_code == 201, response.get_json()
    drawn = response.get_json()
    assert drawn["session_id"] == ballot["id"] and drawn["algorithm"] == "vmo-draw-v2" and drawn["verified"] is True
    assert len(drawn["seed"]) == 64 and drawn["capacity"] == 2
    assert sorted(drawn["ranking"]) == sorted(a["id"] for a in applied)
    assert drawn["winners"] == drawn["ranking"][:2] and drawn["waitlist"] == drawn["ranking"][2:]
    assert {a["seniority_date"] for a in drawn["applicants"]} == {"2026-08-01T10:00:00+08:00"}

    # Anyone can recompute it: the published record replays to the same result, and each key is
    # sha256("<seed>:<pseudonym>"); the public record names no candidate, only a pseudonym per draw.
    assert all(set(a) == {"application_id", "pseudonym", "seniority_date"} for a in drawn["applicants"])
    candidate_ids = {cand["id"] for cand, _ in people}
    assert not candidate_ids & {a["pseudonym"] for a in drawn["applicants"]}
    assert all(a["pseudonym"] >= 2 ** 16 for a in drawn["applicants"])
    record = {k: drawn[k] for k in ("algorithm", "key_formula", "seed", "capacity", "ranking", "winners",
                                    "waitlist", "keys")}
    record["applicants"] = [{"application_id": a["application_id"], "candidate_id": a["pseudonym"],
                             "seniority_date": a["seniority_date"]} for a in drawn["applicants"]]
    assert verify_record(record) and replay(record).winners == drawn["winners"]
    by_app = {a["application_id"]: a["pseudonym"] for a in drawn["applicants"]}
    for app_id, key in drawn["keys"].items():
        assert key == hashlib.sha256(f"{drawn['seed']}:{by_app[int(app_id)]}".encode()).hexdigest()
    assert sorted(drawn["ranking"], key=lambda a: drawn["keys"][str(a)]) == drawn["ranking"]

    # Running it again changes nothing and returns the stored draw.
    again = client.post(f"/api/v1/test-sessions/{ballot['id']}/draw", headers=officer_headers)
    assert again.status_code == 200 and again.get_json() == drawn
    assert client.get(f"/api/v1/test-sessions/{ballot['id']}/draw").get_json() == drawn

    statuses = {}
    for (_, headers), booking in zip(people, applied):
        statuses[booking["id"]] = client.get(f"/api/v1/bookings/{booking['id']}", headers=headers).get_json()
    assert [statuses[i]["status"] for i in drawn["winners"]] == ["confirmed", "confirmed"]
    assert [statuses[i]["status"] for i in drawn["waitlist"]] == ["waitlisted"] * 3
    assert [statuses[i]["waitlist_position"] for i in drawn["waitlist"]] == [1, 2, 3]
    session = client.get(f"/api/v1/test-sessions/{ballot['id']}").get_json()
    assert session["seats_left"] == 0 and session["state"] == "drawn" and session["waitlist_length"] == 3

    from vmo.notify.models import OutboxMessage
    with app.app_context():
        texts = list(db.session.scalars(select(OutboxMessage.body).where(OutboxMessage.kind == "exam_drawn")))
    assert len(texts) == 5 and sum("中签，预约已确认" in t for t in texts) == 2

    # A winner who cancels hands the seat to the first on the waiting list, in draw order.
    winner = next(h for (_, h), b in zip(people, applied) if b["id"] == drawn["winners"][0])
    assert client.delete(f"/api/v1/bookings/{drawn['winners'][0]}", headers=winner).status_code == 200
    first_waiting = next(h for (_, h), b in zip(people, applied) if b["id"] == drawn["waitlist"][0])
    assert client.get(f"/api/v1/bookings/{drawn['waitlist'][0]}",
                      headers=first_waiting).get_json()["status"] == "confirmed"


def test_seniority_tiers_come_before_luck(app, client, factory, ballot, officer_headers):
    # Two candidates waiting since August, three since November: the two always win.
    created = [datetime(2026, 11, 2, 2, tzinfo=timezone.utc)] * 3 + [datetime(2026, 8, 3, 2, tzinfo=timezone.utc)] * 2
    people = applicants(app, factory, 5, created)
    applied = [apply(client, ballot["id"], h).get_json() for _, h in people]
    app.config["FROZEN_NOW"] = AFTER_CLOSE
    drawn = client.post(f"/api/v1/test-sessions/{ballot['id']}/draw", headers=officer_headers).get_json()
    assert sorted(drawn["winners"]) == sorted(b["id"] for b in applied[3:])
    dates = {a["application_id"]: a["seniority_date"] for a in drawn["applicants"]}
    assert [dates[i] for i in drawn["ranking"]] == ["2026-08-03T10:00:00+08:00"] * 2 + ["2026-11-02T10:00:00+08:00"] * 3


def test_a_first_subject_1_ranks_by_acceptance_to_the_second_not_by_account(app, client, factory, ballot,
                                                                            officer_headers):
    """12123's order: the earlier acceptance wins, one second apart on the same day, whoever signed up first
    and whatever the seed says; only applicants accepted in the same second are left to the lottery."""
    accepted = [datetime(2026, 11, 2, 1, 30, 16, tzinfo=timezone.utc), datetime(2026, 11, 2, 1, 30, 15, tzinfo=timezone.utc),
                datetime(2026, 11, 2, 1, 30, 17, tzinfo=timezone.utc)]
    people = applicants(app, factory, 3, accepted)  # accounts made in the order 0, 1, 2
    applied = [apply(client, ballot["id"], h).get_json() for _, h in people]
    app.config["FROZEN_NOW"] = AFTER_CLOSE
    drawn = client.post(f"/api/v1/test-sessions/{ballot['id']}/draw", headers=officer_headers).get_json()
    assert drawn["ranking"] == [applied[1]["id"], applied[0]["id"], applied[2]["id"]]
    assert drawn["winners"] == [applied[1]["id"], applied[0]["id"]]
    progress = client.get("/api/v1/me/exam-progress", headers=people[1][1]).get_json()
    assert progress["accepted_at"] == "2026-11-02T09:30:15+08:00" and progress["seniority_date"] == "2026-11-02"


def test_a_retake_counts_from_the_last_exam_and_a_cancellation_moves_back(app, client, factory, officer_headers):
    s2 = create_session(client, officer_headers, subject=2, allocation="ballot", applications_close_at=CLOSE,
                        capacity=1)
    old_fail, old_headers = candidate(factory)       # accepted long ago, failed subject 2 on 2026-11-10
    set_accepted_at(app, old_fail["id"], datetime(2026, 3, 1, 2, tzinfo=timezone.utc))
    history(app, old_fail["id"], 1, "passed", date(2026, 6, 1))
    history(app, old_fail["id"], 2, "failed", date(2026, 11, 10))
    fresh, fresh_headers = candidate(factory)        # passed subject 1 on 2026-10-01
    set_accepted_at(app, fresh["id"], datetime(2026, 5, 1, 2, tzinfo=timezone.utc))
    history(app, fresh["id"], 1, "passed", date(2026, 10, 1))
    # This one had seniority from September but gave up a confirmed seat today: moved back to today.
    quitter, quitter_headers = candidate(factory)
    set_accepted_at(app, quitter["id"], datetime(2026, 4, 1, 2, tzinfo=timezone.utc))
    history(app, quitter["id"], 1, "passed", date(2026, 9, 1))
    first_come = create_session(client, officer_headers, subject=2, starts_at=local(SUNDAY, 14),
                                ends_at=local(SUNDAY, 16))
    seat = client.post(f"/api/v1/test-sessions/{first_come['id']}/bookings", headers=quitter_headers).get_json()
    client.delete(f"/api/v1/bookings/{seat['id']}", headers=quitter_headers)
    for headers in (old_headers, fresh_headers, quitter_headers):
        assert apply(client, s2["id"], headers).status_code == 202
    app.config["FROZEN_NOW"] = AFTER_CLOSE
    drawn = client.post(f"/api/v1/test-sessions/{s2['id']}/draw", headers=officer_headers).get_json()
    # The public record names pseudonyms; the booking ids tell whose line is whose.
    owner = {b["id"]: who for who, h in (("old_fail", old_headers), ("fresh", fresh_headers),
                                           ("quitter", quitter_headers))
             for b in client.get("/api/v1/bookings", headers=h).get_json() if b["session_id"] == s2["id"]}
    dates = {owner[a["application_id"]]: a["seniority_date"] for a in drawn["applicants"]}
    assert dates == {"old_fail": "2026-11-10T09:00:00+08:00", "fresh": "2026-10-01T09:00:00+08:00",
                     "quitter": "2026-11-25T10:00:00+08:00"}
    assert [owner[i] for i in drawn["ranking"]] == ["fresh", "old_fail", "quitter"]


def test_after_the_draw_left_over_seats_are_first_come(app, client, factory, officer_headers, ballot):
    _, headers = candidate(factory)
    apply(client, ballot["id"], headers)
    app.config["FROZEN_NOW"] = AFTER_CLOSE
    client.post(f"/api/v1/test-sessions/{ballot['id']}/draw", headers=officer_headers)
    _, late = candidate(factory)
    response = client.post(f"/api/v1/test-sessions/{ballot['id']}/bookings", headers=late)
    assert response.status_code == 201 and response.get_json()["status"] == "confirmed"
    _, later = candidate(factory)
    full = client.post(f"/api/v1/test-sessions/{ballot['id']}/bookings", headers=later)
    assert full.status_code == 409 and full.get_json()["seats_left"] == 0


def test_an_empty_ballot_draws_nobody(app, client, officer_headers, ballot):
    app.config["FROZEN_NOW"] = AFTER_CLOSE
    response = client.post(f"/api/v1/test-sessions/{ballot['id']}/draw", headers=officer_headers)
    assert response.status_code == 201
    assert response.get_json()["winners"] == [] and response.get_json()["applicants"] == []


def _draw_in_fresh_app(app_factory_config, database_url):
    """Build the same situation in its own database and return the draw's allocation by candidate."""
    from tests.conftest import Factory

    from vmo import create_app

    app = create_app(app_factory_config(database_url))
    with app.app_context():
        db.create_all()
    client = app.test_client()
    factory = Factory(app, client)
    officer = factory.headers(factory.staff("officer", username="officer-a"))
    session = create_session(client, officer, allocation="ballot", applications_close_at=CLOSE, capacity=3)
    order = []
    for i in range(8):
        cand, headers = candidate(factory, username=f"cand-{i}")
        set_accepted_at(app, cand["id"], datetime(2026, 8, 1 + i % 2, 2, tzinfo=timezone.utc))
        apply(client, session["id"], headers)
        order.append(cand["id"])
    app.config["FROZEN_NOW"] = AFTER_CLOSE
    drawn = client.post(f"/api/v1/test-sessions/{session['id']}/draw", headers=officer).get_json()
    by_app = {a["application_id"]: a["pseudonym"] for a in drawn["applicants"]}
    with app.app_context():
        db.engine.dispose()
    return drawn["seed"], [by_app[i] for i in drawn["ranking"]], [by_app[i] for i in drawn["winners"]]


def test_the_same_inputs_and_seed_give_the_same_draw_anywhere(tmp_path):
    """Reproducibility via the API: two independent deployments, one configured seed."""
    from tests.conftest import app_test_config

    def config(url):
        return app_test_config(url, EXAM_DRAW_SEED=SEED, TOKEN_TTL_HOURS=24 * 30)

    first = _draw_in_fresh_app(config, f"sqlite:///{tmp_path / 'one.sqlite3'}")
    second = _draw_in_fresh_app(config, f"sqlite:///{tmp_path / 'two.sqlite3'}")
    assert first == second and first[0] == SEED
    assert len(first[2]) == 3


def test_vmo_draw_runs_the_ballot_from_the_command_line(app, client, factory, runner, ballot):
    for _, headers in applicants(app, factory, 3):
        apply(client, ballot["id"], headers)
    early = runner.invoke(args=["draw", str(ballot["id"])])
    assert early.exit_code == 1 and "applications for session" in early.output and "are open until" in early.output
    app.config["FROZEN_NOW"] = AFTER_CLOSE
    result = runner.invoke(args=["draw", str(ballot["id"])])
    assert result.exit_code == 0, result.output
    drawn = client.get(f"/api/v1/test-sessions/{ballot['id']}/draw").get_json()
    assert f"session {ballot['id']}: drawn now" in result.output
    assert f"seed {drawn['seed']}" in result.output
    assert "3 applicants for 2 seats: 2 confirmed, 1 waitlisted" in result.output
    assert "winners (booking ids): " + " ".join(map(str, drawn["winners"])) in result.output
    again = runner.invoke(args=["draw", str(ballot["id"])])
    assert again.exit_code == 0 and "already drawn" in again.output and f"seed {drawn['seed']}" in again.output
    missing = runner.invoke(args=["draw", "999"])
    assert missing.exit_code == 1 and "no test session 999" in missing.output
    assert runner.invoke(args=["draw", "abc"]).exit_code == 2


@pytest.mark.parametrize("app_config", [{"EXAM_DRAW_SEED": SEED}], indirect=True)
def test_a_configured_seed_is_used(app, client, factory, officer_headers, ballot):
    _, headers = candidate(factory)
    apply(client, ballot["id"], headers)
    app.config["FROZEN_NOW"] = AFTER_CLOSE
    assert client.post(f"/api/v1/test-sessions/{ballot['id']}/draw", headers=officer_headers).get_json()["seed"] == SEED


def test_a_ballot_application_can_be_withdrawn_and_changed(app, client, factory, officer_headers, ballot):
    other = create_session(client, officer_headers, allocation="ballot", applications_close_at=CLOSE,
                           starts_at=local(SATURDAY, 14), ends_at=local(SATURDAY, 16))
    _, headers = candidate(factory)
    mine = apply(client, ballot["id"], headers).get_json()
    moved = client.post(f"/api/v1/bookings/{mine['id']}/change", json={"session_id": other["id"]}, headers=headers)
    assert moved.status_code == 200 and moved.get_json()["status"] == "applied"
    withdrawn = client.delete(f"/api/v1/bookings/{mine['id']}", headers=headers)
    assert withdrawn.status_code == 200 and withdrawn.get_json()["status"] == "cancelled"
    app.config["FROZEN_NOW"] = AFTER_CLOSE
    assert client.post(f"/api/v1/test-sessions/{other['id']}/draw",
                       headers=officer_headers).get_json()["applicants"] == []
