#!/usr/bin/env bash
# The manual's 诊断流程 typed as a shell script: what a person runs to collect
# the same five parts that `ods-fix diagnose` reports (status, resources,
# error logs, reachability, DB connectivity) plus the web checks.
# Usage: bench/manual_diagnose.sh PROJECT_DIR "COMPOSE CMD"
set -u
cd "$1"
compose=${2:-docker-compose}
$compose ps
docker stats --no-stream
$compose logs --tail=100 | grep -i error
for api in alldata-api bisheng-api; do
  for target in mysql:3306 redis:6379 milvus-standalone:19530; do
    $compose exec -T "$api" python -c "
import socket, sys
host, port = sys.argv[1].split(':')
socket.create_connection((host, int(port)), timeout=3)
print('reachable', sys.argv[1])" "$target"
  done
  $compose exec -T "$api" curl -s http://127.0.0.1:8080/api/v1/health; echo
done
$compose exec -T alldata-api python -c "
from database import engine
with engine.connect() as conn:
    print(conn.execute('SELECT 1').scalar())
"
$compose exec -T mysql mysql -e 'SELECT 1'
$compose exec -T web nginx -t
$compose exec -T web ls -la /app/dist/
exit 0
