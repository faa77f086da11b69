"""One state module per panel page. States stay thin: they call runtime.panel services."""
