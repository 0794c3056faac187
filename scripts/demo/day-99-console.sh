# The desk in a browser: the day just walked, in the console. On a terminal the daemon stays up
# for it until Ctrl-C; run without a terminal (CI, a pipe) the demo ends as before.
echo "== the front-desk console: open this one-time link (it works once, for two minutes)"
ctl console --print-url
if [ -t 0 ]; then
    echo "the daemon keeps running for the console; press Ctrl-C to stop the demo"
    wait "$daemon_pid" || true
fi
