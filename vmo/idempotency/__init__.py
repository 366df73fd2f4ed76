"""Idempotency keys: a retried write returns the first answer and changes nothing."""
