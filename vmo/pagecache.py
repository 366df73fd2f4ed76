"""Public lists served from memory for a moment: the answers everyone asks for at once.

When an office releases a weekend of test sessions, thousands of people reload the same three
public lists (`/api/v1/offices`, `/api/v1/test-sessions`, `/api/v1/tour-stops`) in the same
minute. Each answer costs database round trips and serialisation, and every caller gets the same
bytes. So each worker keeps the finished answer of such a GET for `PUBLIC_CACHE_SECONDS`
(default 2) and hands it out again (micro-caching, as a reverse proxy would, but inside the app so
that it knows when to forget):

- Only GETs that answered 200 are kept (errors are not worth keeping), and only on the lists marked
  `@vmo.http.caching.public_page`, whose answers depend on nothing about the caller but, for a signed-in
  one, their office (the default when no `office=` is asked for). So a signed-in caller's token is still checked (one
  query) and the answer is shared with the others of that office, signed in or not asking for it.
- Any write this process commits to the database (a request's, a command's, a job's) empties the
  process's cache, so a person who books and then reloads sees their seat gone at once. Another
  worker's copy, and a change made by another process (the command line), can be at most
  `PUBLIC_CACHE_SECONDS` old: a seat count on a public list is advice; the booking itself
  (vmo.booking) is the authority.
- A page computed while a write ran in another thread is not stored (a generation counter).
- Bounded: at most `MAX_ENTRIES` answers of at most `MAX_BODY_BYTES` each, least recently used first
  out, so query strings made up by a caller cannot grow a worker's memory.

The rate limits, request ids and security headers still apply to every answer: they are added after
the view (vmo.limits, vmo.http, vmo.security), and the cache stands around the view only. This
module is the cache and when to forget; `vmo.http.caching.public_page` puts it around a view.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.engine import Engine

from vmo import settings
from vmo.settings import setting

EXTENSION = "vmo.page_cache"
MAX_ENTRIES = 512
MAX_BODY_BYTES = 512 * 1024
_WROTE = "vmo.wrote"


class PageCache:
    def __init__(self, seconds: float, max_entries: int = MAX_ENTRIES, clock=time.monotonic):
        self.seconds = seconds
        self.max_entries = max_entries
        self.clock = clock
        self.generation = 0
        self.hits = 0
        self._entries: OrderedDict[tuple, tuple] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.seconds > 0

    def get(self, key: tuple):
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] <= self.clock():
                if entry is not None:
                    del self._entries[key]
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[1]

    def put(self, key: tuple, generation: int, stored) -> None:
        with self._lock:
            if generation != self.generation:  # a write happened meanwhile: this page may predate it
                return
            self._entries[key] = (self.clock() + self.seconds, stored)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self.generation += 1
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


@dataclass(frozen=True)
class PageCacheSettings:
    # Seconds a worker keeps an anonymous answer of the public lists; 0 turns the cache off.
    public_cache_seconds: float = setting(2.0, low=0)


def init_app(app) -> None:
    app.extensions[EXTENSION] = PageCache(settings.install(app, PageCacheSettings).public_cache_seconds)


def cache_of(app) -> PageCache:
    return app.extensions[EXTENSION]


@event.listens_for(Engine, "before_cursor_execute")
def _note_write(conn, _cursor, statement, _parameters, _context, _executemany):
    if not statement.lstrip()[:6].upper().startswith(("SELECT", "PRAGMA", "SHOW", "SAVEPO", "RELEAS")):
        conn.info[_WROTE] = True


@event.listens_for(Engine, "commit")
def _forget_on_commit(conn):
    if not conn.invalidated and conn.info.pop(_WROTE, False) and has_app_context():
        cache = current_app.extensions.get(EXTENSION)
        if cache is not None:
            cache.clear()


@event.listens_for(Engine, "rollback")
def _nothing_written(conn):
    # A connection the database dropped has no info to clear (reading it would raise, and turn the
    # 503 of a lost connection into a 500); its replacement starts clean.
    if not conn.invalidated:
        conn.info.pop(_WROTE, None)
