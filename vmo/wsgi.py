"""WSGI entry for gunicorn: `gunicorn vmo.wsgi:app` (a production server: no development secrets)."""
from vmo import create_app
from vmo.security import refuse_default_secrets

app = create_app()
refuse_default_secrets(app.config)
