"""Helpers shared by the tests and the benchmarks: a live gunicorn server, bulk factories, statement counts."""
