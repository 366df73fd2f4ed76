"""Photo storage behind a small interface, content-addressed by SHA-256: a directory by default, or the
database, which every app node shares (PHOTO_STORAGE=database, for several nodes behind a load balancer)."""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
from typing import Protocol

_SHA256 = re.compile(r"^[0-9a-f]{64}$")

# Magic bytes of the only formats a tablet camera sends.
JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def sniff_image_type(data: bytes) -> str | None:
    """The content type told by the first bytes ("image/jpeg", "image/png"), or None."""
    if data.startswith(JPEG_MAGIC):
        return "image/jpeg"
    if data.startswith(PNG_MAGIC):
        return "image/png"
    return None


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def is_sha256(text: str) -> bool:
    return bool(_SHA256.match(text))


class PhotoStorage(Protocol):
    """Where photo bytes live. Keys are the lower-case hex SHA-256 of the bytes, so a photo sent
    twice (or by two inspections) is stored once, and an object store can replace the directory."""

    def put(self, sha256: str, data: bytes) -> bool:
        """Store the bytes under their hash; True if they were new, False if already there."""

    def get(self, sha256: str) -> bytes | None:
        """The bytes, or None if nothing is stored under the hash."""

    def exists(self, sha256: str) -> bool:
        """Whether bytes are stored under the hash."""


class DirectoryStorage:
    """Files under `root/ab/cd/<hash>`; written to a temporary file and renamed, so a crash mid-write
    never leaves a partial photo under its hash."""

    def __init__(self, root: str):
        self.root = root

    def _path(self, sha256: str) -> str:
        _check(sha256)
        return os.path.join(self.root, sha256[:2], sha256[2:4], sha256)

    def exists(self, sha256: str) -> bool:
        return os.path.isfile(self._path(sha256))

    def put(self, sha256: str, data: bytes) -> bool:
        path = self._path(sha256)
        if os.path.isfile(path):
            return False
        folder = os.path.dirname(path)
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            # Same bytes under the same name: whichever concurrent writer renames last wins harmlessly.
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return True

    def get(self, sha256: str) -> bytes | None:
        try:
            with open(self._path(sha256), "rb") as handle:
                return handle.read()
        except FileNotFoundError:
            return None


class MemoryStorage:
    """Bytes in a dict: for tests and throwaway demos (PHOTO_STORAGE = "memory")."""

    def __init__(self):
        self.blobs: dict[str, bytes] = {}

    def exists(self, sha256: str) -> bool:
        return sha256 in self.blobs

    def put(self, sha256: str, data: bytes) -> bool:
        if sha256 in self.blobs:
            return False
        self.blobs[sha256] = bytes(data)
        return True

    def get(self, sha256: str) -> bytes | None:
        return self.blobs.get(sha256)


class DatabaseStorage:
    """Bytes in the `photo_blobs` table of the app's own database (PHOTO_STORAGE = "database").

    Every app node behind a load balancer sees the same photos with nothing more to run or mount.
    Each put commits on a connection of its own, as a file is on disk before the photo's row: a photo
    row never points at bytes that are not stored, and a request that fails later keeps the bytes
    (harmless, like an orphan file).
    """

    def __init__(self, engine=None):
        self._engine = engine  # None: the app's engine, looked up when used (tests swap it per test)

    @property
    def engine(self):
        from vmo.extensions import db

        return self._engine if self._engine is not None else db.engine

    def exists(self, sha256: str) -> bool:
        from sqlalchemy import select

        from mobile_api.models import PhotoBlob

        _check(sha256)
        with self.engine.connect() as connection:
            return connection.scalar(select(PhotoBlob.sha256).where(PhotoBlob.sha256 == sha256)) is not None

    def put(self, sha256: str, data: bytes) -> bool:
        from sqlalchemy.dialects import postgresql, sqlite

        from mobile_api.models import PhotoBlob
        from vmo import clock

        _check(sha256)
        insert = postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert
        statement = (insert(PhotoBlob).values(sha256=sha256, data=bytes(data), size=len(data), stored_at=clock.now())
                     .on_conflict_do_nothing(index_elements=["sha256"]).returning(PhotoBlob.sha256))
        with self.engine.begin() as connection:  # two nodes storing the same bytes at once: one row
            return connection.execute(statement).first() is not None

    def get(self, sha256: str) -> bytes | None:
        from sqlalchemy import select

        from mobile_api.models import PhotoBlob

        _check(sha256)
        with self.engine.connect() as connection:
            data = connection.scalar(select(PhotoBlob.data).where(PhotoBlob.sha256 == sha256))
        return bytes(data) if data is not None else None


def _check(sha256: str) -> None:
    if not is_sha256(sha256):
        raise ValueError("a photo key is the 64-character lower-case hex SHA-256 of its bytes")


def make_storage(kind: str, directory: str | None, instance_path: str) -> PhotoStorage:
    """The storage named by PHOTO_STORAGE ("directory", "database" or "memory"); PHOTO_DIR defaults to
    `<instance folder>/photos`."""
    if kind == "directory":
        return DirectoryStorage(directory or os.path.join(instance_path, "photos"))
    if kind == "database":
        return DatabaseStorage()
    if kind == "memory":
        return MemoryStorage()
    raise ValueError(f"unknown PHOTO_STORAGE {kind!r}: use 'directory', 'database' or 'memory'")
