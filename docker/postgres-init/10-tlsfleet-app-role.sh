#!/bin/sh
# Runs once, when the postgres image initialises an empty volume (docker-entrypoint-initdb.d).
# The application's login role; the migrations give it its rights (docs/audit.md).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -v pw="$TLSFLEET_APP_DB_PASSWORD" <<'SQL'
CREATE ROLE tlsfleet_app LOGIN PASSWORD :'pw';
SQL
