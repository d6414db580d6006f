#!/usr/bin/env bash
# Set up what onemap needs on a Debian machine, then run it:
#   ./dev.sh demo   the platform with the sample district born from its deliveries (http://127.0.0.1:8000/map)
#   ./dev.sh test   the whole test suite against a real PostGIS and headless Chromium
# Idempotent: it installs only what is missing (system packages with apt when run as root).
set -euo pipefail
cd "$(dirname "$0")"

postgres_major() {
  ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -n 1
}

apt_install() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "onemap needs these Debian packages: $*; install them with: sudo apt-get install -y $*" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

system_packages() {
  local wanted=()
  local major
  major=$(postgres_major)
  if [ -z "$major" ]; then
    wanted+=(postgresql postgresql-15-postgis-3)
    major=15
  elif [ ! -f "/usr/share/postgresql/$major/extension/postgis.control" ]; then
    wanted+=("postgresql-$major-postgis-3")
  fi
  if [ "${1:-}" = test ]; then
    command -v chromium >/dev/null || wanted+=(chromium chromium-driver)
    # GDAL's own tools (ogrinfo, ogr2ogr, gdalinfo) are clients the features and tiles tests drive
    command -v gdalinfo >/dev/null || wanted+=(gdal-bin)
    # nginx in front of onemap, sending warm public tiles from the disk cache (tiles/static_front.py)
    [ -x /usr/sbin/nginx ] || wanted+=(nginx)
    # the screens' Chinese labels in headless screenshots need a CJK font
    fc-list :lang=zh 2>/dev/null | grep -q . || wanted+=(fonts-wqy-microhei)
  fi
  if [ ${#wanted[@]} -gt 0 ]; then
    apt_install "${wanted[@]}"
  fi
}

python_env() {
  local stamp=.venv/.onemap-installed
  if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
  fi
  # Reinstall only when the project's dependencies changed.
  local digest
  digest=$(sha256sum pyproject.toml | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$digest" ]; then
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e ".[test]"
    # The OGC conformance suite the features tests run. Its own pins (pytest<9, httpx<0.28, pyarrow<18,
    # openapi-schema-validator<0.7) would downgrade the platform's, and it runs fine on the newer ones, so it is
    # installed without them; what it imports (httpx, pytest, pyyaml, geopandas, openapi-schema-validator via
    # openapi-spec-validator, referencing) comes with the test extra.
    .venv/bin/python -m pip install -q --no-deps "ogctests==0.1.15"
    echo "$digest" > "$stamp"
  fi
}

command="${1:-}"
shift || true
case "$command" in
  demo)
    system_packages demo
    python_env
    exec .venv/bin/onemap demo "$@"
    ;;
  test)
    system_packages test
    python_env
    exec .venv/bin/python -m pytest "$@"
    ;;
  *)
    echo "usage: ./dev.sh demo | ./dev.sh test [pytest arguments]" >&2
    exit 2
    ;;
esac
