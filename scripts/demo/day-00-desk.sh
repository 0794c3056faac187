# The desk opens: the roster, a copy charged to account, an errand, an unclaimed print job.
echo "== the tenant roster"
cat >"$demo/roster.csv" <<'CSV'
company,rooms,contact,phone,email
Acme Trading Ltd,1203;1205,Ms Li,021-5555 1234,li@acme.example
上海宏达科技有限公司,2001,王经理,021-6666 8888,
CSV
ctl tenant import "$demo/roster.csv"
ctl tenant list

echo "== a copy job for a tenant, charged to the monthly account"
copy=$(ctl --json ticket open copy --company "Acme Trading Ltd" --room 1203 --param media=A4 --param sets=2 \
       | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
ctl ticket start "$copy"
ctl charge "$copy" "A4 copies, mono, simplex" 40 0.50 --unit side
ctl ticket finish "$copy"
ctl ticket complete "$copy" --signed-by "Ms Li"
ctl ticket settle "$copy" --method account

echo "== an errand for a walk-in guest: fees up front (temporary receipt), formal receipt at the end"
errand=$(ctl --json ticket open errand --guest "张先生" --phone 13800138000 --note "courier to Pudong" \
         | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
ctl quote errand "Courier to Pudong" 30.00                        # the price shown and accepted first
ctl quote errand "Courier to Pudong" 30.00 --ticket "$errand"     # ... and put on the form
ctl pay "$errand" 30.00                                           # the courier fee, collected up front
ctl ticket start "$errand"
ctl ticket finish "$errand"
ctl ticket complete "$errand" --signed-by "张先生"
ctl ticket settle "$errand"

echo "== a print job nobody claimed: kept as unattributed, then attached by staff"
ctl events add --kind print_job --device lobby-laser --key "lobby-laser/77/2026-11-26T02:00:00Z" \
    --at "$(date -Iseconds)" --payload '{"pages": 3, "copies": 1, "media": "A4"}'
print=$(ctl --json ticket open print --guest "Walk-in guest" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
event=$(ctl --json events list --unattributed --kind print_job | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
ctl events attach "$event" "$print"
ctl ticket cancel "$print" --reason "guest left without the prints"

