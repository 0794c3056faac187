# The SNMP lab (sourced by demo.sh): snmpsim on a free UDP port of 127.0.0.1 (in $lab/snmp/port, which
# demo.sh writes into this run's configuration) serving real copiers' recorded walks (community =
# recording name; config/demo.toml names the Sharp and the Kyocera). `snmplab`
# makes pages happen on them, or puts one to sleep, from the day's parts.
echo "== starting the SNMP lab in $lab/snmp"
rm -rf "$lab/snmp"   # fresh counters every run: the demo's new database has no readings of them
background "$root/.venv/bin/python" -m lab.snmp.agent serve --recordings tests/data/snmprec \
    --workdir "$lab/snmp" >"$demo/snmp-lab.log" 2>&1
for _ in $(seq 300); do [ -e "$lab/snmp/port" ] && break; sleep 0.1; done
[ -e "$lab/snmp/port" ] || { echo "the SNMP lab did not start:"; cat "$demo/snmp-lab.log"; exit 1; }
snmplab() {
    echo "+ lab: $*" >&2
    "$root/.venv/bin/python" -m lab.snmp.agent "$1" --workdir "$lab/snmp" "${@:2}" >/dev/null
}
