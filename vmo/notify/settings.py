"""SMS settings (env `VMO_SMS_*`): where texts go, how the outbox retries them, the webhook's secret.
The dataclass defaults are the only defaults."""
from dataclasses import dataclass, field

from vmo.notify.quiet import QuietHours
from vmo.notify.texts import DEFAULT_SIGNATURE
from vmo.settings import setting, text

BACKENDS = ("log", "http")
# `gunicorn vmo.wsgi:app` refuses to start while the webhook secret is still this (vmo.security).
DEV_HMAC_SECRET = "dev-sms-secret"


def _backend(value) -> str:
    return text(value).strip().lower()


@dataclass(frozen=True)
class SmsSettings:
    # Put in front of every text by the outbox. Gateways in China accept only short, registered
    # signatures; the office's full name would also cost a second segment.
    signature: str = setting(DEFAULT_SIGNATURE, key="SMS_SIGNATURE", parse=text)
    # "log" writes texts to the log (the outbox table keeps every message); "http" posts them to a gateway.
    backend: str = setting("log", key="SMS_BACKEND", parse=_backend, choices=BACKENDS)
    http_url: str | None = setting(None, key="SMS_HTTP_URL")
    http_api_key: str | None = setting(None, key="SMS_HTTP_API_KEY", parse=text)
    http_api_key_header: str = setting("X-API-Key", key="SMS_HTTP_API_KEY_HEADER")
    http_timeout: float = setting(5.0, key="SMS_HTTP_TIMEOUT", low=0.1)
    # Tries within one send (exponential backoff from http_backoff seconds); then the outbox retries
    # the message on later passes until max_attempts, after which it is marked failed.
    http_retries: int = setting(3, key="SMS_HTTP_RETRIES", low=0)
    http_backoff: float = setting(0.5, key="SMS_HTTP_BACKOFF", low=0)
    max_attempts: int = setting(8, key="SMS_MAX_ATTEMPTS", low=1)
    retry_base_seconds: int = setting(30, key="SMS_RETRY_BASE_SECONDS", low=1)
    # The inbound webhook's HMAC-SHA256 secret (its allowed clock skew is a follow-up setting).
    hmac_secret: str = setting(DEV_HMAC_SECRET, key="SMS_HMAC_SECRET", parse=text)
    # No text in the night but one-time codes (vmo.notify.quiet).
    quiet: QuietHours = field(default_factory=QuietHours)

    def __post_init__(self):
        if self.backend == "http" and not self.http_url:
            raise ValueError("the http SMS backend needs VMO_SMS_HTTP_URL")
