#!/bin/sh
# Runs once, when the PostgreSQL volume is first initialised: Rasa's tracker store gets its
# own database beside the customer store (both schemas have a table named "events").
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v tracker_db="$SHOP_TRACKER_DB_NAME" <<'SQL'
SELECT format('CREATE DATABASE %I', :'tracker_db')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'tracker_db')\gexec
SQL
