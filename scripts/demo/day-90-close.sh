# The desk closes: the day's tickets, one explained, and its audit trail.
echo "== the day's tickets"
ctl ticket list
ctl ticket show "$errand"
ctl audit --ticket "$errand"
