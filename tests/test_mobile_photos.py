"""Photos of synced inspections: hash checked, JPEG/PNG only, size limit, stored once, who may add and read.

Every test runs on both photo stores: a directory (one node) and the database (shared by every node).
"""
import os

import pytest
from sqlalchemy import select

from mobile_api.settings import MobileSettings
from tests.helpers_mobile import JPEG, envelope, make_tour, png_bytes, record, sha
from vmo import settings
from vmo.extensions import db

SYNC = "/api/v1/mobile/inspections/sync"


@pytest.fixture(params=["directory", "database"])
def photo_storage(request):
    return request.param


@pytest.fixture
def app_config(tmp_path, photo_storage):
    return {"PHOTO_STORAGE": photo_storage, "PHOTO_DIR": str(tmp_path / "photos")}


@pytest.fixture
def logged(app, client, factory):
    officer = factory.staff("officer")
    partner = factory.staff("officer")
    tour = make_tour(app, [officer.id, partner.id])
    headers = factory.headers(officer)
    rec = record(tour.stop_ids[0], 1)
    answer = client.post(SYNC, json=envelope([rec]), headers=headers).get_json()["results"][0]
    assert answer["status"] == "created"
    return type("Logged", (), {"officer": officer, "partner": partner, "headers": headers, "record": rec,
                               "id": answer["id"], "client_id": rec["client_id"]})


def put(client, logged, data, digest=None, headers=None):
    return client.put(f"/api/v1/mobile/inspections/{logged.client_id}/photos/{digest or sha(data)}", data=data,
                      headers=headers or logged.headers, content_type="application/octet-stream")


def stored_files(app) -> list[str]:
    """The hashes the photo store holds: files under PHOTO_DIR, or rows of photo_blobs."""
    if app.config["PHOTO_STORAGE"] == "database":
        from mobile_api.models import PhotoBlob

        with app.app_context():
            blobs = db.session.execute(select(PhotoBlob.sha256, PhotoBlob.data, PhotoBlob.size)).all()
        assert all(len(data) == size and sha(data) == key for key, data, size in blobs)
        return sorted(key for key, _data, _size in blobs)
    root = app.config["PHOTO_DIR"]
    return sorted(name for _dir, _sub, files in os.walk(root) for name in files) if os.path.isdir(root) else []


def test_add_a_photo_then_again_is_harmless(app, client, logged):
    photo = png_bytes(seed=1)
    first = put(client, logged, photo)
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert body == {"sha256": sha(photo), "kind": None, "content_type": "image/png", "size": len(photo),
                    "uploaded_by": logged.officer.username, "uploaded_at": "2026-11-25T10:00:00+08:00",
                    "url": f"/api/v1/mobile/inspections/{logged.client_id}/photos/{sha(photo)}"}
    again = put(client, logged, photo)
    assert again.status_code == 200
    assert again.get_json() == body
    assert put(client, logged, JPEG).status_code == 201
    assert stored_files(app) == sorted([sha(photo), sha(JPEG)])

    inspection = client.get(f"/api/v1/mobile/inspections/{logged.client_id}", headers=logged.headers)
    assert inspection.status_code == 200
    data = inspection.get_json()
    assert (data["id"], data["client_id"], data["plate"], data["officer"]) == (
        logged.id, logged.client_id, "渝G00001", logged.officer.username)
    assert [(p["sha256"], p["content_type"]) for p in data["photos"]] == [(sha(photo), "image/png"),
                                                                          (sha(JPEG), "image/jpeg")]

    got = client.get(body["url"], headers=logged.headers)
    assert got.status_code == 200
    assert got.data == photo and got.content_type == "image/png"
    assert client.get(body["url"], headers={**logged.headers, "If-None-Match": got.headers["ETag"]}).status_code == 304


def test_the_same_bytes_on_two_inspections_are_stored_once(app, client, logged, factory):
    photo = png_bytes(seed=2)
    assert put(client, logged, photo).status_code == 201
    other = record(logged.record["stop_id"], 2)
    client.post(SYNC, json=envelope([other]), headers=logged.headers)
    response = client.put(f"/api/v1/mobile/inspections/{other['client_id']}/photos/{sha(photo)}", data=photo,
                          headers=logged.headers)
    assert response.status_code == 201
    assert stored_files(app) == [sha(photo)]


def test_wrong_hash_is_422_and_nothing_is_stored(app, client, logged):
    photo = png_bytes(seed=3)
    response = put(client, logged, photo, digest=sha(b"something else"))
    assert response.status_code == 422
    body = response.get_json()
    assert body["errors"] == {"path": {"sha256": ["does not match the bytes"]}}
    assert body["actual_sha256"] == sha(photo)
    assert put(client, logged, photo, digest="not-a-hash").status_code == 422
    assert stored_files(app) == []


def test_not_a_jpeg_or_png_is_415(app, client, logged):
    for data in (b"GIF89a" + b"\x00" * 20, b"%PDF-1.7 ...", b""):
        response = put(client, logged, data)
        assert response.status_code == 415, data
        assert "JPEG or PNG" in response.get_json()["message"]
    assert stored_files(app) == []


def test_too_large_is_413_with_json(app, client, logged):
    limit = settings.of(app, MobileSettings).photo_max_bytes
    assert limit == 10 * 1024 * 1024
    big = JPEG + b"\x00" * (limit + 1 - len(JPEG))
    response = put(client, logged, big)
    assert response.status_code == 413
    assert response.get_json()["message"] == f"a photo may be at most {limit} bytes, this one has {limit + 1}"
    beyond_app_limit = put(client, logged, b"\x00" * (17 * 1024 * 1024), digest="0" * 64)
    assert beyond_app_limit.status_code == 413 and beyond_app_limit.get_json()["code"] == 413
    exactly = JPEG + b"\x00" * (limit - len(JPEG))
    assert put(client, logged, exactly).status_code == 201


def test_who_may_add_and_read_photos(app, client, factory, logged):
    photo = png_bytes(seed=4)
    url = f"/api/v1/mobile/inspections/{logged.client_id}/photos/{sha(photo)}"
    # Another officer, even one on the same tour, sees nothing: 404 as if it did not exist.
    partner = factory.headers(logged.partner)
    assert put(client, logged, photo, headers=partner).status_code == 404
    assert client.get(f"/api/v1/mobile/inspections/{logged.client_id}", headers=partner).status_code == 404
    assert put(client, logged, photo).status_code == 201
    assert client.get(url, headers=partner).status_code == 404
    supervisor = factory.headers(factory.staff("supervisor"))
    assert client.get(url, headers=supervisor).status_code == 200
    assert put(client, logged, JPEG, headers=supervisor).status_code == 201
    elsewhere = factory.headers(factory.staff("supervisor", office=factory.other_office()))
    assert client.get(url, headers=elsewhere).status_code == 404
    for role_headers in (factory.headers(factory.company()["username"]),
                         factory.headers(factory.candidate()["username"])):
        assert put(client, logged, photo, headers=role_headers).status_code == 403
        assert client.get(url, headers=role_headers).status_code == 403
    assert client.get(url).status_code == 401
    assert client.get(f"/api/v1/mobile/inspections/{logged.client_id}/photos/{sha(JPEG)[:-1]}0",
                      headers=logged.headers).status_code == 404
    assert client.get("/api/v1/mobile/inspections/00000000-0000-0000-0000-000000000000",
                      headers=logged.headers).status_code == 404


class TestLimit:
    @pytest.fixture
    def app_config(self, tmp_path, photo_storage):
        return {"PHOTO_STORAGE": photo_storage, "PHOTO_DIR": str(tmp_path / "photos"), "PHOTOS_PER_INSPECTION": 2}

    def test_at_most_n_photos_per_inspection(self, app, client, logged):
        assert put(client, logged, png_bytes(seed=5)).status_code == 201
        assert put(client, logged, png_bytes(seed=6)).status_code == 201
        third = put(client, logged, png_bytes(seed=7))
        assert third.status_code == 422
        assert third.get_json()["message"] == "an inspection has at most 2 photos"
        assert put(client, logged, png_bytes(seed=5)).status_code == 200  # a repeat is still fine
