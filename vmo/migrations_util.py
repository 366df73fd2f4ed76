"""Bringing a database to the current schema with Alembic, from the CLI and the tests."""
from flask import current_app
from flask_migrate import upgrade


def upgrade_database() -> None:
    upgrade(directory=current_app.extensions["migrate"].directory)
