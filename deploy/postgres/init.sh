#!/usr/bin/env bash
# PostgreSQL first-start initialisation for the compose stack
# (mounted into /docker-entrypoint-initdb.d/, run once, on an empty data directory).
#
# Creates the application role and one database per service, each owned by that role:
#   lianxin_requests, lianxin_volunteers, lianxin_notifications, lianxin_surveys, lianxin_gateway
# Each service only ever gets the URL of its own database; the services never share tables.
#
# Environment (from deploy/.env through compose):
#   POSTGRES_USER         the superuser the official image creates (runs this script)
#   LIANXIN_DB_USER       application role (default: lianxin)
#   LIANXIN_DB_PASSWORD   its password (required)
#   LIANXIN_DATABASES     override the database list (space separated; default: the five above)
set -euo pipefail

app_user="${LIANXIN_DB_USER:-lianxin}"
app_password="${LIANXIN_DB_PASSWORD:?LIANXIN_DB_PASSWORD must be set (deploy/.env)}"
databases="${LIANXIN_DATABASES:-lianxin_requests lianxin_volunteers lianxin_notifications lianxin_surveys lianxin_gateway}"

run_psql() {
    psql --no-psqlrc -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres "$@"
}

# psql variables (:"ident" and :'literal') quote the values; nothing is spliced into SQL text.
run_psql -v app_user="$app_user" -v app_password="$app_password" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'app_user', :'app_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app_user')
\gexec
SQL

for database in $databases; do
    run_psql -v db="$database" -v app_user="$app_user" <<'SQL'
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'app_user')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db')
\gexec
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT ALL ON DATABASE :"db" TO :"app_user";
SQL
    echo "lianxin: database ${database} owned by ${app_user}"
done
