"""Operators' view of a running Loket (issue 7): masked structured logs, one line per update,
Prometheus metrics and a health check. See README "Logs and metrics"."""
