"""Live handoff from the bot to an OPD officer (issue 15).

``sla`` counts office hours only (a pure function); ``store`` holds the ticket queries;
``service`` is the citizen side in the front desk (open a ticket, route messages while it is
open, "kembali ke bot") and the outbox loop that delivers officer replies once each;
``bot.console.inbox`` is the officer's inbox. See docs/officer-guide.md.
"""
