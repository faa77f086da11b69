"""Every page of the app, as the records (webapp.route.Route) their modules export: the public
pages first, then the signed-in panel in the sidebar's order. webapp.py registers this list."""

from __future__ import annotations

from ..route import Route
from . import (
    agents,
    auth,
    channels,
    dashboard,
    inbox,
    invite,
    knowledge,
    leads,
    password,
    playground,
    settings,
    status,
    team,
    verify_email,
)

PUBLIC: tuple[Route, ...] = (
    auth.HOME,
    auth.LOGIN,
    auth.SIGNUP,
    invite.PAGE,
    *password.PAGES,
    verify_email.PAGE,
)
PANEL: tuple[Route, ...] = (
    dashboard.PAGE,
    agents.PAGE,
    knowledge.PAGE,
    playground.PAGE,
    inbox.PAGE,
    leads.PAGE,
    channels.PAGE,
    team.PAGE,
    settings.PAGE,
    status.PAGE,
)
ROUTES: tuple[Route, ...] = (*PUBLIC, *PANEL)
