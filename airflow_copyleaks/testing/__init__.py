"""Testing helpers for the Copyleaks provider: a local Copyleaks API emulator and pytest fixtures.

Nothing here imports Airflow, so users can run the emulator (and its pytest plugin) anywhere.
"""
