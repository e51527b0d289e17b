#!/usr/bin/env bash
# A Docker engine, an authenticated image registry and a Node base image, all on 127.0.0.1, for the
# end-to-end tests. Nothing here reaches another address: dockerd runs without a bridge or iptables,
# the registry listens on loopback only, and the base image is imported from this machine's own node
# because Docker Hub cannot be pulled from.
#
#   scripts/local-docker.sh up [--quiet]   install what is missing, start what is not running
#   scripts/local-docker.sh down [dockerd|registry]...
#                                          stop what this script started (all by default)
#   scripts/local-docker.sh status         what runs; exit 0 only when everything is ready
#   scripts/local-docker.sh env            shell lines: REGISTRY_HOST, REGISTRY_USER, ...
#
# REGISTRY_PORT (default 5000) moves the registry. LOCAL_DOCKER_STARTED_FILE, when set, names a file
# to which `up` appends each component it started, so a caller can stop only those.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TMP_DIR=$ROOT/.tmp
DOCKER_DIR=$TMP_DIR/docker
DOCKERD_PID_FILE=$DOCKER_DIR/dockerd.pid
DOCKERD_LOG=$DOCKER_DIR/dockerd.log
REGISTRY_DIR=$TMP_DIR/registry
REGISTRY_PID_FILE=$REGISTRY_DIR/registry.pid
REGISTRY_LOG=$REGISTRY_DIR/registry.log
REGISTRY_CONFIG=$REGISTRY_DIR/config.yml
REGISTRY_HTPASSWD=$REGISTRY_DIR/htpasswd
REGISTRY_PASSWORD_FILE=$REGISTRY_DIR/password
REGISTRY_ADDR_FILE=$REGISTRY_DIR/addr
REGISTRY_USER=AWS
REGISTRY_PORT=${REGISTRY_PORT:-5000}
LOCK_FILE=$TMP_DIR/local-docker.lock

DOCKERD_START_SECONDS=60
REGISTRY_START_SECONDS=30
STOP_SECONDS=30

QUIET=false
BASE_ROOTFS=

say() { [ "$QUIET" = true ] || echo "local-docker: $*"; }
fail() {
  echo "local-docker: $*" >&2
  exit 1
}

# The one message for "no Docker here": what failed, then how to get a working engine.
no_docker() {
  cat >&2 <<EOF
local-docker: Docker is not available: $1
  To get it on Debian/Ubuntu, as root:
    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y docker.io docker-registry apache2-utils curl
    dockerd --bridge=none --iptables=false --ip6tables=false &
  then run: bash scripts/local-docker.sh up
  Elsewhere install Docker Engine (https://docs.docker.com/engine/install/) and rerun as root.
EOF
  exit 1
}

is_root() { [ "$(id -u)" = 0 ]; }

node_major() { node -p 'process.versions.node.split(".")[0]'; }
base_image() { echo "local/node-base:$(node_major)"; }

# The address the running registry listens on, else the one it would listen on.
registry_host() {
  if registry_pid >/dev/null && [ -s "$REGISTRY_ADDR_FILE" ]; then
    cat "$REGISTRY_ADDR_FILE"
  else
    echo "127.0.0.1:$REGISTRY_PORT"
  fi
}

record_started() {
  if [ -n "${LOCAL_DOCKER_STARTED_FILE:-}" ]; then echo "$1" >>"$LOCAL_DOCKER_STARTED_FILE"; fi
}

# Prints the pid in $1 when that process is alive and its command line starts with $2, so a pid file
# left behind by a crash never makes us signal an unrelated process that reused the number.
live_pid() {
  local pid_file=$1 command=$2 pid
  [ -s "$pid_file" ] || return 1
  pid=$(cat "$pid_file")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [ -r "/proc/$pid/cmdline" ] || return 1
  [[ "$(tr '\0' ' ' <"/proc/$pid/cmdline")" == "$command"* ]] || return 1
  echo "$pid"
}
dockerd_pid() { live_pid "$DOCKERD_PID_FILE" dockerd; }
registry_pid() { live_pid "$REGISTRY_PID_FILE" docker-registry; }

daemon_answers() { timeout 20 docker info >/dev/null 2>&1; }

# HTTP status of the registry's API root: 401 means our registry with authentication is up.
registry_status() {
  curl --silent --output /dev/null --write-out '%{http_code}' --max-time 5 "http://$1/v2/" || true
}

with_lock() {
  { mkdir -p "$TMP_DIR" && exec 9>"$LOCK_FILE"; } 2>/dev/null ||
    fail "cannot write $LOCK_FILE. Fix: run as the user who owns $TMP_DIR (root, for a Docker engine)."
  flock --timeout 600 9 || fail "another local-docker.sh holds $LOCK_FILE for more than 10 minutes"
}

install_missing_packages() {
  local packages=()
  if ! command -v docker >/dev/null || { ! command -v dockerd >/dev/null && ! daemon_answers; }; then
    packages+=(docker.io)
  fi
  command -v docker-registry >/dev/null || packages+=(docker-registry)
  command -v htpasswd >/dev/null || packages+=(apache2-utils)
  command -v curl >/dev/null || packages+=(curl)
  [ ${#packages[@]} -gt 0 ] || return 0

  is_root || no_docker "packages ${packages[*]} are missing and installing them needs root"
  command -v apt-get >/dev/null || no_docker "packages ${packages[*]} are missing and there is no apt-get"
  say "installing ${packages[*]}"
  apt-get update -qq || no_docker "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 apt-get install -y -qq --no-install-recommends "${packages[@]}" ||
    no_docker "apt-get install ${packages[*]} failed"
}

start_dockerd() {
  if daemon_answers; then
    say "Docker daemon answers: reusing it"
    return
  fi
  local pid
  if ! pid=$(dockerd_pid); then
    is_root || no_docker "no Docker daemon answers and starting one needs root"
    mkdir -p "$DOCKER_DIR"
    rm -f "$DOCKERD_PID_FILE"
    say "starting dockerd (log: $DOCKERD_LOG)"
    # setsid and closed descriptors: the daemon outlives this script and holds neither our lock
    # (fd 9) nor a caller's output pipe.
    setsid dockerd --bridge=none --iptables=false --ip6tables=false --pidfile "$DOCKERD_PID_FILE" \
      </dev/null >>"$DOCKERD_LOG" 2>&1 9>&- &
    pid=$!
    record_started dockerd
  fi
  local waited=0
  until daemon_answers; do
    if [ ! -d "/proc/$pid" ]; then
      tail -n 20 "$DOCKERD_LOG" >&2 || true
      no_docker "dockerd exited during startup (log above, full log: $DOCKERD_LOG)"
    fi
    if [ "$waited" -ge "$DOCKERD_START_SECONDS" ]; then
      tail -n 20 "$DOCKERD_LOG" >&2 || true
      no_docker "dockerd (pid $pid) did not answer 'docker info' within ${DOCKERD_START_SECONDS}s (log: $DOCKERD_LOG)"
    fi
    sleep 1
    waited=$((waited + 1))
  done
  say "dockerd is up (pid $pid)"
}

write_registry_credentials() {
  if [ ! -s "$REGISTRY_PASSWORD_FILE" ]; then
    (umask 077 && head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$REGISTRY_PASSWORD_FILE")
  fi
  chmod 600 "$REGISTRY_PASSWORD_FILE"
  local output
  # -i reads the password from stdin: it never appears on a command line.
  output=$(umask 077 && htpasswd -iBc "$REGISTRY_HTPASSWD" "$REGISTRY_USER" <"$REGISTRY_PASSWORD_FILE" 2>&1) ||
    fail "htpasswd could not write $REGISTRY_HTPASSWD: $output"
}

write_registry_config() {
  local addr=$1 secret
  secret=$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
  (
    umask 077
    cat >"$REGISTRY_CONFIG" <<EOF
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $REGISTRY_DIR/data
  delete:
    enabled: true
http:
  addr: $addr
  secret: $secret
auth:
  htpasswd:
    realm: local-registry
    path: $REGISTRY_HTPASSWD
EOF
  )
}

start_registry() {
  local pid addr status
  if pid=$(registry_pid); then
    addr=$(cat "$REGISTRY_ADDR_FILE")
    [ "$addr" = "127.0.0.1:$REGISTRY_PORT" ] ||
      fail "the registry already runs on $addr, not 127.0.0.1:$REGISTRY_PORT. Fix: run 'scripts/local-docker.sh down registry' first, or unset REGISTRY_PORT."
  else
    addr=127.0.0.1:$REGISTRY_PORT
    status=$(registry_status "$addr")
    [ "$status" = 000 ] ||
      fail "something else already answers on $addr (HTTP $status). Fix: stop it, or set REGISTRY_PORT to a free port."
    mkdir -p "$REGISTRY_DIR/data"
    write_registry_credentials
    write_registry_config "$addr"
    echo "$addr" >"$REGISTRY_ADDR_FILE"
    say "starting docker-registry on $addr (log: $REGISTRY_LOG)"
    setsid docker-registry serve "$REGISTRY_CONFIG" </dev/null >>"$REGISTRY_LOG" 2>&1 9>&- &
    pid=$!
    echo "$pid" >"$REGISTRY_PID_FILE"
    record_started registry
  fi
  local waited=0
  until [ "$(registry_status "$addr")" = 401 ]; do
    if [ ! -d "/proc/$pid" ]; then
      tail -n 20 "$REGISTRY_LOG" >&2 || true
      fail "docker-registry exited during startup (log above, full log: $REGISTRY_LOG)"
    fi
    [ "$waited" -lt "$REGISTRY_START_SECONDS" ] ||
      fail "docker-registry (pid $pid) did not answer 401 on http://$addr/v2/ within ${REGISTRY_START_SECONDS}s (log: $REGISTRY_LOG)"
    sleep 1
    waited=$((waited + 1))
  done
  say "registry is up on $addr (pid $pid, user $REGISTRY_USER, password in $REGISTRY_PASSWORD_FILE)"
}

# Copies a file to the same path under the root file system, following symbolic links so the
# image holds real files.
copy_into_rootfs() {
  local source=$1
  mkdir -p "$BASE_ROOTFS$(dirname "$source")"
  cp -L "$source" "$BASE_ROOTFS$source"
}

# The shared libraries the dynamic loader needs for a binary, as ldd resolves them on this machine.
shared_libraries() {
  ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
}

cleanup_rootfs() {
  if [ -n "$BASE_ROOTFS" ]; then rm -rf "$BASE_ROOTFS"; fi
}

# A minimal image in the shape of the official node image: node and npm, a POSIX shell and the few
# coreutils a Dockerfile RUN uses, root and a `node` user (uid/gid 1000), /tmp, CA certificates.
build_base_image() {
  local image=$1
  if docker image inspect "$image" >/dev/null 2>&1; then
    say "base image $image is present"
    return
  fi
  is_root || fail "building $image needs root (the rootfs gives /home/node to uid 1000); rerun as root"
  command -v ldd >/dev/null || fail "ldd is missing: install libc-bin"

  local node_bin npm_dir bin_dir shell tool link source
  node_bin=$(readlink -f "$(type -P node)")
  npm_dir=$(readlink -f "$(npm root -g 2>/dev/null)/npm")
  [ -f "$npm_dir/bin/npm-cli.js" ] || fail "npm is not at $npm_dir (from 'npm root -g'); reinstall node with npm"
  bin_dir=$(dirname "$node_bin")
  shell=$(readlink -f /bin/sh)

  BASE_ROOTFS=$(mktemp -d /tmp/node-base-rootfs.XXXXXX)
  trap cleanup_rootfs EXIT
  say "building $image from $node_bin ($(node --version)) and $npm_dir"

  # Mirror this machine's merged-/usr links (/bin -> usr/bin, ...) so every path ldd prints and
  # the loader searches exists in the image.
  for link in /bin /sbin /lib /lib32 /lib64 /libx32; do
    if [ -L "$link" ]; then
      mkdir -p "$BASE_ROOTFS/$(readlink "$link")"
      ln -s "$(readlink "$link")" "$BASE_ROOTFS$link"
    fi
  done

  local binaries=("$node_bin" "$shell")
  for tool in basename cat chmod chown cp dirname env false head id ln ls mkdir mv pwd rm rmdir sleep \
    sort tail touch tr true uname wc; do
    binaries+=("$(readlink -f "$(type -P "$tool")")")
  done
  for source in "${binaries[@]}"; do copy_into_rootfs "$source"; done
  for source in $(for b in "${binaries[@]}"; do shared_libraries "$b"; done | sort -u); do
    copy_into_rootfs "$source"
  done
  # A tool found elsewhere (say /usr/local/bin) must still be on PATH by its usual name.
  for tool in "${binaries[@]:2}"; do
    [ -e "$BASE_ROOTFS/usr/bin/$(basename "$tool")" ] || ln -s "$tool" "$BASE_ROOTFS/usr/bin/$(basename "$tool")"
  done
  [ -e "$BASE_ROOTFS/bin/sh" ] || ln -s "$shell" "$BASE_ROOTFS/bin/sh"

  mkdir -p "$BASE_ROOTFS$(dirname "$npm_dir")"
  cp -a "$npm_dir" "$BASE_ROOTFS$npm_dir"
  for tool in npm npx; do
    printf '#!/bin/sh\nexec %s %s "$@"\n' "$node_bin" "$npm_dir/bin/$tool-cli.js" >"$BASE_ROOTFS$bin_dir/$tool"
    chmod 755 "$BASE_ROOTFS$bin_dir/$tool"
  done

  mkdir -p "$BASE_ROOTFS"/{etc,dev,proc,sys,tmp,root,home/node}
  chmod 1777 "$BASE_ROOTFS/tmp"
  chmod 700 "$BASE_ROOTFS/root"
  chown 1000:1000 "$BASE_ROOTFS/home/node"
  cat >"$BASE_ROOTFS/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
node:x:1000:1000::/home/node:/bin/sh
EOF
  cat >"$BASE_ROOTFS/etc/group" <<'EOF'
root:x:0:
node:x:1000:
EOF
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$BASE_ROOTFS/etc/nsswitch.conf"
  if [ -d /etc/ssl/certs ]; then
    mkdir -p "$BASE_ROOTFS/etc/ssl"
    cp -rL /etc/ssl/certs "$BASE_ROOTFS/etc/ssl/certs"
  fi

  tar --numeric-owner -C "$BASE_ROOTFS" -cf - . |
    docker import \
      --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
      --change "ENV NODE_VERSION=$(node -p process.versions.node)" \
      --change 'CMD ["node"]' \
      --message "node $(node --version) and npm from $(uname -n), by scripts/local-docker.sh" \
      - "$image" >/dev/null
  cleanup_rootfs
  BASE_ROOTFS=
  docker run --rm --network host "$image" node -e 'process.exit(0)' ||
    fail "the imported $image cannot run node; remove it with 'docker rmi $image' and see the output above"
  say "base image $image is built"
}

cmd_up() {
  [ "${1:-}" = --quiet ] && QUIET=true
  with_lock
  install_missing_packages
  start_dockerd
  start_registry
  build_base_image "$(base_image)"
}

# Stops a process this script started, by its pid file only.
stop_by_pid_file() {
  local name=$1 pid_file=$2 pid waited=0
  if ! pid=$(live_pid "$pid_file" "$name"); then
    say "$name: not started by this script, nothing to stop"
    rm -f "$pid_file"
    return
  fi
  say "stopping $name (pid $pid)"
  kill -TERM "$pid"
  while [ -d "/proc/$pid" ]; do
    [ "$waited" -lt "$STOP_SECONDS" ] || fail "$name (pid $pid) still runs ${STOP_SECONDS}s after SIGTERM"
    sleep 1
    waited=$((waited + 1))
  done
  rm -f "$pid_file"
}

cmd_down() {
  local components=("$@") component
  [ ${#components[@]} -gt 0 ] || components=(registry dockerd)
  with_lock
  for component in "${components[@]}"; do
    case $component in
      registry) stop_by_pid_file docker-registry "$REGISTRY_PID_FILE" ;;
      dockerd) stop_by_pid_file dockerd "$DOCKERD_PID_FILE" ;;
      *) fail "down: unknown component '$component'. Use: down [dockerd|registry]..." ;;
    esac
  done
}

cmd_status() {
  local ready=true daemon=false pid image addr status
  if command -v docker >/dev/null && daemon_answers; then
    daemon=true
    if pid=$(dockerd_pid); then
      echo "dockerd: running, started by this script (pid $pid)"
    else
      echo "dockerd: running, not started by this script"
    fi
  else
    echo "dockerd: no daemon answers 'docker info'"
    ready=false
  fi
  addr=$(registry_host)
  if pid=$(registry_pid); then
    status=$(registry_status "$addr")
    echo "registry: running on $addr (pid $pid), HTTP $status on /v2/"
    [ "$status" = 401 ] || ready=false
  else
    echo "registry: not running"
    ready=false
  fi
  [ -s "$REGISTRY_PASSWORD_FILE" ] || ready=false
  image=$(base_image)
  if [ "$daemon" = false ]; then
    echo "base image: $image unknown (no daemon)"
  elif docker image inspect "$image" >/dev/null 2>&1; then
    echo "base image: $image present"
  else
    echo "base image: $image absent"
    ready=false
  fi
  [ "$ready" = true ]
}

cmd_env() {
  printf 'REGISTRY_HOST=%q\n' "$(registry_host)"
  printf 'REGISTRY_USER=%q\n' "$REGISTRY_USER"
  printf 'REGISTRY_PASSWORD_FILE=%q\n' "$REGISTRY_PASSWORD_FILE"
  printf 'BASE_IMAGE=%q\n' "$(base_image)"
}

case "${1:-}" in
  up) shift && cmd_up "$@" ;;
  down) shift && cmd_down "$@" ;;
  status) cmd_status ;;
  env) cmd_env ;;
  *) fail "usage: $0 up [--quiet] | down [dockerd|registry]... | status | env" ;;
esac
