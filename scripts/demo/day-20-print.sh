# Typing and printing (sourced by demo.sh): a tenant's letter typed, a proof printed for them to
# check, then the final; each job comes back from CUPS and lands on the ticket (the proof free,
# the typed pages per page, the extra copy as prints). Then a guest's file printed straight to the
# lobby printer, found by its queue's single open ticket.
docs="$lab/cups/docs"

echo "== typing for a tenant: proof, corrections, final"
typing=$(ctl --json ticket open print --company "Acme Trading Ltd" --room 1205 --device desk-laser \
         --param service=typing --note "lease renewal letter, 3 pages" | ticket_id)
ctl ticket start "$typing"
ctl print --ticket "$typing" --proof --wait 30 "$docs/3p-A4-mono.pdf"
ctl print --ticket "$typing" --copies 2 --duplex --wait 30 "$docs/3p-A4-mono.pdf"

echo "== a guest prints a file on the lobby printer (no ticket id in the job: the queue's open ticket)"
guest=$(ctl --json ticket open print --guest "Ms Chen" --phone 13900139000 --device lobby-laser | ticket_id)
lp -h "$lab/cups/cups.sock" -d raw -o print-color-mode=monochrome -t "boarding pass" "$docs/1p-A4-mono.pdf"
for _ in $(seq 150); do
    ctl --json ticket show "$guest" 2>/dev/null | python3 -c 'import json,sys; sys.exit(not json.load(sys.stdin)["charges"])' \
        && break
    sleep 0.2
done

for t in "$typing" "$guest"; do
    charges=$(ctl --json ticket show "$t" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["charges"]))')
    [ "$charges" -gt 0 ] || { echo "no print charges arrived on $t"; exit 1; }
done
ctl ticket finish "$typing"
ctl ticket complete "$typing" --signed-by "Ms Li"   # shows the ticket, every charge explained
ctl ticket show "$guest"
