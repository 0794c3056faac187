"""The desk's other books, beside the machines' registers. In order:

  common.py      what they share: ISO times, a local day as a UTC range
  mail.py        the mail register (信件记录本): letters to pigeonholes, accountable items notified,
                 ID-checked pickup, 查无此人 items held and returned to the post office
  complaints.py  complaints (客户投诉记录单) and tenant visits (客户访问记录单), replies due
  rooms.py       meeting rooms, bookings without overlap, the preparation checklist, billing
  papers.py      newspapers (报刊): subscriptions, deliveries checked, copies held, 代办增订 errands
  due.py         every register's deadlines in one list (``gatewayctl due``, ``gatewayctl status``)

Each register's routes are in ``gatewayd/api/desk.py``, its commands in ``gatewayd/ctl/desk.py``.
Deadlines are computed from the injected clock when asked; nothing is deleted that the procedures
say to keep (entries change state, audited).
"""
