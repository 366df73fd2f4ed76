"""Outbound text messages: a transactional outbox, sent after the commit by a backend."""
