"""Shared steps for the browser tests: sign in, take screenshots, find toasts."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

from playwright.sync_api import Page, expect

ROOT = Path(__file__).resolve().parents[2]
# Screenshots of the pages go to the tests' output folder so reviewers can look at them.
SCREENSHOTS = Path(os.environ.get("BROWSER_SCREENSHOTS") or ROOT / "test-results" / "screenshots")
PASSWORD = "senha-forte-123"


def shot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"pv_{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def path_of(page: Page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url)


def login(page: Page, email: str, password: str = PASSWORD, expect_path: str | None = "/painel") -> None:
    page.goto("/login")
    expect(page.get_by_role("heading", name="Entrar")).to_be_visible()
    page.locator("#login-form input[name=email]").fill(email)
    page.locator("#login-form input[name=password]").fill(password)
    page.locator("#login-submit").click()
    if expect_path:
        page.wait_for_url(re.compile(re.escape(expect_path) + r"$"))
        expect(page.locator("#workspace-name")).to_be_visible()


def new_owner(company: str = "Clínica Sorriso", name: str = "Ana Souza", email_verified: bool = True):
    """A fresh workspace and its owner: (NewWorkspace, email, password). The owner confirmed their
    e-mail long ago (no notice above the pages) unless `email_verified=False`."""
    from runtime.auth.accounts import create_workspace

    email = f"dona-{uuid.uuid4().hex[:8]}@example.com"
    ws = create_workspace(company, email, PASSWORD, owner_name=name, email_verified=email_verified)
    return ws, email, PASSWORD


def open_page(page: Page, route: str) -> None:
    """Navigate inside the panel and wait for the page's heading (the session check has run)."""
    page.goto(route)
    page.wait_for_url(re.compile(re.escape(route) + r"$"))
    expect(page.locator("#workspace-name")).to_be_visible()


def toast(page: Page):
    """The newest toast (sonner) on the page."""
    return page.locator("[data-sonner-toast]").last
