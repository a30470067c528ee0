# telco-analytics: the `telco` command in a container; by default it serves the registered
# satisfaction model (`telco serve`) on port 8000.
#
# NOTE: written for Docker/Podman but NOT built or run on the development machine (it has no
# container engine). Build and check it where one is available:
#   docker build -t telco-analytics .
#   docker run --rm -p 8000:8000 -e MLFLOW_TRACKING_URI=http://<mlflow-host>:5000 telco-analytics
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MLFLOW_DISABLE_TELEMETRY=true

WORKDIR /app

# Dependencies first (cached layer): the tested versions from the lock file, without the
# optional Spark engine and the browser-test tooling (about 0.5 GB the server never uses).
COPY requirements.lock ./
RUN grep -vE '^(pyspark|py4j|playwright|pyee|greenlet)==' requirements.lock > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# The package itself (its dependencies are already installed from the lock).
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-deps . && rm -rf /app/src

# Run as an unprivileged user; /data holds the local tracking store, runs and the
# prediction log when no external MLflow server is configured.
RUN useradd --create-home --uid 10001 telco && mkdir /data && chown telco /data
USER telco
WORKDIR /data
ENV MLFLOW_TRACKING_URI=sqlite:////data/mlflow.db \
    TELCO_MONITORING_DIR=/data/telco-monitoring
VOLUME ["/data"]

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"

CMD ["telco", "serve", "--host", "0.0.0.0", "--port", "8000"]
