"""The reference tablet client: an offline queue in SQLite, synced in batches with retries and backoff.

Nothing the officer logs is lost: a record leaves the queue only once the server has answered for it
(`created` or `duplicate`); `conflict` and `rejected` records stay, marked "needs attention" with
the server's reason, until a person looks at them. Sending is safe to repeat because the server
counts every `client_id` once, so any network failure is simply retried.

    client = TabletClient("https://vmo.example.cn", "/sdcard/vmo/queue.sqlite3")
    client.login("officer-li", "secret")
    client.pull()                      # today's tours, cached for the day offline
    client.log([{...}, {...}])         # each gets a client_id (UUID) if it has none
    report = client.sync()             # whenever there is signal
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone

import requests

from schedules.tours.sync import SyncStatus
from vmo.retrying import retrying_session, tries

SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',     -- pending | attention
    reason TEXT,                               -- the server's answer for a record needing attention
    attempts INTEGER NOT NULL DEFAULT 0,
    logged_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS synced (
    client_id TEXT PRIMARY KEY,
    server_id INTEGER,
    status TEXT NOT NULL,                      -- created | duplicate
    synced_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS photos (
    client_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    data BLOB NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',     -- pending | attention
    reason TEXT,
    PRIMARY KEY (client_id, sha256)
);
"""

# Answers worth trying again: the server or a proxy is down, busy or restarting.
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
# What is left when the session's tries ran out: no connection, no answer in time.
TRANSPORT_ERRORS = (requests.ConnectionError, requests.Timeout)
# An answer cut off after its headers (server killed mid-answer): requests reads the body once the
# session's retries are over, so they never see it; the client sends such a request again.
CUT_OFF = (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)


def _truncated(response) -> bool:
    if response.status_code != 200:
        return False
    try:
        response.json()
    except ValueError:
        return True
    return False


class ClientError(Exception):
    """The server refused the request itself (not a record): bad token, bad envelope, ..."""

    def __init__(self, message: str, status: int | None = None, body: dict | None = None):
        super().__init__(message)
        self.status = status
        self.body = body or {}


class Unreachable(ClientError):
    """Every attempt failed on the network or with a retryable status; the queue is untouched."""


@dataclass
class SyncReport:
    created: int = 0
    duplicate: int = 0
    conflict: int = 0
    rejected: int = 0
    batches: int = 0
    attempts: int = 0
    photos_sent: int = 0
    photos_attention: int = 0
    left: int = 0
    problems: list[dict] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return self.created + self.duplicate + self.conflict + self.rejected


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class TabletClient:
    """Talks to `/api/v1/mobile/...` for one tablet; the queue file is the tablet's memory."""

    def __init__(self, base_url: str | None, queue_path: str, *, batch_size: int = 200,
                 timeout: float | tuple[float, float] = (5.0, 60.0), max_attempts: int = 6,
                 backoff: float = 0.5, max_backoff: float = 30.0, session: requests.Session | None = None):
        self.queue_path = queue_path
        folder = os.path.dirname(os.path.abspath(queue_path))
        os.makedirs(folder, exist_ok=True)
        with self._db() as conn:
            conn.executescript(SCHEMA)
        if base_url:
            self._set("base_url", base_url.rstrip("/"))
        self.batch_size = batch_size
        self.timeout = timeout
        self.max_attempts = max_attempts
        # The second try is immediate, the third waits `backoff`, each next one twice as long (at most
        # `max_backoff`, or a server's Retry-After up to that), plus up to `backoff` at random so
        # tablets coming back online do not stampede.
        self.http = session or retrying_session(max_attempts, backoff / 2, RETRY_STATUSES, max_backoff=max_backoff,
                                                jitter=backoff)

    # ---- the queue file ---------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.queue_path, timeout=30)
        conn.row_factory = sqlite3.Row
        return conn

    def _get(self, key: str) -> str | None:
        with self._db() as conn:
            row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return None if row is None else row["value"]

    def _set(self, key: str, value: str | None) -> None:
        with self._db() as conn:
            conn.execute("INSERT INTO settings (key, value) VALUES (?, ?) "
                         "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))

    @property
    def base_url(self) -> str:
        url = self._get("base_url")
        if not url:
            raise ClientError("no server configured: pass --server (or base_url) once")
        return url

    @property
    def device_id(self) -> str:
        """Made once per queue file, so the server can tell tablets apart."""
        value = self._get("device_id")
        if value is None:
            value = f"tablet-{uuid.uuid4()}"
            self._set("device_id", value)
        return value

    @property
    def token(self) -> str | None:
        return self._get("token")

    # ---- HTTP (the session retries) -------------------------------------------------------------

    def _headers(self, extra: dict | None = None) -> dict:
        headers = dict(extra or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def request(self, method: str, path: str, *, report: SyncReport | None = None, json_answer: bool = False,
                **kwargs) -> requests.Response:
        """Send; the session retries network failures and retryable statuses with backoff (`vmo.retrying`),
        any other answer is returned. An answer cut off after its headers (with `json_answer`, also a
        200 whose body is not JSON) is sent again at once: if the server died, the session's backoff
        takes over. Unreachable when the tries ran out; nothing is lost, the next sync sends again."""
        headers = self._headers(kwargs.pop("headers", None))
        last = "nothing sent"
        for _cut_off in range(self.max_attempts):
            try:
                response = self.http.request(method, self.base_url + path, timeout=self.timeout, headers=headers,
                                             **kwargs)
            except CUT_OFF as exc:
                last = f"answer cut off: {exc}"
                if report is not None:
                    report.attempts += 1
                continue
            except TRANSPORT_ERRORS as exc:
                raise Unreachable(f"{method} {path} failed ({self.max_attempts} tries): {type(exc).__name__}: "
                                  f"{exc}") from None
            if report is not None:
                report.attempts += tries(response)
            if response.status_code in RETRY_STATUSES:
                raise Unreachable(f"{method} {path} failed ({tries(response)} tries): last HTTP "
                                  f"{response.status_code}")
            if not (json_answer and _truncated(response)):
                return response
            last = "answer cut off: not JSON"
        raise Unreachable(f"{method} {path} failed: {self.max_attempts} answers cut off; last: {last}")

    @staticmethod
    def _body(response) -> dict:
        try:
            body = response.json()
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    def _fail(self, response) -> ClientError:
        body = self._body(response)
        message = body.get("message") or f"HTTP {response.status_code}"
        if body.get("errors"):
            message += ": " + json.dumps(body["errors"], ensure_ascii=False)
        return ClientError(message, response.status_code, body)

    # ---- commands ----------------------------------------------------------------------

    def login(self, username: str, password: str) -> dict:
        response = self.request("POST", "/api/v1/auth/token", json={"username": username, "password": password})
        if response.status_code != 200:
            raise self._fail(response)
        body = response.json()
        self._set("token", body["token"])
        self._set("username", username)
        self._set("token_expires_at", body.get("expires_at"))
        return body

    def pull(self) -> tuple[dict, bool]:
        """Today's assignments and whether they changed; offline, the cached copy (changed=False)."""
        etag = self._get("assignments_etag")
        headers = {"If-None-Match": etag} if etag and self._get("assignments") else {}
        try:
            response = self.request("GET", "/api/v1/mobile/assignments", headers=headers)
        except Unreachable:
            cached = self._get("assignments")
            if cached is None:
                raise
            return json.loads(cached), False
        if response.status_code == 304:
            return json.loads(self._get("assignments")), False
        if response.status_code != 200:
            raise self._fail(response)
        self._set("assignments", response.text)
        self._set("assignments_etag", response.headers.get("ETag"))
        self._set("assignments_pulled_at", _now_iso())
        return response.json(), True

    def cached_assignments(self) -> dict | None:
        cached = self._get("assignments")
        return None if cached is None else json.loads(cached)

    def log(self, records: Iterable[dict], photo_loader: Callable[[str], bytes] | None = None) -> list[str]:
        """Queue inspections; each gets a client_id (UUID4) unless it has one. A record may name
        `photos` (file paths): their bytes are copied into the queue, so moving the files loses nothing.
        The same client_id logged twice with the same content is kept once; with other content it is
        refused (ValueError) rather than overwriting what the officer logged first."""
        loader = photo_loader or _read_file
        ids = []
        now = _now_iso()
        prepared = []
        for record in records:
            if not isinstance(record, dict):
                raise ValueError("each record must be a JSON object")
            record = dict(record)
            record.setdefault("client_id", str(uuid.uuid4()))
            record.setdefault("recorded_at", now)
            photos = [(p, loader(p)) for p in record.pop("photos", None) or []]
            prepared.append((record, photos))
        with self._db() as conn:
            for record, photos in prepared:
                payload = json.dumps(record, ensure_ascii=False, sort_keys=True)
                existing = conn.execute("SELECT payload FROM records WHERE client_id = ?",
                                        (record["client_id"],)).fetchone()
                if existing is not None and existing["payload"] != payload:
                    raise ValueError(f"client_id {record['client_id']} is already queued with other content")
                if existing is None:
                    conn.execute("INSERT INTO records (client_id, payload, logged_at, updated_at) VALUES (?, ?, ?, ?)",
                                 (record["client_id"], payload, now, now))
                for _path, data in photos:
                    conn.execute("INSERT OR IGNORE INTO photos (client_id, sha256, data) VALUES (?, ?, ?)",
                                 (record["client_id"], hashlib.sha256(data).hexdigest(), data))
                ids.append(record["client_id"])
        return ids

    def sync(self, progress: Callable[[SyncReport], None] | None = None) -> SyncReport:
        """Send every pending record in batches, then pending photos; safe to run any number of times.

        Raises Unreachable (after the retries) or ClientError (e.g. 401: log in again); whatever was
        not answered for stays pending, so the next sync picks it up."""
        report = SyncReport()
        tried: set[str] = set()
        while True:
            with self._db() as conn:
                rows = conn.execute("SELECT client_id, payload FROM records WHERE state = 'pending' "
                                    "ORDER BY seq").fetchall()
            batch = [r for r in rows if r["client_id"] not in tried][:self.batch_size]
            if not batch:
                break
            tried.update(r["client_id"] for r in batch)
            self._send_batch(batch, report)
            if progress is not None:
                progress(report)
        self._send_photos(report)
        report.left = self.counts()["pending"]
        return report

    def _send_batch(self, batch: list[sqlite3.Row], report: SyncReport) -> None:
        ids = [r["client_id"] for r in batch]
        with self._db() as conn:
            conn.executemany("UPDATE records SET attempts = attempts + 1 WHERE client_id = ?", [(i,) for i in ids])
        records = [json.loads(r["payload"]) for r in batch]
        # `sent_at` is the first try's moment; the session's retries (seconds) are far inside the clock-skew allowance.
        response = self.request("POST", "/api/v1/mobile/inspections/sync", report=report, json_answer=True,
                                json={"device_id": self.device_id, "sent_at": _now_iso(), "records": records})
        if response.status_code != 200:
            raise self._fail(response)
        report.batches += 1
        results = response.json().get("results", [])
        now = _now_iso()
        with self._db() as conn:
            for result in results:
                client_id, status = str(result.get("client_id")), result.get("status")
                if client_id not in ids:
                    continue  # not ours: never act on an answer for a record we did not send
                if status in (SyncStatus.CREATED, SyncStatus.DUPLICATE):
                    conn.execute("INSERT INTO synced (client_id, server_id, status, synced_at) VALUES (?, ?, ?, ?) "
                                 "ON CONFLICT (client_id) DO NOTHING", (client_id, result.get("id"), status, now))
                    conn.execute("DELETE FROM records WHERE client_id = ?", (client_id,))
                elif status in (SyncStatus.CONFLICT, SyncStatus.REJECTED):
                    reason = {k: v for k, v in result.items() if k not in ("client_id", "status")}
                    reason["status"] = status
                    conn.execute("UPDATE records SET state = 'attention', reason = ?, updated_at = ? "
                                 "WHERE client_id = ?", (json.dumps(reason, ensure_ascii=False), now, client_id))
                    report.problems.append({"client_id": client_id, **reason})
                else:
                    continue
                setattr(report, status, getattr(report, status) + 1)

    def _send_photos(self, report: SyncReport) -> None:
        with self._db() as conn:
            rows = conn.execute(
                "SELECT p.client_id, p.sha256 FROM photos p JOIN synced s ON s.client_id = p.client_id "
                "WHERE p.state = 'pending' ORDER BY p.rowid").fetchall()
        for row in rows:
            with self._db() as conn:
                data = conn.execute("SELECT data FROM photos WHERE client_id = ? AND sha256 = ?",
                                    (row["client_id"], row["sha256"])).fetchone()["data"]
            response = self.request("PUT", f"/api/v1/mobile/inspections/{row['client_id']}/photos/{row['sha256']}",
                                    data=bytes(data), report=report,
                                    headers={"Content-Type": "application/octet-stream"})
            with self._db() as conn:
                if response.status_code in (200, 201):
                    conn.execute("DELETE FROM photos WHERE client_id = ? AND sha256 = ?",
                                 (row["client_id"], row["sha256"]))
                    report.photos_sent += 1
                elif response.status_code == 401:
                    raise self._fail(response)
                else:
                    body = self._body(response)
                    conn.execute("UPDATE photos SET state = 'attention', reason = ? WHERE client_id = ? AND sha256 = ?",
                                 (json.dumps({"status": response.status_code, "message": body.get("message")},
                                             ensure_ascii=False), row["client_id"], row["sha256"]))
                    report.photos_attention += 1

    def requeue(self, client_ids: Iterable[str] | None = None) -> int:
        """Put records needing attention back in the queue (e.g. after the office fixed an assignment)."""
        with self._db() as conn:
            if client_ids is None:
                return conn.execute("UPDATE records SET state = 'pending', reason = NULL "
                                    "WHERE state = 'attention'").rowcount
            return sum(conn.execute("UPDATE records SET state = 'pending', reason = NULL "
                                    "WHERE state = 'attention' AND client_id = ?", (c,)).rowcount for c in client_ids)

    def counts(self) -> dict:
        with self._db() as conn:
            states = dict(conn.execute("SELECT state, COUNT(*) FROM records GROUP BY state").fetchall())
            synced = conn.execute("SELECT COUNT(*) FROM synced").fetchone()[0]
            photos = dict(conn.execute("SELECT state, COUNT(*) FROM photos GROUP BY state").fetchall())
        return {"pending": states.get("pending", 0), "attention": states.get("attention", 0), "synced": synced,
                "photos_pending": photos.get("pending", 0), "photos_attention": photos.get("attention", 0)}

    def attention(self) -> list[dict]:
        """Records the server did not take, with its reason; kept until someone deals with them."""
        with self._db() as conn:
            rows = conn.execute("SELECT client_id, payload, reason, updated_at FROM records "
                                "WHERE state = 'attention' ORDER BY seq").fetchall()
        return [{"client_id": r["client_id"], "record": json.loads(r["payload"]),
                 "reason": json.loads(r["reason"] or "{}"), "updated_at": r["updated_at"]} for r in rows]

    def status(self) -> dict:
        return {"server": self._get("base_url"), "username": self._get("username"),
                "device_id": self.device_id, "token_expires_at": self._get("token_expires_at"),
                "assignments_pulled_at": self._get("assignments_pulled_at"), **self.counts()}


def _read_file(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()
