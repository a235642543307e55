# The Airflow image the docker-compose stack runs: the official Airflow 3 image plus this provider.
ARG AIRFLOW_VERSION=3.3.2
FROM apache/airflow:${AIRFLOW_VERSION}-python3.11

COPY --chown=airflow:root pyproject.toml README.md /opt/provider/
COPY --chown=airflow:root airflow_copyleaks /opt/provider/airflow_copyleaks
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" "/opt/provider[postgres,emulator,s3]"
COPY --chown=airflow:root dags /opt/airflow/dags
# Mount points of the named volumes, owned by the airflow user (a new volume copies them): the
# preflight step writes the login there, the receiver and workers the artifacts.
RUN mkdir -p /opt/airflow/auth /opt/airflow/copyleaks-artifacts
