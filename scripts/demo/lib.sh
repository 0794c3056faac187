# Shared by the demo's parts (sourced): where things are, and how to drive gatewayctl.
root=$(pwd)
lab=$demo/lab                    # this run's own: config/demo.toml is written for it (demo.sh)
export GATEWAYD_SOCKET="$demo/api.sock"
pids=()

ctl() { echo "+ gatewayctl $*" >&2; "$root/.venv/bin/gatewayctl" "$@"; }
ticket_id() { python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }
# Start a lab process in the background; it is stopped when the demo ends.
background() { "$@" & pids+=($!); }
# SIGTERM to these processes, SIGKILL to any still there after 10 s.
stop() {
    kill -TERM "$@" 2>/dev/null || return 0
    for _ in $(seq 100); do kill -0 "$@" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$@" 2>/dev/null || true
}
