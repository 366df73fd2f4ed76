"""SMS backends chosen by configuration: `log` (default, for development and the demo) and `http`."""
import logging
import requests

from vmo import redact
from vmo.retrying import retrying_session

log = logging.getLogger("vmo.sms")


class SendError(Exception):
    """The gateway did not take the message this time; the outbox retries it later."""


class PermanentSendError(SendError):
    """The gateway refused the message itself (e.g. a number it cannot reach): retrying will not help."""


class LogBackend:
    """Writes messages to the log; the outbox table keeps them for anyone to read in the demo."""

    name = "log"

    def send(self, message) -> None:
        log.info("SMS to %s [%s]: %s", redact.mask_phone(message.phone), message.key, redact.mask_text(message.body))


class HttpBackend:
    """A generic SMS gateway: `POST <url>` with JSON `{"to", "text", "reference"}`.

    Every request carries `Idempotency-Key: <outbox key>`, so a retry after a lost answer (timeout,
    dropped connection) is recognised by the gateway and never sends the text twice; that is what
    makes retrying a POST safe. Transient failures (connection errors, timeouts, 408, 425, 429, 5xx)
    are retried by the session itself (`urllib3.Retry`, exponential backoff); other 4xx answers are
    permanent refusals.
    """

    name = "http"
    RETRY_STATUSES = frozenset({408, 425, 429, *range(500, 600)})

    def __init__(self, url: str, api_key: str | None = None, *, api_key_header: str = "X-API-Key",
                 timeout: float = 5.0, retries: int = 3, backoff: float = 0.5,
                 session: requests.Session | None = None):
        if not url:
            raise ValueError("SMS_HTTP_URL must be set for the http SMS backend")
        self.url = url
        self.api_key = api_key
        self.api_key_header = api_key_header
        self.timeout = timeout
        self.retries = max(int(retries), 0)
        # A gateway's Retry-After is not obeyed here: a long wait belongs to the outbox's own schedule,
        # not to a sender blocked mid-pass.
        self.session = session or retrying_session(self.retries + 1, float(backoff), self.RETRY_STATUSES,
                                                   respect_retry_after=False)

    def _headers(self, message) -> dict:
        headers = {"Idempotency-Key": message.key, "Content-Type": "application/json; charset=utf-8"}
        if self.api_key:
            headers[self.api_key_header] = self.api_key
        return headers

    def send(self, message) -> None:
        payload = {"to": message.phone, "text": message.body, "reference": message.key}
        tries = f"(after {self.retries + 1} tries)"
        try:
            response = self.session.post(self.url, json=payload, headers=self._headers(message), timeout=self.timeout)
        except requests.RequestException as exc:
            raise SendError(f"{type(exc).__name__}: {exc} {tries}") from None
        if 200 <= response.status_code < 300:
            log.info("SMS %s accepted by gateway (%s)", message.key, response.status_code)
            return
        detail = response.text[:300]
        if response.status_code in self.RETRY_STATUSES:
            raise SendError(f"gateway answered {response.status_code}: {detail} {tries}")
        raise PermanentSendError(f"gateway refused the message ({response.status_code}): {detail}")


def make_backend(sms):
    """The backend `sms.backend` names ("log" or "http"), configured from its `http_*` settings
    (vmo.notify.settings.SmsSettings, checked when the app starts)."""
    if sms.backend == "log":
        return LogBackend()
    if sms.backend == "http":
        return HttpBackend(sms.http_url, sms.http_api_key, api_key_header=sms.http_api_key_header,
                           timeout=sms.http_timeout, retries=sms.http_retries, backoff=sms.http_backoff)
    raise ValueError(f"unknown SMS backend {sms.backend!r}: use 'log' or 'http'")
