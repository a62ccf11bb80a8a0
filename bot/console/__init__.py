"""The admin web console (issue 6): flows, versions, announcements and analytics in a browser.

Server-rendered HTML with a little plain JavaScript (``static/console.js``), no build step.
Signed in through a one-time link the bot sends after /admin; see docs/console.md.
"""
