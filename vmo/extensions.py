"""Flask extensions, created unbound and initialised by the app factory."""
from flask import current_app, json
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints keep Alembic migrations portable between SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()


class VmoApi(Api):
    """flask-smorest's Api, documenting our error body (it adds `request_id`)."""

    from vmo.schemas_common import ErrorSchema as ERROR_SCHEMA  # noqa: N811

    def init_app(self, app, *args, **kwargs):
        from vmo import bounds

        bounds.install_converters(app)  # before any route exists
        super().init_app(app, *args, **kwargs)

    def _openapi_json(self):
        """The OpenAPI document, built on the first request and then served from memory.

        flask-smorest renders the whole document on every request (some 140 a second at best);
        every route exists once `create_app` returns, so one rendering per app (and process) is
        the document for good.
        """
        app = current_app._get_current_object()
        body = app.extensions.get("vmo.openapi_json")
        if body is None:
            body = app.extensions["vmo.openapi_json"] = json.dumps(self.spec.to_dict(), indent=2, sort_keys=False)
        return app.response_class(body, mimetype="application/json")

