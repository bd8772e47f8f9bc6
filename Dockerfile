# The Stratum operator image: `stratum run` on a slim Python base, as a non-root user, ready for a
# read-only root filesystem (the only writable path it needs is /tmp, an emptyDir in deploy/ and
# the chart).
#
#   docker build -t stratum:0.1.0 .
#
# Dependencies are installed with `-c constraints.txt`, the same pins the tests run with, and only
# the runtime ones (no [test] extra). Pin the base image by digest for reproducible builds:
#   docker build --build-arg BASE_IMAGE=python:3.11.7-slim-bookworm@sha256:<digest> .
# tests/unit/test_packaging.py runs the builder's RUN step in a fresh virtual environment and
# checks the rules below (pinned base, numeric non-root USER, exec-form ENTRYPOINT, ...).

ARG BASE_IMAGE=python:3.11.7-slim-bookworm

# ---------------------------------------------------------------- builder: a venv with the operator
FROM ${BASE_IMAGE} AS builder

ARG VENV=/opt/stratum
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /src
COPY pyproject.toml constraints.txt README.md LICENSE ./
COPY operator/ operator/

# One step, so the test can run exactly this in a fresh venv. Bytecode is compiled here because
# the running container can't write it (read-only root filesystem, PYTHONDONTWRITEBYTECODE=1).
RUN python -m venv "$VENV" \
    && "$VENV/bin/pip" install --no-cache-dir -c constraints.txt . \
    && "$VENV/bin/python" -m compileall -q "$VENV/lib"

# ---------------------------------------------------------------- runtime: the venv, nothing else
FROM ${BASE_IMAGE}

LABEL org.opencontainers.image.title="stratum" \
      org.opencontainers.image.description="Kubernetes operator for LINSTOR storage and MAAS software RAID" \
      org.opencontainers.image.licenses="Apache-2.0"

# The same path as in the builder: the venv's scripts name their interpreter by absolute path.
COPY --from=builder /opt/stratum /opt/stratum

ENV PATH=/opt/stratum/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp

# 65532: the conventional "nonroot" uid/gid; numeric so runAsNonRoot can verify it.
USER 65532:65532
WORKDIR /tmp

# 8080: liveness (/healthz), 9090: Prometheus metrics.
EXPOSE 8080 9090

ENTRYPOINT ["/opt/stratum/bin/stratum", "run"]
CMD ["--liveness", "http://0.0.0.0:8080/healthz", "--metrics-port", "9090"]
