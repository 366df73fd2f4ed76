"""A company cancelling its appointment while officers inspect its vehicles: one wins, never a mix."""
import threading

from tests.helpers_fleet import company, get_batch, inspect, officer, scheduled_batch


def _together(*calls):
    barrier = threading.Barrier(len(calls))
    answers = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        answers[i] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return answers


def test_cancel_racing_inspections_leaves_the_batch_whole(app, client, factory):
    owner = company(factory)
    staff = officer(factory)
    for _ in range(6):
        data = scheduled_batch(client, factory, owner, staff, count=2)
        vins = [v["vin"] for v in data["vehicles"]]
        cancel, *inspections = _together(
            lambda: app.test_client().delete(f"/api/v1/fleet/batches/{data['id']}/appointment",
                                             headers=owner.headers),
            *[lambda vin=vin: inspect(app.test_client(), staff, vin) for vin in vins],
        )
        after = get_batch(client, owner, data["id"])
        statuses = sorted(v["status"] for v in after["vehicles"])
        inspected = sum(r.status_code == 201 for r in inspections)
        if cancel.status_code in (200, 204):
            assert inspected == 0, [r.get_json() for r in inspections]
            assert all(r.status_code == 409 for r in inspections)
            assert statuses == ["submitted", "submitted"]
            assert after["status"] == "submitted" and after["appointment"] is None
        else:
            assert cancel.status_code == 409, cancel.get_json()
            assert inspected >= 1
            assert statuses.count("inspected") == inspected
            assert set(statuses) <= {"inspected", "scheduled"}
            assert after["status"] == "in_progress" and after["appointment"]["status"] == "booked"
