"""WSGI entry for gunicorn: `gunicorn vmo.wsgi:app`."""
from vmo import create_app

app = create_app()
