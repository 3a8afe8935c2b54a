"""Alembic migrations; shipped inside the wheel as `runelog.migrations`."""
