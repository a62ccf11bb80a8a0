"""Office queue numbers (antrean) booked from the chat (issue 18).

``quota.py`` reads the region file's ``queues`` block (days, sessions, quota, booking window)
and computes which dates and sessions are still free; ``store.py`` takes and frees slots in
the database so that the last slot goes to exactly one citizen; ``actions.py`` gives flows
the ``core.antrean_*`` actions. See docs/booking.md.
"""
