"""Webhook receiver: authentication, URLs handed to Copyleaks, artifact storage and the ASGI app."""
