"""Accounts, sessions, API keys and login rate limits."""
