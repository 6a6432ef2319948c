#!/bin/bash
# First boot: create the datadir, the ODS databases and users from deploy/.env
# (mounted read-only at /etc/ods), run initdb.d seeds. Later boots keep the
# volume as it is, like the official image. The settings are read from the
# file rather than passed as environment, so that the manual's
# `docker-compose exec mysql mysql -e ...` is not redirected by MYSQL_HOST.
set -euo pipefail
datadir=/var/lib/mysql
setting() {
  local value
  value=$(grep -E "^(export )?$1=" /etc/ods/.env 2>/dev/null | tail -n 1 | cut -d= -f2-) || true
  value=${value%\"}; value=${value#\"}; value=${value%\'}; value=${value#\'}
  printf '%s' "$value"
}
if [ ! -d "$datadir/mysql" ]; then
  MYSQL_ROOT_PASSWORD=${MYSQL_ROOT_PASSWORD:-$(setting MYSQL_ROOT_PASSWORD)}
  MYSQL_USER=${MYSQL_USER:-$(setting MYSQL_USER)}
  MYSQL_PASSWORD=${MYSQL_PASSWORD:-$(setting MYSQL_PASSWORD)}
  : "${MYSQL_ROOT_PASSWORD:?MYSQL_ROOT_PASSWORD is not set in deploy/.env}"
  : "${MYSQL_USER:?MYSQL_USER is not set in deploy/.env}"
  : "${MYSQL_PASSWORD:?MYSQL_PASSWORD is not set in deploy/.env}"
  echo "[entrypoint] initialising $datadir"
  mariadb-install-db --user=mysql --datadir="$datadir" --skip-test-db --auth-root-authentication-method=socket >/dev/null
  chown -R mysql:mysql "$datadir"
  mariadbd --user=mysql --skip-networking --socket=/run/mysqld/init.sock &
  pid=$!
  for _ in $(seq 60); do mysqladmin --socket=/run/mysqld/init.sock ping --silent 2>/dev/null && break; sleep 0.5; done
  sql() { mariadb --socket=/run/mysqld/init.sock "$@"; }
  esc() { printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e "s/'/''/g"; }
  root_pw=$(esc "$MYSQL_ROOT_PASSWORD")
  app_pw=$(esc "$MYSQL_PASSWORD")
  # Passwords go through stdin, never a command line.
  sql <<SQL
ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('${root_pw}');
CREATE USER 'root'@'%' IDENTIFIED BY '${root_pw}';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;
CREATE DATABASE IF NOT EXISTS one_data_alldata CHARACTER SET utf8mb4;
CREATE DATABASE IF NOT EXISTS one_data_bisheng CHARACTER SET utf8mb4;
CREATE USER '${MYSQL_USER}'@'%' IDENTIFIED BY '${app_pw}';
GRANT ALL PRIVILEGES ON one_data_alldata.* TO '${MYSQL_USER}'@'%';
GRANT ALL PRIVILEGES ON one_data_bisheng.* TO '${MYSQL_USER}'@'%';
FLUSH PRIVILEGES;
SQL
  for f in /docker-entrypoint-initdb.d/*.sql; do
    [ -e "$f" ] || continue
    echo "[entrypoint] running $f"
    sql < "$f"
  done
  mysqladmin --socket=/run/mysqld/init.sock shutdown
  wait "$pid" || true
  echo "[entrypoint] initialised"
fi
exec "$@" --user=mysql
