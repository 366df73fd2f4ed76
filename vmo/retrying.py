"""One way to retry an HTTP call: a requests Session whose adapter retries (`urllib3.Retry`), POST included.

Only for calls that are safe to repeat: the SMS gateway gets an `Idempotency-Key` with every send,
and the tablet's sync sends records the server counts once by `client_id`. Connection errors,
answers lost on the way back and the statuses given are retried with exponential backoff
(`backoff` * 2**n after an immediate first retry, plus up to `jitter` seconds at random, at most
`max_backoff`); any other answer, and the last one when the tries run out, is returned as it is.
"""
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry


def retrying_session(attempts: int, backoff: float, statuses, *, max_backoff: float = 120.0,
                     jitter: float = 0.0, respect_retry_after: bool = True) -> requests.Session:
    """A Session that makes up to `attempts` tries of each request (at least one)."""
    retries = max(int(attempts) - 1, 0)
    retry = Retry(total=retries, connect=retries, read=retries, status=retries, other=0,
                  allowed_methods=None, status_forcelist=frozenset(statuses), raise_on_status=False,
                  backoff_factor=backoff, backoff_max=max_backoff,
                  backoff_jitter=jitter, respect_retry_after_header=respect_retry_after,
                  retry_after_max=max_backoff)
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def tries(response: requests.Response) -> int:
    """How many tries the session made before this answer."""
    retry = getattr(response.raw, "retries", None)
    return 1 + len(getattr(retry, "history", None) or ())
