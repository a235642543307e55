"""Waiting on scans: the pure rules (``domain``), store reads (``records``), task-side waits (``tasks``).

Kept empty so that importing the domain (as the store and the receiver do) pulls in nothing else.
"""
