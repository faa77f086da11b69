"""Engines for the two database roles, created once per URL."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Engine, create_engine

from .config import get_db_settings
from .embedded import DatabaseUrls, start_embedded

_urls: DatabaseUrls | None = None


def database_urls() -> DatabaseUrls:
    """Configured URLs, or an embedded server under DATA_DIR when DATABASE_URL is unset."""
    global _urls
    if _urls is None:
        s = get_db_settings()
        if s.database_url:
            _urls = DatabaseUrls(
                admin=_normalize(s.database_admin_url or s.database_url),
                app=_normalize(s.database_url),
            )
        else:
            _urls = start_embedded(s.data_dir / "postgres", s.db_app_role)
    return _urls


def set_database_urls(urls: DatabaseUrls | None) -> None:
    """Point this process at specific databases (tests, the dev launcher)."""
    global _urls
    _urls = urls
    _engine.cache_clear()


def _normalize(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@lru_cache
def _engine(url: str) -> Engine:
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=get_db_settings().db_pool_size,
        max_overflow=get_db_settings().db_pool_size,
    )


def app_engine() -> Engine:
    return _engine(database_urls().app)


def admin_engine() -> Engine:
    return _engine(database_urls().admin)
