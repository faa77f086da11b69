"""Pages of the web panel: sign-in/sign-up and the signed-in sections."""
