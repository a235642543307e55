"""The asynchronous-scan fixtures (receiver, connection to the emulator) for the topology tests."""

from __future__ import annotations

from tests.scans.conftest import Receiver, receiver, scan_conn

__all__ = ["Receiver", "receiver", "scan_conn"]
