"""Login throttling kept in PostgreSQL, so it holds across web instances and restarts."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import delete, select

from db.models import LoginAttempt, utcnow
from db.tenancy import global_session
from runtime.config import get_settings


def login_allowed(ip: str, email: str, now: datetime | None = None) -> bool:
    """False once an email has too many recent failures, or an IP too many recent attempts."""
    s_ = get_settings()
    since = (now or utcnow()) - timedelta(seconds=s_.login_window_seconds)
    email = email.strip().lower()
    with global_session() as s:
        failures = s.exec(
            select(func.count())
            .select_from(LoginAttempt)
            .where(LoginAttempt.email == email, LoginAttempt.created_at > since, LoginAttempt.success.is_(False))
        ).one()
        attempts = s.exec(
            select(func.count()).select_from(LoginAttempt).where(LoginAttempt.ip == ip, LoginAttempt.created_at > since)
        ).one()
    return failures < s_.login_max_failures_per_email and attempts < s_.login_max_attempts_per_ip


def record_attempt(ip: str, email: str, success: bool, now: datetime | None = None) -> None:
    with global_session() as s:
        s.add(LoginAttempt(ip=ip, email=email.strip().lower()[:320], success=success, created_at=now or utcnow()))
        s.commit()


def purge_old(now: datetime | None = None) -> None:
    cutoff = (now or utcnow()) - timedelta(days=1)
    with global_session() as s:
        s.exec(delete(LoginAttempt).where(LoginAttempt.created_at < cutoff))
        s.commit()
