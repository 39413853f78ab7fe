"""The web connector: the aiohttp server, customer API and health endpoints."""
