# fcr-planner service image. Build: docker build -t fcr-planner .
# Run:   docker run -p 8000:8000 -e DATABASE_URL=postgresql://user:pass@db:5432/fcr fcr-planner
# Without DATABASE_URL it uses SQLite at /data/fcr.db (mount a volume on /data to keep it).

FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN apt-get update && apt-get install -y --no-install-recommends build-essential && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY forecasting ./forecasting
COPY scheduling ./scheduling
COPY migrations ./migrations
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --upgrade pip setuptools wheel \
    && /opt/venv/bin/pip install .

FROM python:3.11-slim-bookworm AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DATABASE_URL=sqlite:////data/fcr.db \
    FCR_HOST=0.0.0.0 \
    FCR_PORT=8000
RUN groupadd --system fcr && useradd --system --gid fcr --home-dir /data --create-home fcr
COPY --from=build /opt/venv /opt/venv
USER fcr
WORKDIR /data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"
CMD ["sh", "-c", "fcr-planner migrate && fcr-planner serve --host 0.0.0.0"]
