"""Triggers: deferrable waits on Copyleaks scans and exports, read from the ScanStore."""
