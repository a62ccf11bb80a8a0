"""Persistence: SQLAlchemy 2 (async) tables and the small named queries that use them."""
