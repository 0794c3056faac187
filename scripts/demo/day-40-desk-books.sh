# The afternoon's books: a complaint answered in time, a meeting room booked for tomorrow with its
# preparation checklist, billed by booked time from the price list; newspapers; what is due.
echo "== a complaint (客户投诉记录单), answered within its 3 days"
complaint=$(ctl --json complaint add "Ms Li" "the lobby copier jammed twice this morning" \
            --department engineering --company "Acme Trading Ltd" | ticket_id)
ctl complaint note "$complaint" "engineering replaced the fuser unit"
ctl complaint note "$complaint" "told Ms Li the copier is fixed; apologised" --reply
ctl complaint close "$complaint" "fuser replaced; copier back in service" --view "satisfied 满意"
ctl complaint list

echo "== a meeting room booked for tomorrow afternoon, checklist and bill"
tomorrow=$(TZ=Asia/Shanghai date -d tomorrow +%Y-%m-%d)
ctl room add "Board Room 董事会议室" --capacity 12 --equipment projector --equipment "video conference"
booking=$(ctl --json booking add "Board Room 董事会议室" "$tomorrow 14:00" "$tomorrow 15:40" \
          --company "Acme Trading Ltd" --contact-room 1203 --attendees 10 --extra tea=10 --extra projector=1 \
          --purpose "quarterly board meeting" | ticket_id)
ctl booking add "Board Room 董事会议室" "$tomorrow 15:00" "$tomorrow 16:00" --guest "张先生" \
    || echo "(refused as expected: the room is taken)"
ctl booking done "$booking" confirm
ctl booking done "$booking" request_form
ctl booking show "$booking"
ctl booking bill "$booking"

echo "== newspapers (报刊): the day's delivery against the subscriptions"
ctl papers subscribe "Acme Trading Ltd" 解放日报 --copies 2 --from "$(TZ=Asia/Shanghai date +%Y-01-01)" \
    --until "$(TZ=Asia/Shanghai date +%Y-12-31)"
ctl papers delivery 解放日报 1                                     # one short: recorded for the post office
ctl papers hold "Acme Trading Ltd" 解放日报 --copies 1
ctl papers day

echo "== the typing and copy registers, and what is due"
ctl register copy --date "$(TZ=Asia/Shanghai date +%Y-%m-%d)"
ctl due --hours 48
ctl status
