#!/usr/bin/env bash
# `make demo`: the lab's virtual devices, the daemon on SQLite in a temp state dir, and a business
# day at the front desk driven through gatewayctl. Parts live in scripts/demo/:
#   lab-*.sh  start a virtual device (sourced before the daemon starts)
#   day-*.sh  a stretch of the day (sourced in order once the daemon answers)
set -euo pipefail
cd "$(dirname "$0")/.."
demo=$(mktemp -d /tmp/gatewayd-demo.XXXXXX)
chmod 755 "$demo"
source scripts/demo/lib.sh

cleanup() {
    [ -n "${daemon_pid:-}" ] && kill -TERM "$daemon_pid" 2>/dev/null && wait "$daemon_pid" || true
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    echo "demo state kept in $demo (daemon log: $demo/daemon.log)"
}
trap cleanup EXIT

mkdir -p "$lab"
chmod 755 "$lab"
for part in scripts/demo/lab-*.sh; do [ -e "$part" ] && source "$part"; done

echo "== starting gatewayd on SQLite in $demo"
.venv/bin/gatewayd check-config config/demo.toml
.venv/bin/gatewayd run --config config/demo.toml --state-dir "$demo/state" --socket "$GATEWAYD_SOCKET" \
    >"$demo/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 100); do [ -S "$GATEWAYD_SOCKET" ] && break; sleep 0.1; done
ctl status

for part in scripts/demo/day-*.sh; do source "$part"; done
