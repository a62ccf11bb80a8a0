"""Alembic migrations for every table of ``bot.storage.models`` (run by bot.storage.migrate)."""
