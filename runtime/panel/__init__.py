"""What the web panel does, as plain functions taking a runtime.access.Principal: one module per
page. They check the role, work inside the workspace (RLS) and return plain dicts for the UI."""
