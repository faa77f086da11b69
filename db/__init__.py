"""Data layer: SQLModel models, engines, tenancy (RLS) and Alembic migrations."""
