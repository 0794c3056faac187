# The morning's post: letters sorted to pigeonholes by the roster, a registered letter logged,
# its tenant called and the letter picked up against an ID (type and last digits only), and an
# EMS item for nobody on the roster held (查无此人) for the post office.
echo "== the morning's mail (信件记录本)"
ctl mail log letter --company "Acme Trading Ltd" --room 1203 --count 6
ctl mail log letter --company "上海宏达科技有限公司" --room 2001 --count 3
ctl mail log letter --company "Acme Trading Ltd" --room 2001 --count 1     # company and room disagree: flagged
registered=$(ctl --json mail log registered --company "Acme Trading Ltd" --room 1205 --addressee "Ms Li" \
             --tracking RR123456789CN | ticket_id)
ctl mail log ems --company "Globex Shipping" --room 0808 --addressee "Mr Smith" --tracking EE987654321CN
ctl mail to-call
ctl mail called "$registered"
ctl mail pick-up "$registered" --by "李明" --id-type resident_id --id-last 123X
ctl mail pigeonholes
ctl mail list
