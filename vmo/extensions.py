"""Flask extensions, created unbound and initialised by the app factory."""
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


api = VmoApi()
