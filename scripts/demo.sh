#!/usr/bin/env bash
# `make demo`: the lab's virtual devices, the daemon on SQLite in a temp state dir, and a business
# day at the front desk driven through gatewayctl. Parts live in scripts/demo/:
#   lab-*.sh  start a virtual device (sourced before the daemon starts)
#   day-*.sh  a stretch of the day (sourced in order once the daemon answers)
# Each run has a directory of its own (/tmp/gatewayd-demo.XXXXXX: labs, configuration, state, logs)
# and takes only free ports, so two demos at once do not meet. Whatever ends it (the day done, a
# failure, Ctrl-C), its processes are stopped; its directory is removed unless the day failed (kept
# for its logs) or GATEWAYD_DEMO_KEEP is set.
set -euo pipefail
cd "$(dirname "$0")/.."
demo=$(mktemp -d /tmp/gatewayd-demo.XXXXXX)
chmod 755 "$demo"
source scripts/demo/lib.sh

cleanup() {
    local status=$?
    trap - EXIT INT TERM HUP
    [ -n "${daemon_pid:-}" ] && stop "$daemon_pid"
    [ ${#pids[@]} -eq 0 ] || stop "${pids[@]}"
    wait 2>/dev/null || true
    if [ -n "${GATEWAYD_DEMO_KEEP:-}" ] || { [ "$status" -ne 0 ] && [ "$status" -lt 128 ]; }; then
        echo "demo state kept in $demo (daemon log: $demo/daemon.log); rm -rf it when done" >&2
    else
        rm -rf "$demo"
        echo "removed $demo (GATEWAYD_DEMO_KEEP=1 make demo keeps it)" >&2
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT     # Ctrl-C: the EXIT trap cleans up
trap 'exit 143' TERM
trap 'exit 129' HUP

mkdir -p "$lab"
chmod 755 "$lab"
for part in scripts/demo/lab-*.sh; do [ -e "$part" ] && source "$part"; done

# This run's configuration: config/demo.toml with this run's lab directory and SNMP port in place of
# the ones it is written with (/tmp/gatewayd-lab, 16161), and the price list it includes beside it.
sed -e "s|/tmp/gatewayd-lab|$lab|g" -e "s|^port = 16161\$|port = $(cat "$lab/snmp/port")|" \
    config/demo.toml >"$demo/gatewayd.toml"
cp config/rates.toml "$demo/rates.toml"
if grep -n '^[^#]*\(/tmp/gatewayd-lab\|16161\)' "$demo/gatewayd.toml"; then
    echo "config/demo.toml names the lab in a way demo.sh does not rewrite (above)" >&2
    exit 1
fi

echo "== starting gatewayd on SQLite in $demo"
.venv/bin/gatewayd check-config "$demo/gatewayd.toml"
.venv/bin/gatewayd run --config "$demo/gatewayd.toml" --state-dir "$demo/state" --socket "$GATEWAYD_SOCKET" \
    >"$demo/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 100); do [ -S "$GATEWAYD_SOCKET" ] && break; sleep 0.1; done
ctl status

for part in scripts/demo/day-*.sh; do source "$part"; done
