#!/bin/bash
# First boot: create the datadir, the ODS databases and users, run initdb.d seeds.
# Later boots keep the volume as it is, like the official image.
# - The manual's layout: settings from deploy/.env (mounted read-only at /etc/ods),
#   not the environment, so that `docker-compose exec mysql mysql -e ...` is not
#   redirected by MYSQL_HOST; root logs in over the socket (or with its password).
# - With MYSQL_ROOT_PASSWORD in the environment (the second layout), as the official
#   mysql:8.0 image does: root needs its password, even over the socket; one database,
#   MYSQL_DATABASE, for MYSQL_USER; the seeds go into it.
set -euo pipefail
datadir=/var/lib/mysql
setting() {
  local value
  value=$(grep -E "^(export )?$1=" /etc/ods/.env 2>/dev/null | tail -n 1 | cut -d= -f2-) || true
  value=${value%\"}; value=${value#\"}; value=${value%\'}; value=${value#\'}
  printf '%s' "$value"
}
if [ ! -d "$datadir/mysql" ]; then
  official=${MYSQL_ROOT_PASSWORD:+yes}
  MYSQL_ROOT_PASSWORD=${MYSQL_ROOT_PASSWORD:-$(setting MYSQL_ROOT_PASSWORD)}
  MYSQL_USER=${MYSQL_USER:-$(setting MYSQL_USER)}
  MYSQL_PASSWORD=${MYSQL_PASSWORD:-$(setting MYSQL_PASSWORD)}
  : "${MYSQL_ROOT_PASSWORD:?MYSQL_ROOT_PASSWORD is not set in deploy/.env}"
  : "${MYSQL_USER:?MYSQL_USER is not set in deploy/.env}"
  : "${MYSQL_PASSWORD:?MYSQL_PASSWORD is not set in deploy/.env}"
  echo "[entrypoint] initialising $datadir"
  auth=socket; [ -n "$official" ] && auth=normal
  mariadb-install-db --user=mysql --datadir="$datadir" --skip-test-db --auth-root-authentication-method=$auth >/dev/null
  chown -R mysql:mysql "$datadir"
  mariadbd --user=mysql --skip-networking --socket=/run/mysqld/init.sock &
  pid=$!
  for _ in $(seq 60); do mysqladmin --socket=/run/mysqld/init.sock ping --silent 2>/dev/null && break; sleep 0.5; done
  # Passwords go through stdin or MYSQL_PWD, never a command line. With auth=normal, root has no
  # password until the first statement sets one: MYSQL_PWD is given only after it.
  sql() { mariadb --socket=/run/mysqld/init.sock "$@"; }
  esc() { printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e "s/'/''/g"; }
  root_pw=$(esc "$MYSQL_ROOT_PASSWORD")
  app_pw=$(esc "$MYSQL_PASSWORD")
  if [ -n "$official" ]; then
    db=${MYSQL_DATABASE:-onedata}
    sql <<SQL
ALTER USER 'root'@'localhost' IDENTIFIED BY '${root_pw}';
DELETE FROM mysql.global_priv WHERE User IN ('root', '') AND Host <> 'localhost';
FLUSH PRIVILEGES;
CREATE USER 'root'@'%' IDENTIFIED BY '${root_pw}';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;
CREATE DATABASE IF NOT EXISTS \`${db}\` CHARACTER SET utf8mb4;
CREATE USER '${MYSQL_USER}'@'%' IDENTIFIED BY '${app_pw}';
GRANT ALL PRIVILEGES ON \`${db}\`.* TO '${MYSQL_USER}'@'%';
FLUSH PRIVILEGES;
SQL
    export MYSQL_PWD="$MYSQL_ROOT_PASSWORD"
  else
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
  fi
  for f in /docker-entrypoint-initdb.d/*.sql; do
    [ -e "$f" ] || continue
    echo "[entrypoint] running $f"
    if [ -n "$official" ]; then  # one database: every USE goes to it
      sed -E "s/^USE [a-z_]+;/USE \`${db}\`;/" "$f" | sql
    else
      sql < "$f"
    fi
  done
  mysqladmin --socket=/run/mysqld/init.sock shutdown
  wait "$pid" || true
  unset MYSQL_PWD
  echo "[entrypoint] initialised"
fi
exec "$@" --user=mysql
