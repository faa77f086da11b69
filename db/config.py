"""The database's own settings (the part of the environment db/ needs), so db/ depends on nothing
of runtime/: runtime.config.Settings extends this class, and .env.example documents it there."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class DatabaseSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=PROJECT_ROOT / ".env", env_file_encoding="utf-8", extra="ignore")

    # DATABASE_URL is the application's own (non-superuser) role: RLS applies to it.
    # DATABASE_ADMIN_URL owns the schema and runs migrations. Both unset = embedded.
    database_url: str | None = None
    database_admin_url: str | None = None
    db_app_role: str = "piloto_app"
    data_dir: Path = PROJECT_ROOT / ".data"
    db_pool_size: int = 10  # per process; as many again may open under bursts


@lru_cache
def get_db_settings() -> DatabaseSettings:
    return DatabaseSettings()
