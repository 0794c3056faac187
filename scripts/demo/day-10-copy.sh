# Copying (sourced by demo.sh): a copy ticket on the Sharp MFP reads its meter when it opens and
# when it is finished, and the delta of the copy counters is billed per the price list; the
# customer's own count is kept beside it. Then the Kyocera is asleep when its ticket is finished:
# the ticket waits in awaiting_meter and the daemon completes it once the copier answers.
echo "== copies for a tenant on the Sharp MFP, billed by its meter"
copy=$(ctl --json ticket open copy --company "上海宏达科技有限公司" --room 2001 --device sharp-mfp \
       --param media=A4 --param sets=2 | ticket_id)
ctl ticket start "$copy"
snmplab copies sharp 20              # 2 sets of 10 mono sides ...
snmplab copies sharp 4 --colour      # ... and 2 sets of 2 colour sides
ctl ticket finish "$copy"            # the closing reading: the charges explained
ctl copy customer-count "$copy" 24 --note "checked at the desk"
ctl copy status "$copy"
ctl ticket complete "$copy" --signed-by "王经理"
ctl ticket settle "$copy" --method account

echo "== the Kyocera falls asleep before the closing reading"
sleepy=$(ctl --json ticket open copy --guest "赵先生" --phone 13700137000 --device kyocera-mfp \
         --param media=A4 | ticket_id)
ctl ticket start "$sleepy"
snmplab copies printmaster_kyocera_cs4053ci 6 --media a4
snmplab sleep printmaster_kyocera_cs4053ci
ctl ticket finish "$sleepy"          # no answer: awaiting_meter
ctl copy status "$sleepy"
snmplab wake printmaster_kyocera_cs4053ci
for _ in $(seq 100); do
    state=$(ctl --json ticket show "$sleepy" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')
    [ "$state" = awaiting_customer ] && break
    sleep 0.3
done
[ "$state" = awaiting_customer ] || { echo "the daemon did not complete $sleepy after the copier woke"; exit 1; }
ctl ticket show "$sleepy"

echo "== the copiers"
ctl devices
ctl devices show kyocera-mfp
