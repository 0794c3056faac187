# Shared by the demo's parts (sourced): where things are, and how to drive gatewayctl.
root=$(pwd)
lab=/tmp/gatewayd-lab            # fixed: config/demo.toml points at the labs here
export GATEWAYD_SOCKET="$demo/api.sock"
pids=()

ctl() { echo "+ gatewayctl $*" >&2; "$root/.venv/bin/gatewayctl" "$@"; }
ticket_id() { python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }
# Start a lab process in the background; it is stopped when the demo ends.
background() { "$@" & pids+=($!); }
