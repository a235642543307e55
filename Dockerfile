# The Airflow image the docker-compose stack runs: the official Airflow 3 image plus this provider.
ARG AIRFLOW_VERSION=3.3.2
FROM apache/airflow:${AIRFLOW_VERSION}-python3.11

COPY --chown=airflow:root pyproject.toml README.md /opt/provider/
COPY --chown=airflow:root airflow_copyleaks /opt/provider/airflow_copyleaks
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" "/opt/provider[postgres,emulator]"
COPY --chown=airflow:root dags /opt/airflow/dags
