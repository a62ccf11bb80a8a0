"""Status notifications: a citizen follows an application after a status check and is told,
once, of every change.

* ``source.py``   which OPDs and statuses, and reading the current status;
* ``changes.py``  a change -> updated follows and outbox rows, in one transaction;
* ``hooks.py``    ``POST /hooks/{opd}``, the OPDs' signed pushes;
* ``poller.py``   polling for OPDs that cannot push;
* ``delivery.py`` the outbox -> messages, through a channel-neutral ``Deliver``;
* ``actions.py``  core actions: follow, list and stop following (``core.*_application``...);
* ``service.py``  building and running all of it next to a :class:`~bot.app.Loket`.
"""
