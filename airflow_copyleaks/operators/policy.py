"""Moved to :mod:`airflow_copyleaks.checks.policy`; this path keeps existing DAG imports working."""

from airflow_copyleaks.checks.policy import Breach, Policy

__all__ = ["Breach", "Policy"]
