"""PilotoDeVendas runtime: domain, services and the FastAPI service. Never imports webapp."""
