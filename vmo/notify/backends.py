"""SMS backends chosen by configuration: `log` (default, for development and the demo) and `http`."""
import logging
import time
from collections.abc import Callable, Mapping

import requests

from vmo import redact

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
    dropped connection) is recognised by the gateway and never sends the text twice. Transient
    failures (connection errors, timeouts, 408, 429, 5xx) are retried here with exponential backoff;
    other 4xx answers are permanent refusals.
    """

    name = "http"
    _RETRYABLE = {408, 425, 429}

    def __init__(self, url: str, api_key: str | None = None, *, api_key_header: str = "X-API-Key",
                 timeout: float = 5.0, retries: int = 3, backoff: float = 0.5,
                 session: requests.Session | None = None, sleep: Callable[[float], None] = time.sleep):
        if not url:
            raise ValueError("SMS_HTTP_URL must be set for the http SMS backend")
        self.url = url
        self.api_key = api_key
        self.api_key_header = api_key_header
        self.timeout = timeout
        self.retries = max(int(retries), 0)
        self.backoff = float(backoff)
        self.session = session or requests.Session()
        self.sleep = sleep

    def _headers(self, message) -> dict:
        headers = {"Idempotency-Key": message.key, "Content-Type": "application/json; charset=utf-8"}
        if self.api_key:
            headers[self.api_key_header] = self.api_key
        return headers

    def send(self, message) -> None:
        payload = {"to": message.phone, "text": message.body, "reference": message.key}
        last_error = "not attempted"
        for attempt in range(self.retries + 1):
            if attempt:
                self.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                response = self.session.post(self.url, json=payload, headers=self._headers(message),
                                             timeout=self.timeout)
            except requests.RequestException as exc:
                last_error = f"{type(exc).__name__}: {exc}"
                continue
            if 200 <= response.status_code < 300:
                log.info("SMS %s accepted by gateway (%s)", message.key, response.status_code)
                return
            detail = response.text[:300]
            if response.status_code in self._RETRYABLE or response.status_code >= 500:
                last_error = f"gateway answered {response.status_code}: {detail}"
                continue
            raise PermanentSendError(f"gateway refused the message ({response.status_code}): {detail}")
        raise SendError(f"{last_error} (after {self.retries + 1} tries)")


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
