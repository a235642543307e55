"""Sensors: wait for Copyleaks scans."""
