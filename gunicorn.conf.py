"""gunicorn's settings for vmo (`make serve`, the tests' and benches' live servers; gunicorn also reads
this file by itself when started from the repository's top folder).

The server's own limits sit above the app's (vmo.bounds: MAX_URL_BYTES, MAX_HEADER_BYTES,
MAX_HEADERS), so a request past the app's limits reaches the app and gets its JSON 414 or 431 in the
documented error shape, instead of gunicorn's HTML page that clients cannot parse. Options given on the
command line (--workers, --bind, ...) override these.
"""

# The request line: method, address with its query string, and protocol. 8190 is gunicorn's maximum;
# the app refuses an address over 4096 bytes itself.
limit_request_line = 8190
# One header line; the app refuses one over 8190 bytes itself.
limit_request_field_size = 16380
# How many header lines; the app refuses more than 100 itself.
limit_request_fields = 200


def when_ready(server):
    """Once the master has imported the app (`--preload`), before it forks the workers: move every object
    it made into the collector's permanent generation (gc.freeze). Each worker's collections then walk only
    what the worker itself creates, not the app's hundred thousand long-lived objects (a full collection
    of those cost whole milliseconds on a booking), and they no longer write into the pages the workers share
    with the master, which stay shared (resident memory per worker)."""
    import gc

    gc.freeze()
