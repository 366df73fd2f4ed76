"""SMS backends chosen by configuration: `log` (default, for development and the demo) and `http`."""
import logging
from collections.abc import Mapping

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


def make_backend(config: Mapping):
    """The backend named by `SMS_BACKEND` ("log" or "http"), configured from `SMS_HTTP_*`."""
    name = (config.get("SMS_BACKEND") or "log").lower()
    if name == "log":
        return LogBackend()
    if name == "http":
        return HttpBackend(
            config.get("SMS_HTTP_URL"), config.get("SMS_HTTP_API_KEY"),
            api_key_header=config.get("SMS_HTTP_API_KEY_HEADER") or "X-API-Key",
            timeout=float(config.get("SMS_HTTP_TIMEOUT") or 5.0),
            retries=int(config.get("SMS_HTTP_RETRIES", 3)),
            backoff=float(config.get("SMS_HTTP_BACKOFF", 0.5)),
        )
    raise ValueError(f"unknown SMS_BACKEND {name!r}: use 'log' or 'http'")
