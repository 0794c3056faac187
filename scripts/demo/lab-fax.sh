# The fax lab (sourced by demo.sh): spandsp's T.31 Class 1 modem on a pty at $lab/fax/ttyFAX
# (config/demo.toml's modem "fax1"), whose line leads to a spandsp fax machine that answers the
# daemon's calls and keeps what it receives in $lab/fax/rx-<n>.tif. `fax_lab --send TIFF`
# restarts it to ring the daemon and send TIFF from "+86 10 6552 8888" (routed to Acme by the
# config): the daemon sees its modem vanish and come back, then answers. Call records (JSON
# lines) go to $demo/fax-lab.log.
echo "== starting the fax lab in $lab/fax"
rm -rf "$lab/fax"
mkdir -p "$lab/fax"
make -s -C lab/faxmodem
fax_lab() {
    if [ -n "${fax_lab_pid:-}" ]; then
        kill -TERM "$fax_lab_pid" 2>/dev/null || true
        wait "$fax_lab_pid" 2>/dev/null || true
        # $! may be the subshell around the peer, not the peer: the peer itself is gone (and
        # will not remove the next one's link on its way out) once its link is.
        for _ in $(seq 100); do [ -e "$lab/fax/ttyFAX" ] || break; sleep 0.1; done
    fi
    background lab/faxmodem/faxmodem --link "$lab/fax/ttyFAX" --receive "$lab/fax/rx-%d.tif" \
        --ident "+86 10 6552 8888" --speed 3 --timeout 1800 "$@" >>"$demo/fax-lab.log" 2>>"$demo/fax-lab.err"
    fax_lab_pid=$!
    for _ in $(seq 100); do [ -e "$lab/fax/ttyFAX" ] && return; sleep 0.1; done
    echo "the fax lab did not start:"; cat "$demo/fax-lab.err"; exit 1
}
fax_lab
# The desk's second modem, a Class 2.0 one (config/demo.toml's "fax2"), on its own line to a
# second spandsp fax machine that keeps what it receives in $lab/fax/rx2-<n>.tif.
background lab/faxmodem/faxmodem --class 2.0 --link "$lab/fax/ttyFAX2" \
    --receive "$lab/fax/rx2-%d.tif" --ident "+853 2888 0000" --speed 3 --timeout 1800 \
    >>"$demo/fax-lab2.log" 2>>"$demo/fax-lab2.err"
for _ in $(seq 100); do [ -e "$lab/fax/ttyFAX2" ] && break; sleep 0.1; done
[ -e "$lab/fax/ttyFAX2" ] || { echo "the Class 2.0 fax lab did not start:"; cat "$demo/fax-lab2.err"; exit 1; }
