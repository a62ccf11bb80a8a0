"""Several ``loket run`` workers on one PostgreSQL database (issue 7 item 3).

``registry.py``: each worker's row, heartbeat and liveness lock; ``inbox.py``: webhook updates
recorded durably and processed in order per citizen by whichever worker holds that citizen's
lock; ``rate.py``: the broadcast rate shared by all workers. See docs/deployment.md.
"""
