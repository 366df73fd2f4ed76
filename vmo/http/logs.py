"""Log lines of the app: the request id on each, and nothing secret or personal in any."""
import logging
import re

from flask import current_app, g

from vmo import redact


class RequestIdFilter(logging.Filter):
    """Puts the request id on every log line ("-" outside a request)."""

    def filter(self, record):
        try:
            record.request_id = g.get("request_id", "-")
        except RuntimeError:
            record.request_id = "-"
        return True


class RedactingFormatter(logging.Formatter):
    """Last line of defence: bearer tokens, passwords, configured secrets, phones and codes never reach a log.

    Nothing logs them on purpose (the request log does not exist, errors log no headers or bodies,
    and SQL parameters are hidden); this catches what a future log line or traceback might carry.
    """

    PATTERNS = (
        (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1[redacted]"),
        (re.compile(r'(?i)(["\']?(?:password|token|secret|api_key)["\']?\s*[:=]\s*["\']?)[^"\'\s,}]+'),
         r"\1[redacted]"),
    )
    SECRET_SETTINGS = ("SECRET_KEY", "SMS_HMAC_SECRET", "SMS_HTTP_API_KEY")

    def format(self, record) -> str:
        text = super().format(record)
        for pattern, replacement in self.PATTERNS:
            text = pattern.sub(replacement, text)
        try:
            secrets = [current_app.config.get(name) for name in self.SECRET_SETTINGS]
        except RuntimeError:  # outside an app
            secrets = []
        for secret in secrets:
            if isinstance(secret, str) and len(secret) >= 8:  # never a short, common word
                text = text.replace(secret, "[redacted]")
        # Personal data and booking codes (PIPL), and passwords in URLs, whatever line carries them.
        return redact.mask_text(redact.credentials(text))
