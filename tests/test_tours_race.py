"""Many owners racing for the last places at a stop: never more registrations than capacity."""
import threading

from tests.helpers_tours import create_tour, publish, stop


def _race(app, url, bodies):
    barrier = threading.Barrier(len(bodies))
    statuses = []

    def worker(body):
        client = app.test_client()
        barrier.wait()
        statuses.append(client.post(url, json=body).status_code)

    threads = [threading.Thread(target=worker, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return sorted(statuses)


def test_last_places_at_a_stop_are_never_overbooked(app, client, factory):
    officer = factory.staff("officer")
    headers = factory.headers(officer)
    tour = create_tour(client, headers, [officer], stops=[stop("大观镇", (9, 0), capacity=3)])
    publish(client, headers, tour["id"])
    stop_id = tour["stops"][0]["id"]
    url = f"/api/v1/tours/{tour['id']}/stops/{stop_id}/registrations"
    bodies = [{"plate": f"渝G2{i:04d}", "owner_name": "车主", "phone": f"1390000{i:04d}"} for i in range(10)]
    assert _race(app, url, bodies) == [201] * 3 + [409] * 7
    stops = client.get(f"/api/v1/tours/{tour['id']}", headers=headers).get_json()["stops"]
    assert (stops[0]["registered"], stops[0]["available"]) == (3, 0)
    listed = client.get(url, headers=headers)
    assert listed.status_code == 200 and len(listed.get_json()) == 3


def test_one_plate_racing_for_two_stops_gets_one_registration(app, client, factory):
    officer = factory.staff("officer")
    headers = factory.headers(officer)
    tour = create_tour(client, headers, [officer], stops=[stop("大观镇", (9, 0)), stop("水江镇", (11, 0))])
    publish(client, headers, tour["id"])
    body = {"plate": "渝G30001", "owner_name": "车主", "phone": "13900000001"}
    statuses = []
    barrier = threading.Barrier(6)

    def worker(stop_id):
        c = app.test_client()
        barrier.wait()
        statuses.append(c.post(f"/api/v1/tours/{tour['id']}/stops/{stop_id}/registrations", json=body).status_code)

    threads = [threading.Thread(target=worker, args=(tour["stops"][i % 2]["id"],)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(statuses) == [201] + [409] * 5
    stops = client.get(f"/api/v1/tours/{tour['id']}", headers=headers).get_json()["stops"]
    assert sum(s["registered"] for s in stops) == 1
