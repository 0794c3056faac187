# The desk closes: the day's tickets, one explained, and its audit trail.
echo "== the day's tickets"
ctl ticket list
ctl ticket show "$errand"
ctl audit --ticket "$errand"

echo "== the month so far: meters against bills (CSV for accounting, HTML with charts)"
ctl report monthly "$(TZ=Asia/Shanghai date +%Y-%m)" --csv "$demo/reconciliation.csv" --html "$demo/reconciliation.html"
