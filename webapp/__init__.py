"""The Reflex web panel. Pages and UI state only: every rule lives in `runtime`."""
