"""Log lines of the app: the request id on each, and nothing secret or personal in any."""
import logging
import re

from flask import current_app, g, has_app_context

from vmo import redact, settings


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

    def format(self, record) -> str:
        text = super().format(record)
        for pattern, replacement in self.PATTERNS:
            text = pattern.sub(replacement, text)
        for secret in self._secrets():
            if isinstance(secret, str) and len(secret) >= 8:  # never a short, common word
                text = text.replace(secret, "[redacted]")
        # Personal data (phones, postal addresses) and booking codes (PIPL), and passwords in URLs,
        # whatever line carries them.
        return redact.mask_address(redact.mask_text(redact.credentials(text)))

    @staticmethod
    def _secrets() -> list:
        """Flask's secret key and the SMS gateway's secrets, when there is an app (none outside one)."""
        if not has_app_context():
            return []
        from vmo.notify.settings import SmsSettings

        sms = current_app.extensions.get(settings.EXTENSION, {}).get(SmsSettings)
        return [current_app.config.get("SECRET_KEY")] + ([sms.hmac_secret, sms.http_api_key] if sms else [])
