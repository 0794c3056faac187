# The CUPS lab (sourced by demo.sh): a private cupsd on $lab/cups/cups.sock with queues ps, pdf
# and raw (config/demo.toml maps them to devices) and sample documents in $lab/cups/docs.
# A fresh one every run: cupsd keeps finished jobs, and the old run's jobs name ticket numbers
# this run's new database hands out again.
echo "== starting the CUPS lab in $lab/cups"
rm -rf "$lab/cups"
background "$root/.venv/bin/python" -m lab.cups.cupsd --dir "$lab/cups" >"$demo/cups-lab.log" 2>&1
for _ in $(seq 200); do grep -q '^socket=' "$demo/cups-lab.log" && break; sleep 0.1; done
grep '^socket=' "$demo/cups-lab.log" || { echo "the CUPS lab did not start:"; cat "$demo/cups-lab.log"; exit 1; }
