"""Apache Airflow provider for the Copyleaks API."""

__version__ = "0.1.0"
