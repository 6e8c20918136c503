#!/usr/bin/env bash
# Install (if missing) and start Debian's PostgreSQL, create the test role and
# database, and print the URL to export as CONSENTRY_TEST_PG_URL.
#
#   export CONSENTRY_TEST_PG_URL=$(scripts/pg-setup.sh)
#
# Needs root (or sudo). Idempotent: safe to run again.
set -euo pipefail

PG_USER=${PG_USER:-consentry}
PG_PASSWORD=${PG_PASSWORD:-consentry}
PG_DB=${PG_DB:-consentry_test}
PG_PORT=${PG_PORT:-5432}

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]; then
  echo "installing postgresql from Debian's packages..." >&2
  as_root apt-get update >&2
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y postgresql >&2
fi

PG_VERSION=$(ls /usr/lib/postgresql | sort -V | tail -n1)
if ! pg_lsclusters -h | awk -v v="$PG_VERSION" '$1==v && $2=="main"' | grep -q .; then
  as_root pg_createcluster "$PG_VERSION" main >&2
fi
if ! pg_lsclusters -h | awk -v v="$PG_VERSION" '$1==v && $2=="main" && $4=="online"' | grep -q .; then
  as_root pg_ctlcluster "$PG_VERSION" main start >&2
fi

psql_admin() { as_root su postgres -c "psql -v ON_ERROR_STOP=1 -qtA -p $PG_PORT $*"; }

for _ in $(seq 1 30); do
  if psql_admin "-c 'select 1'" >/dev/null 2>&1; then break; fi
  sleep 1
done

if [ "$(psql_admin "-c \"select 1 from pg_roles where rolname='$PG_USER'\"")" != "1" ]; then
  psql_admin "-c \"create role $PG_USER login createdb password '$PG_PASSWORD'\"" >&2
else
  psql_admin "-c \"alter role $PG_USER login createdb password '$PG_PASSWORD'\"" >&2
fi
if [ "$(psql_admin "-c \"select 1 from pg_database where datname='$PG_DB'\"")" != "1" ]; then
  psql_admin "-c \"create database $PG_DB owner $PG_USER\"" >&2
fi

echo "postgresql+psycopg://$PG_USER:$PG_PASSWORD@localhost:$PG_PORT/$PG_DB"
