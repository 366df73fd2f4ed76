"""Photo storage behind a small interface: a directory by default, content-addressed by SHA-256."""
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
        if not is_sha256(sha256):
            raise ValueError("a photo key is the 64-character lower-case hex SHA-256 of its bytes")
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


def make_storage(config, instance_path: str) -> PhotoStorage:
    """The storage named by PHOTO_STORAGE ("directory" or "memory"); PHOTO_DIR defaults to
    `<instance folder>/photos`."""
    kind = (config.get("PHOTO_STORAGE") or "directory").lower()
    if kind == "directory":
        return DirectoryStorage(config.get("PHOTO_DIR") or os.path.join(instance_path, "photos"))
    if kind == "memory":
        return MemoryStorage()
    raise ValueError(f"unknown PHOTO_STORAGE {kind!r}: use 'directory' or 'memory'")
