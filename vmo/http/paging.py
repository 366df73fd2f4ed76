"""Paged lists over SQL."""
from flask_smorest import Page
from sqlalchemy import func, select

from vmo.extensions import db


class SelectPage(Page):
    """flask-smorest pagination over a SQLAlchemy `select()`: counts and slices in SQL."""

    @property
    def items(self):
        if self.page_params.first_item > 2**62:  # past any table, and past what OFFSET (int8) takes
            return []
        stmt = self.collection.limit(self.page_params.page_size).offset(self.page_params.first_item)
        return list(db.session.scalars(stmt))

    @property
    def item_count(self):
        return db.session.scalar(select(func.count()).select_from(self.collection.order_by(None).subquery()))
