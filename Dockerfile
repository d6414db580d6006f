# The onemap API image: `onemap serve` on an external PostGIS (ONEMAP_DATABASE_URL), no embedded cluster.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    ONEMAP_DATA_DIR=/var/lib/onemap

# curl for the healthcheck; GDAL, GEOS and PROJ come inside the rasterio/shapely/pyproj wheels.
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --home-dir /home/onemap onemap \
    && mkdir -p /var/lib/onemap /var/cache/onemap/tiles && chown -R onemap /var/lib/onemap /var/cache/onemap

WORKDIR /app
COPY pyproject.toml README.md ./
COPY spatial ./spatial
COPY layers ./layers
COPY tiles ./tiles
COPY api ./api
RUN pip install .

USER onemap
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=5 \
    CMD curl -fsS http://127.0.0.1:8000/health || exit 1
# `serve` runs the migrations and registers the built-in layers before starting the workers.
CMD ["onemap", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "4"]
