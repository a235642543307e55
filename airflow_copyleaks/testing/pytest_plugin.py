"""Pytest fixtures for the Copyleaks emulator (placeholder until the emulator lands)."""
